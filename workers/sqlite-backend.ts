/**
 * {@link ChunkBackend} on a worker's own SQLite connection: rows staged in
 * the connection's TEMP table as they are parsed, chunks committed in their
 * turn (`CommitTurns`, shared by the run's threads) so that a run equals its
 * lines applied in input order, and a write lock held by another connection
 * waited out with back-off unless the run stops.
 */
import type { Reject } from '../src/domain/types';
import { serializeError } from '../src/errors';
import type { ChunkTask, SqliteWorkerInit } from '../src/protocol/messages';
import { CommitTurns } from '../src/protocol/turns';
import { fromSqliteError } from '../src/sqlite/errors';
import { isKept } from '../src/store/chunk-backend';
import { SqliteChunkBackend } from '../src/sqlite/sqlite-chunk-backend';
import { STOPPED, withBusyRetry } from './busy';
import type { ChunkBackend, ChunkCounts, ChunkLine, CommitOutcome, ErrorReply, KeptLine, Staged, StageRow } from './chunk-backend';

/**
 * Longest one SQLite call waits for a lock before the retry loop (which
 * checks for a cancelled run) takes over.
 */
const NATIVE_BUSY_WAIT_MS = 100;

export class SqliteWorkerBackend implements ChunkBackend {
  readonly #engine: SqliteChunkBackend;
  readonly #turns: CommitTurns;
  readonly #maxBusyWaitMs: number;
  readonly #maxRejects: number;

  constructor(init: SqliteWorkerInit, engine: SqliteChunkBackend) {
    this.#engine = engine;
    this.#turns = new CommitTurns(init.turns);
    this.#maxBusyWaitMs = init.maxBusyWaitMs;
    this.#maxRejects = init.maxRejects;
  }

  static open(init: SqliteWorkerInit): SqliteWorkerBackend {
    const engine = SqliteChunkBackend.open(init.dbPath, { synchronous: init.synchronous, busyTimeoutMs: Math.min(init.busyTimeoutMs, NATIVE_BUSY_WAIT_MS) });
    return new SqliteWorkerBackend(init, engine);
  }

  committedChunk(task: ChunkTask): Promise<ChunkCounts | undefined> {
    return Promise.resolve(this.#engine.committedChunk(task.runId, task.meta.chunkIndex));
  }

  storedLineHashes(itemIds: readonly string[], task: ChunkTask): Promise<ReadonlyMap<string, string> | undefined> {
    const r = this.#busy(() => this.#engine.storedLineHashes(itemIds), task, 'looking up stored lines');
    return Promise.resolve(r === STOPPED ? undefined : r);
  }

  beginChunk(_task: ChunkTask, _lines: readonly ChunkLine[]): void {
    this.#engine.clearStage();
  }

  /** One (deferred) transaction on the TEMP table alone: no write lock on the database. */
  stage<T>(fn: (put: StageRow<Staged>) => T): T {
    return this.#engine.stage((put) => fn((row, line) => {
      put(row, line.lineNo);
      return { itemId: row.itemId };
    }));
  }

  /** The chunk's turn: every chunk before it has committed. */
  awaitOrder(task: ChunkTask): Promise<'go' | 'aborted'> {
    const turn = turnOf(task);
    if (!this.#turns.waitFor(turn)) return Promise.resolve('aborted');
    if (this.#turns.rejected > this.#maxRejects) {
      // Earlier chunks (a resumed run's too) already rejected too many lines.
      this.#turns.abort(turn);
      return Promise.resolve('aborted');
    }
    return Promise.resolve('go');
  }

  commitChunk(task: ChunkTask, entries: readonly (Staged | KeptLine)[], rejects: readonly Reject[], blankLines: number): Promise<CommitOutcome> {
    const commit = { runId: task.runId, meta: task.meta, kept: entries.filter(isKept), rejects, blankLines };
    const r = this.#busy(() => this.#engine.commitChunk(commit), task, 'committing');
    if (r === STOPPED) return Promise.resolve({ stopped: true });
    if ('stale' in r) return Promise.resolve({ stale: r.stale, conflicts: 0 });
    const c = r.committed;
    return Promise.resolve({
      committed: { blankLines: c.blankLines, inserted: c.inserted, updated: c.updated, unchanged: c.unchanged, rejected: c.rejected },
      lockedAt: r.lockedAt, conflicts: 0,
    });
  }

  /**
   * Still holding the turn: past maxRejects no later chunk may commit, so a
   * failed run keeps the same chunks whatever the thread timing.
   */
  settle(task: ChunkTask, counts: ChunkCounts | undefined): void {
    const turn = turnOf(task);
    if (counts !== undefined && this.#turns.addRejected(counts.rejected) > this.#maxRejects) this.#turns.abort(turn + 1);
    this.#turns.advanceFrom(turn);
  }

  /**
   * A database error (SQLite's own, or ours after the busy backoff) is final
   * for this chunk and keeps its code across the thread boundary: another
   * thread would meet the same database. Anything else (a bug, a crash) is
   * thrown so the scheduler retries the chunk.
   */
  errorReply(err: unknown, task: ChunkTask): ErrorReply | undefined {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !(code.startsWith('SQLITE_') || code.startsWith('ERR_'))) return undefined;
    return { error: serializeError(fromSqliteError(err, chunkName(task))) };
  }

  close(): Promise<void> {
    this.#engine.close();
    return Promise.resolve();
  }

  /** A database call that waits out another connection's write lock, unless the run stops at or before the chunk's turn. */
  #busy<T>(fn: () => T, task: ChunkTask, what: string): T | typeof STOPPED {
    const turn = turnOf(task);
    return withBusyRetry(fn, this.#maxBusyWaitMs, `${chunkName(task)}, ${what}`, () => this.#turns.abortedAt(turn));
  }
}

function turnOf(task: ChunkTask): number {
  if (task.turn === undefined) throw new Error(`Chunk ${task.meta.chunkIndex} of a SQLite run came without its turn`);
  return task.turn;
}

function chunkName(task: ChunkTask): string {
  const m = task.meta;
  return `Chunk ${m.chunkIndex} (lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1})`;
}
