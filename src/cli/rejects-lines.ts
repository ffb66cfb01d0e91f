import { createReadStream, ftruncateSync, statSync } from 'node:fs';
import { InputError, InvalidOptionError, toError } from '../errors';
import { openInput } from '../pipeline/input';
import { withReadStore } from '../backend/open-read-store';
import type { DbTarget } from '../store/target';
import type { LinePosition } from '../store/types';
import { writeAll } from './staged-file';

/**
 * `ingest --rejects-lines PATH`: each rejected line of the run exactly as it
 * came (its bytes, a `\r` before its `\n` included), in input order, each
 * ended by `\n`, so the file can be fixed and ingested again. The lines are
 * copied from the input once the run is over, at the positions the database
 * holds: that covers rejects committed by earlier processes of a resumed
 * run (a resume checks that the input is the same), and over-long lines,
 * of which the run itself keeps only the head.
 */

/** `--rejects-lines-max-bytes` by default: a bad night's rejects fit many times over, a feed gone wholly wrong is not copied whole. */
export const DEFAULT_REJECTS_LINES_MAX_BYTES = 64 * 1024 * 1024;

/** What `--rejects-lines` wrote, as the run summary reports it. */
export interface RejectsLinesReport {
  /** Absolute path of the file. */
  path: string;
  /** Whole lines written: all of `rejected`, unless `truncated`. */
  linesWritten: number;
  /** The run's rejected lines. */
  rejected: number;
  bytes: number;
  /** The next line would have taken the file over `maxBytes`: it and the lines after it were left out. */
  truncated: boolean;
  maxBytes: number;
}

/**
 * Refuses, before the run starts, an input that cannot be read a second
 * time: stdin, a named pipe, a socket or a device. A path that cannot be
 * read is left to the run, which says why.
 */
export function refuseOneShotInput(file: string): void {
  const why = file === '-' ? 'stdin' : oneShotKind(file);
  if (why === undefined) return;
  throw new InvalidOptionError(`--rejects-lines copies the rejected lines from the input after the run, so it needs an input it can read again; `
    + `${file === '-' ? 'the input is stdin' : `${file} is ${why}`}: give the feed as a file, or use --rejects`);
}

function oneShotKind(file: string): string | undefined {
  try {
    const st = statSync(file);
    return st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : st.isCharacterDevice() ? 'a character device' : undefined;
  } catch {
    return undefined;
  }
}

/** Copies the rejected lines of run `runId` from `input` into `fd`, whole lines up to `maxBytes`. */
export async function writeRejectedLines(
  fd: number, where: { target: DbTarget; input: string }, runId: string, maxBytes: number,
): Promise<Omit<RejectsLinesReport, 'path'>> {
  const out = new CappedLines(fd, maxBytes);
  const rejected = await withReadStore(where.target, (store) => copyLines(inputBytes(where.target, where.input), store.iterateRejectPositions(runId), out));
  out.flush();
  return { linesWritten: out.lines, rejected, bytes: out.bytes, truncated: out.lines < rejected, maxBytes };
}

/** The input's bytes as the run read them: SQLite through the pipeline's opener (gzip decompressed), PostgreSQL as the plain file it seeks in. */
async function* inputBytes(target: DbTarget, input: string): AsyncGenerator<Uint8Array> {
  if (target.kind === 'sqlite') {
    const opened = openInput(input);
    try {
      yield* opened.bytes;
    } finally {
      opened.close();
    }
    return;
  }
  try {
    yield* createReadStream(input, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
  } catch (err) {
    throw new InputError('ERR_INPUT', `Reading ${input} failed: ${toError(err).message}`, { cause: err });
  }
}

/**
 * Streams `bytes` once, copying to `out` the lines at `positions` (in input
 * order); stops reading at the last one or once `out` is full. Returns how
 * many positions there were. A position the input does not reach means the
 * input changed since the run: `ERR_INPUT_CHANGED`.
 */
async function copyLines(bytes: AsyncIterable<Uint8Array>, positions: AsyncIterable<LinePosition>, out: CappedLines): Promise<number> {
  const copier = new LineCopier(positions[Symbol.asyncIterator](), out);
  try {
    return await copier.run(bytes);
  } finally {
    await copier.close();
  }
}

class LineCopier {
  readonly #wanted: AsyncIterator<LinePosition>;
  readonly #out: CappedLines;
  #count = 0;
  #lineNo = 1; // the line being read, from 1
  #lineStart = 0; // its first byte
  #anchor = { byte: 0, line: 1 }; // the last line start a position counted from
  #next: LinePosition | undefined; // the next position, until its line number is known
  #want: number | undefined; // the line number of the next line to copy
  #full = false;

  constructor(wanted: AsyncIterator<LinePosition>, out: CappedLines) {
    this.#wanted = wanted;
    this.#out = out;
  }

  get #done(): boolean { return this.#want === undefined && this.#next === undefined; }

  async run(bytes: AsyncIterable<Uint8Array>): Promise<number> {
    await this.#advance();
    let at = 0; // bytes of the input before this piece
    for await (const piece of bytes) {
      if (this.#done || !(await this.#scan(piece, at))) break; // leaving the loop closes the input
      at += piece.length;
    }
    // The last line, without a "\n" (its bytes are in; a full file or a finished copy stopped before).
    if (!this.#full && !this.#done && this.#want === this.#lineNo && at > this.#lineStart) await this.#endLine();
    if (this.#full) {
      while ((await this.#wanted.next()).done !== true) this.#count++; // the rest are only counted
    } else if (!this.#done) {
      throw changed(`it ends before rejected line ${this.#want ?? `${this.#next?.line} from byte ${this.#next?.fromByte}`}`);
    }
    return this.#count;
  }

  async close(): Promise<void> {
    await this.#wanted.return?.(); // releases the query when the copy stopped early
  }

  /** One piece of the input, which starts at byte `at`; false once the copy is over. */
  async #scan(piece: Uint8Array, at: number): Promise<boolean> {
    for (let pos = 0; pos < piece.length;) {
      if (this.#done) return false;
      const nl = piece.indexOf(10, pos);
      const copying = this.#want === this.#lineNo;
      if (copying && !this.#out.add(piece.subarray(pos, nl === -1 ? piece.length : nl))) return this.#stop();
      if (nl === -1) return true;
      if (copying && !(await this.#endLine())) return false;
      pos = nl + 1;
      this.#lineNo++;
      this.#lineStart = at + pos;
      this.#place();
    }
    return true;
  }

  async #endLine(): Promise<boolean> {
    if (!this.#out.endLine()) return this.#stop();
    await this.#advance();
    return true;
  }

  #stop(): false {
    this.#full = true;
    return false;
  }

  async #advance(): Promise<void> {
    const r = await this.#wanted.next();
    this.#next = r.done === true ? undefined : r.value;
    this.#want = undefined;
    if (this.#next !== undefined) this.#count++;
    this.#place();
  }

  /** At each line start: does the next position count from here, and which line does it name? */
  #place(): void {
    const next = this.#next;
    if (next === undefined) return;
    if (next.fromByte === this.#lineStart && next.fromByte !== this.#anchor.byte) this.#anchor = { byte: this.#lineStart, line: this.#lineNo };
    if (next.fromByte === this.#anchor.byte) {
      this.#want = this.#anchor.line + next.line - 1;
      this.#next = undefined;
      if (this.#want < this.#lineNo) throw changed(`rejected line ${this.#want} comes after line ${this.#lineNo}`);
    } else if (next.fromByte < this.#lineStart) {
      throw changed(`no line starts at byte ${next.fromByte}`);
    }
  }
}

function changed(detail: string): InputError {
  return new InputError('ERR_INPUT_CHANGED', `The input no longer holds the run's rejected lines (${detail}): it changed since the run`);
}

const NL = Uint8Array.of(10);

/** Whole lines into `fd`, batched, up to `maxBytes`: a line that does not fit is taken back out, with nothing after it. */
class CappedLines {
  readonly #fd: number;
  readonly #max: number;
  readonly #batch = Buffer.allocUnsafe(1 << 16);
  #batched = 0;
  #whole = 0; // bytes of the whole lines
  #line = 0; // bytes of the line being added
  #full = false;
  lines = 0;

  constructor(fd: number, maxBytes: number) {
    this.#fd = fd;
    this.#max = maxBytes;
  }

  get bytes(): number { return this.#whole; }

  /** Adds a piece of the current line; false when the line, with its "\n", would not fit. */
  add(piece: Uint8Array): boolean {
    if (this.#full || this.#whole + this.#line + piece.length + 1 > this.#max) return this.#cut();
    this.#put(piece);
    this.#line += piece.length;
    return true;
  }

  /** Ends the current line with "\n"; false when it would not fit. */
  endLine(): boolean {
    if (this.#full || this.#whole + this.#line + 1 > this.#max) return this.#cut();
    this.#put(NL);
    this.#whole += this.#line + 1;
    this.#line = 0;
    this.lines++;
    return true;
  }

  flush(): void {
    writeAll(this.#fd, this.#batch.subarray(0, this.#batched));
    this.#batched = 0;
  }

  #put(bytes: Uint8Array): void {
    if (this.#batched + bytes.length > this.#batch.length) this.flush();
    if (bytes.length > this.#batch.length) writeAll(this.#fd, bytes); // a long line goes straight to the file
    else {
      this.#batch.set(bytes, this.#batched);
      this.#batched += bytes.length;
    }
  }

  /** The file ends with the last whole line: what was written of this one is cut off. */
  #cut(): false {
    this.flush();
    ftruncateSync(this.#fd, this.#whole);
    this.#full = true;
    this.#line = 0;
    return false;
  }
}
