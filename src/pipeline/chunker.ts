import { createHash, type Hash } from 'node:crypto';
import type { ChunkMeta } from '../store/types';
import { BufferPool } from './buffers';

export interface Chunk {
  meta: ChunkMeta;
  /**
   * Exactly the chunk's lines, at the start of a buffer of its own (taken
   * from the pool, so it may be longer than the chunk); transfer
   * `bytes.buffer` and give it back to the pool when done.
   */
  bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);
/** Chunk buffers are allocated in whole steps of this many bytes. */
const ALLOC_STEP = 1 << 16;

/**
 * Cuts a byte stream into chunks of `chunkSize` complete lines, or fewer
 * once a chunk holds `maxChunkBytes`, without parsing anything: it only
 * looks for "\n". Deterministic for a given input and bounds. A line longer than `maxLineBytes` is kept only up to
 * `maxLineBytes + 1` bytes (enough for the worker to reject it as too long),
 * so one runaway line cannot exhaust memory. The checksum (sha1) covers the
 * original bytes. Bytes are copied into the chunk's buffer as they arrive,
 * so `push` keeps no reference to what it is given.
 */
export class Chunker {
  readonly #chunkSize: number;
  readonly #maxBytes: number;
  readonly #maxKeep: number;
  readonly #pool: BufferPool;
  #buf: Uint8Array = EMPTY; // the chunk being built
  #len = 0;
  #expected = ALLOC_STEP; // bytes to ask for when a chunk starts: the last chunk's size plus headroom
  #hash: Hash = createHash('sha1');
  #chunkIndex = 0;
  #firstLineNo = 1;
  #lineCount = 0;
  #byteStart = 0;
  #bytePos = 0; // absolute offset of the next byte to arrive
  #lineKept = 0; // bytes of the current (unfinished) line kept so far

  constructor(chunkSize: number, maxLineBytes: number, pool = new BufferPool(0), maxChunkBytes = Number.POSITIVE_INFINITY) {
    this.#chunkSize = chunkSize;
    this.#maxBytes = maxChunkBytes;
    this.#maxKeep = maxLineBytes + 1;
    this.#pool = pool;
  }

  /** Feeds bytes; returns the chunks they complete (usually none or one). */
  push(buf: Uint8Array): Chunk[] {
    const out: Chunk[] = [];
    let keepFrom = 0; // first byte of `buf` not yet copied into the chunk
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
      // The chunk's bytes so far: copied ones, plus this piece's not yet copied.
      if (++this.#lineCount === this.#chunkSize || this.#len + (pos - keepFrom) >= this.#maxBytes) {
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
    const need = this.#len + piece.length;
    if (need > this.#buf.length) this.#grow(need);
    this.#buf.set(piece, this.#len);
    this.#len = need;
  }

  #grow(need: number): void {
    const next = new Uint8Array(this.#pool.take(Math.max(need, this.#expected, this.#buf.length * 2)));
    next.set(this.#buf.subarray(0, this.#len));
    if (this.#buf !== EMPTY) this.#pool.give(this.#buf.buffer as ArrayBuffer);
    this.#buf = next;
  }

  #emit(byteEnd: number): Chunk {
    const bytes = this.#buf.subarray(0, this.#len);
    // Chunks of one feed are about the same size: the next one gets a buffer
    // this big in one go, rounded so that buffers of similar chunks are reused.
    this.#expected = Math.ceil((this.#len * 1.125 + 1) / ALLOC_STEP) * ALLOC_STEP;
    const meta: ChunkMeta = {
      chunkIndex: this.#chunkIndex++, firstLineNo: this.#firstLineNo, lineCount: this.#lineCount,
      byteStart: this.#byteStart, byteEnd, checksum: this.#hash.digest('hex'),
    };
    this.#firstLineNo += this.#lineCount;
    this.#lineCount = 0;
    this.#byteStart = byteEnd;
    this.#buf = EMPTY;
    this.#len = 0;
    this.#hash = createHash('sha1');
    return { meta, bytes };
  }
}
