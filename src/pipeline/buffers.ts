/**
 * Reusable chunk buffers. A chunk's buffer goes to a worker and comes back
 * with its reply, so a run needs only about as many buffers as it has chunks
 * in flight. Without reuse every chunk left a dead buffer behind in
 * whichever thread saw it last, piling up until that thread's next major GC
 * (~100 MB of ArrayBuffers on a 200k-line run; docs/performance.md).
 */
export class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  readonly #max: number;

  /** Keeps at most `max` idle buffers (0: no reuse). */
  constructor(max: number) {
    this.#max = max;
  }

  /** The largest idle buffer if it holds at least `minBytes`, else a new one of `minBytes`. */
  take(minBytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      if (best === -1 || (this.#free[i] as ArrayBuffer).byteLength > (this.#free[best] as ArrayBuffer).byteLength) best = i;
    }
    if (best !== -1 && (this.#free[best] as ArrayBuffer).byteLength >= minBytes) return this.#free.splice(best, 1)[0] as ArrayBuffer;
    return new ArrayBuffer(minBytes);
  }

  /** Hands a buffer back once nothing reads it any more. Detached buffers (byteLength 0) are ignored. */
  give(buf: ArrayBuffer): void {
    if (buf.byteLength === 0 || this.#max === 0) return;
    if (this.#free.length < this.#max) {
      this.#free.push(buf);
      return;
    }
    // Full: keep the bigger buffers, which fit more chunks.
    let smallest = 0;
    for (let i = 1; i < this.#free.length; i++) {
      if ((this.#free[i] as ArrayBuffer).byteLength < (this.#free[smallest] as ArrayBuffer).byteLength) smallest = i;
    }
    if ((this.#free[smallest] as ArrayBuffer).byteLength < buf.byteLength) this.#free[smallest] = buf;
  }

  get idle(): number {
    return this.#free.length;
  }
}
