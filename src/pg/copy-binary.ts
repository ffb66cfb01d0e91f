/**
 * Rows in PostgreSQL's binary COPY format, encoded once when their line is
 * parsed and sent later, any subset of them, as one COPY stream. Every
 * field is its length and its bytes, so text needs no escaping and numbers
 * and times no printing; the records live in one growing buffer outside the
 * JS heap, so a chunk's parsed rows do not stay alive as objects until its
 * commit (holding them had made garbage collection a third of a worker's
 * CPU).
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** The signature, flags (0) and header extension length (0). */
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
const TRAILER = Buffer.from([0xff, 0xff]);
/** Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 2 ** 32;
/** Slices of at most this many bytes are handed to the COPY stream. */
const SEND_BYTES = 1 << 20;

export class CopyRecords {
  #buf: Buffer;
  #at = 0;
  readonly #starts: number[] = [];

  /** `expectBytes`: a guess of the total size (a chunk's input size is close), to grow seldom. */
  constructor(expectBytes = 1 << 16) {
    this.#buf = Buffer.allocUnsafe(Math.max(1024, expectBytes));
  }

  /** Starts a record of `fields` fields; returns its number. */
  begin(fields: number): number {
    this.#room(2);
    this.#starts.push(this.#at);
    this.#buf.writeInt16BE(fields, this.#at);
    this.#at += 2;
    return this.#starts.length - 1;
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

  /** A bool field; its value can be changed later with `setLastBool`. */
  bool(v: boolean): void {
    this.#room(5);
    this.#buf.writeInt32BE(1, this.#at);
    this.#buf[this.#at + 4] = v ? 1 : 0;
    this.#at += 5;
  }

  /** Sets the record's last field, which must be a bool. */
  setLastBool(record: number, v: boolean): void {
    this.#buf[this.#end(record) - 1] = v ? 1 : 0;
  }

  /**
   * A COPY stream (header, the records in the order given, trailer) as
   * slices of the buffer: records that follow each other in the buffer go
   * in one slice. Valid until the next `begin`.
   */
  *stream(records: Iterable<number>): Generator<Buffer> {
    yield HEADER;
    let from = -1;
    let to = -1;
    for (const r of records) {
      const start = this.#starts[r] as number;
      if (start === to && to - from < SEND_BYTES) {
        to = this.#end(r);
        continue;
      }
      if (from >= 0) yield this.#buf.subarray(from, to);
      from = start;
      to = this.#end(r);
    }
    if (from >= 0) yield this.#buf.subarray(from, to);
    yield TRAILER;
  }

  #end(record: number): number {
    return this.#starts[record + 1] ?? this.#at;
  }

  #null(): void {
    this.#room(4);
    this.#buf.writeInt32BE(-1, this.#at);
    this.#at += 4;
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + bytes));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }
}
