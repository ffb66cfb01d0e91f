/**
 * Rows in PostgreSQL's binary COPY format: every field is its length and its
 * bytes, so text needs no escaping and numbers and times no printing. Built
 * in large buffers, each handed on once full.
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_MS = 946_684_800_000;
const BLOCK_BYTES = 1 << 20;
const TWO_32 = 2 ** 32;

export class BinaryCopyWriter {
  #buf: Buffer;
  #at = 0;
  readonly #full: Buffer[] = [];

  constructor() {
    this.#buf = Buffer.allocUnsafe(BLOCK_BYTES);
    SIGNATURE.copy(this.#buf, 0);
    this.#buf.writeInt32BE(0, SIGNATURE.length); // flags
    this.#buf.writeInt32BE(0, SIGNATURE.length + 4); // header extension length
    this.#at = SIGNATURE.length + 8;
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): void {
    this.#room(2);
    this.#buf.writeInt16BE(fields, this.#at);
    this.#at += 2;
  }

  /** A text (or json) field; null is NULL. */
  text(s: string | null): void {
    if (s === null) return this.#null();
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.#room(4 + s.length * 3);
    const n = this.#buf.write(s, this.#at + 4, 'utf8');
    this.#buf.writeInt32BE(n, this.#at);
    this.#at += 4 + n;
  }

  float8(v: number | null): void {
    if (v === null) return this.#null();
    this.#room(12);
    this.#buf.writeInt32BE(8, this.#at);
    this.#buf.writeDoubleBE(v, this.#at + 4);
    this.#at += 12;
  }

  bool(v: boolean): void {
    this.#room(5);
    this.#buf.writeInt32BE(1, this.#at);
    this.#buf[this.#at + 4] = v ? 1 : 0;
    this.#at += 5;
  }

  /** An int8 field (any safe integer). */
  int8(v: number): void {
    this.#room(12);
    this.#buf.writeInt32BE(8, this.#at);
    const hi = Math.floor(v / TWO_32);
    this.#buf.writeInt32BE(hi, this.#at + 4);
    this.#buf.writeUInt32BE(v - hi * TWO_32, this.#at + 8);
    this.#at += 12;
  }

  /** A timestamptz field from milliseconds since the Unix epoch. */
  timestamptz(ms: number): void {
    this.int8((ms - PG_EPOCH_MS) * 1000);
  }

  /** Buffers filled so far (taken: the writer forgets them). */
  take(): Buffer[] {
    return this.#full.splice(0);
  }

  /** The trailer and everything not taken yet. */
  end(): Buffer[] {
    this.#room(2);
    this.#buf.writeInt16BE(-1, this.#at);
    this.#at += 2;
    this.#full.push(this.#buf.subarray(0, this.#at));
    this.#buf = Buffer.alloc(0);
    this.#at = 0;
    return this.take();
  }

  #null(): void {
    this.#room(4);
    this.#buf.writeInt32BE(-1, this.#at);
    this.#at += 4;
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#buf.length) return;
    this.#full.push(this.#buf.subarray(0, this.#at));
    this.#buf = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, bytes));
    this.#at = 0;
  }
}
