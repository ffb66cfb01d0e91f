import { createHash, type Hash } from 'node:crypto';
import type { ChunkMeta } from '../store/types';

export interface Chunk {
  meta: ChunkMeta;
  /** A standalone buffer holding exactly the chunk's lines, ready to be transferred. */
  bytes: ArrayBuffer;
}

/**
 * Cuts a byte stream into chunks of `chunkSize` complete lines without
 * parsing anything: it only looks for "\n". Deterministic for a given input
 * and chunk size. A line longer than `maxLineBytes` is kept only up to
 * `maxLineBytes + 1` bytes (enough for the worker to reject it as too long),
 * so one runaway line cannot exhaust memory. The checksum (sha1) covers the
 * original bytes.
 */
export class Chunker {
  readonly #chunkSize: number;
  readonly #maxKeep: number;
  #parts: Uint8Array[] = [];
  #partsBytes = 0;
  #hash: Hash = createHash('sha1');
  #chunkIndex = 0;
  #firstLineNo = 1;
  #lineCount = 0;
  #byteStart = 0;
  #bytePos = 0; // absolute offset of the next byte to arrive
  #lineKept = 0; // bytes of the current (unfinished) line kept so far

  constructor(chunkSize: number, maxLineBytes: number) {
    this.#chunkSize = chunkSize;
    this.#maxKeep = maxLineBytes + 1;
  }

  /** Feeds bytes; returns the chunks they complete (usually none or one). */
  push(buf: Uint8Array): Chunk[] {
    const out: Chunk[] = [];
    let keepFrom = 0; // first byte of `buf` not yet copied into #parts
    let hashFrom = 0; // first byte of `buf` not yet hashed
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      const lineEnd = nl === -1 ? buf.length : nl;
      const segLen = lineEnd - pos;
      if (this.#lineKept + segLen > this.#maxKeep) {
        // Over-long line: keep its head, skip the rest of this segment.
        const keep = Math.max(0, this.#maxKeep - this.#lineKept);
        this.#append(buf.subarray(keepFrom, pos + keep));
        keepFrom = lineEnd;
        this.#lineKept += keep;
      } else {
        this.#lineKept += segLen;
      }
      if (nl === -1) break;
      pos = nl + 1;
      this.#lineKept = 0;
      if (++this.#lineCount === this.#chunkSize) {
        this.#append(buf.subarray(keepFrom, pos));
        this.#hash.update(buf.subarray(hashFrom, pos));
        keepFrom = hashFrom = pos;
        out.push(this.#emit(this.#bytePos + pos));
      }
    }
    this.#append(buf.subarray(keepFrom));
    this.#hash.update(buf.subarray(hashFrom));
    this.#bytePos += buf.length;
    return out;
  }

  /** Ends the input: the unfinished last line (no trailing "\n") still counts. */
  end(): Chunk | undefined {
    if (this.#lineKept > 0) {
      this.#lineCount++;
      this.#lineKept = 0;
    }
    return this.#lineCount > 0 ? this.#emit(this.#bytePos) : undefined;
  }

  #append(piece: Uint8Array): void {
    if (piece.length === 0) return;
    // A reference is enough: callers hand over ownership of what they push.
    this.#parts.push(piece);
    this.#partsBytes += piece.length;
  }

  #emit(byteEnd: number): Chunk {
    const bytes = new Uint8Array(this.#partsBytes);
    let off = 0;
    for (const p of this.#parts) {
      bytes.set(p, off);
      off += p.length;
    }
    const meta: ChunkMeta = {
      chunkIndex: this.#chunkIndex++, firstLineNo: this.#firstLineNo, lineCount: this.#lineCount,
      byteStart: this.#byteStart, byteEnd, checksum: this.#hash.digest('hex'),
    };
    this.#firstLineNo += this.#lineCount;
    this.#lineCount = 0;
    this.#byteStart = byteEnd;
    this.#parts = [];
    this.#partsBytes = 0;
    this.#hash = createHash('sha1');
    return { meta, bytes: bytes.buffer };
  }
}
