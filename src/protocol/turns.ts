/** Slots of the shared Int32Array that orders chunk commits. */
const TURN_NEXT = 0; // dispatch ordinal of the chunk allowed to commit next
const TURN_ABORT = 1; // 0, or 1 + the first turn that must not commit (it and later ones give up)
const TURN_REJECTED = 2; // lines rejected by the committed chunks so far
const TURN_SLOTS = 3;

/**
 * Commit ordering across workers. Chunks are parsed in parallel but commit
 * strictly in dispatch order, so the line that comes last in the input always
 * wins and 1, 2 or 4 workers leave identical tables and counts. The SQLite
 * write lock serialises commits anyway, so ordering them costs little.
 */
export class CommitTurns {
  readonly #slots: Int32Array;
  readonly buffer: SharedArrayBuffer;

  /** A new set of turns, or (in a worker) the scheduler's, shared through `buffer`. */
  constructor(buffer = new SharedArrayBuffer(TURN_SLOTS * 4)) {
    this.buffer = buffer;
    this.#slots = new Int32Array(buffer);
  }

  /** True when chunks from `turn` on must not commit. */
  abortedAt(turn: number): boolean {
    const from = Atomics.load(this.#slots, TURN_ABORT);
    return from !== 0 && turn >= from - 1;
  }

  /** Blocks until it is `turn`'s go; false when the run was aborted at or before `turn` meanwhile. */
  waitFor(turn: number): boolean {
    for (;;) {
      if (this.abortedAt(turn)) return false;
      const next = Atomics.load(this.#slots, TURN_NEXT);
      if (next === turn) return true;
      if (next > turn) return true; // already passed (a retried chunk that had committed)
      // Bounded waits so an abort is noticed even if nobody notifies.
      Atomics.wait(this.#slots, TURN_NEXT, next, 50);
    }
  }

  /** Adds a committed chunk's rejected lines; returns the run's total so far. */
  addRejected(n: number): number {
    return Atomics.add(this.#slots, TURN_REJECTED, n) + n;
  }

  /** Lines rejected by the chunks committed so far (resumed ones included). */
  get rejected(): number {
    return Atomics.load(this.#slots, TURN_REJECTED);
  }

  /** Hands the turn to the next chunk (only the holder of `turn` may call this). */
  advanceFrom(turn: number): void {
    if (Atomics.compareExchange(this.#slots, TURN_NEXT, turn, turn + 1) === turn) {
      Atomics.notify(this.#slots, TURN_NEXT);
    }
  }

  /**
   * Stops every chunk from `fromTurn` on; earlier chunks still commit, so a
   * failed run keeps everything before the chunk that failed.
   */
  abort(fromTurn = 0): void {
    const value = fromTurn + 1; // 0 means "not aborted"
    for (;;) {
      const cur = Atomics.load(this.#slots, TURN_ABORT);
      if (cur !== 0 && cur <= value) break;
      if (Atomics.compareExchange(this.#slots, TURN_ABORT, cur, value) === cur) break;
    }
    Atomics.notify(this.#slots, TURN_NEXT);
  }
}
