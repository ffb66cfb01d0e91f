/**
 * The one owner of a chunk: turns a task's raw lines into one committed
 * transaction, top to bottom: split -> skip unchanged -> parse and stage -> write.
 * Runs on a worker thread, on that thread's own connection (`ChunkBackend`).
 */
import { threadId } from 'node:worker_threads';
import { lineHashSeed } from '../src/domain';
import type { ChunkStats, ChunkTask, WorkerInit } from '../src/protocol/messages';
import { CommitTurns } from '../src/protocol/turns';
import { isKept, type ChunkBackend, type ChunkCommitResult, type StageRow } from '../src/store/chunk-backend';
import { STOPPED, withBusyRetry } from './busy';
import { buildEntries, guessedIds, lineParser, parseStale, splitAndHash, type LineParser, type ParsedEntry } from './chunk-lines';

export class ChunkIngester {
  readonly #init: WorkerInit;
  readonly #backend: ChunkBackend;
  readonly #turns: CommitTurns;
  readonly #seed: string;
  readonly #parse: LineParser;

  constructor(init: WorkerInit, backend: ChunkBackend) {
    this.#init = init;
    this.#backend = backend;
    this.#turns = new CommitTurns(init.turns);
    this.#seed = lineHashSeed(init.config, init.maxLineBytes);
    this.#parse = lineParser(init.config, init.maxLineBytes);
  }

  ingest(task: ChunkTask): ChunkStats {
    const { runId, meta, turn } = task;
    const stats: ChunkStats = {
      chunkIndex: meta.chunkIndex, outcome: 'committed', lineCount: meta.lineCount, blankLines: 0, inserted: 0,
      updated: 0, unchanged: 0, rejected: 0, threadId, parseMs: 0, lockWaitMs: 0, writeMs: 0,
    };
    const done = this.#backend.committedChunk(runId, meta.chunkIndex);
    if (done !== undefined) {
      // A retry after the chunk committed (the worker died before replying).
      this.#turns.advanceFrom(turn);
      return { ...stats, ...pickCounts(done), outcome: 'already' };
    }
    const t0 = performance.now();
    const { lines, rejects, blankLines } = splitAndHash(task.bytes, meta.firstLineNo, this.#seed, this.#init.maxLineBytes);
    const stored = this.#init.parseAll ? new Map<string, string>() : this.#busy(
      () => this.#backend.storedLineHashes(guessedIds(lines)), turn, 'looking up stored lines', task,
    );
    if (stored === STOPPED) return { ...stats, outcome: 'aborted' };
    // Each row is staged as it is parsed: the chunk holds only ids and line numbers until its turn.
    this.#backend.clearStage();
    const built = this.#backend.stage((put) => buildEntries(lines, stored, staging(this.#parse, put), rejects));
    const t1 = performance.now();
    stats.parseMs = t1 - t0;

    // Write, in this chunk's turn: everything before it has committed.
    if (!this.#turns.waitFor(turn)) return { ...stats, outcome: 'aborted' };
    if (this.#turns.rejected > this.#init.maxRejects) {
      // Earlier chunks (a resumed run's too) already rejected too many lines.
      this.#turns.abort(turn);
      return { ...stats, outcome: 'aborted' };
    }
    let result: ChunkCommitResult | typeof STOPPED;
    for (;;) {
      const commit = { runId, meta, kept: built.entries.filter(isKept), rejects, blankLines };
      result = this.#busy(() => this.#backend.commitChunk(commit), turn, 'committing', task);
      if (result === STOPPED || !('stale' in result)) break;
      const { stale } = result;
      this.#backend.stage((put) => parseStale(built, stale, staging(this.#parse, put), rejects));
    }
    if (result === STOPPED) return { ...stats, outcome: 'aborted' };
    const cp = result.committed;
    // Still holding the turn: past maxRejects no later chunk may commit, so a
    // failed run keeps the same chunks whatever the thread timing.
    if (this.#turns.addRejected(cp.rejected) > this.#init.maxRejects) this.#turns.abort(turn + 1);
    this.#turns.advanceFrom(turn);
    stats.lockWaitMs = result.lockedAt - t1;
    stats.writeMs = performance.now() - result.lockedAt;
    return { ...stats, ...pickCounts(cp) };
  }

  /** A database call that waits out another connection's write lock, unless the run stops at or before `turn`. */
  #busy<T>(fn: () => T, turn: number, what: string, task: ChunkTask): T | typeof STOPPED {
    const m = task.meta;
    return withBusyRetry(fn, this.#init.maxBusyWaitMs, `Chunk ${m.chunkIndex} (lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1}), ${what}`,
      () => this.#turns.abortedAt(turn));
  }
}

/** Parses a line and stages its row, which leaves the chunk only the row's id. */
function staging(parse: LineParser, put: StageRow): LineParser<ParsedEntry> {
  return (lineNo, bytes, hash, rejects) => {
    const row = parse(lineNo, bytes, hash, rejects);
    if (row === undefined) return undefined;
    put(row, lineNo);
    return { itemId: row.itemId };
  };
}

function pickCounts(c: { blankLines: number; inserted: number; updated: number; unchanged: number; rejected: number }) {
  return { blankLines: c.blankLines, inserted: c.inserted, updated: c.updated, unchanged: c.unchanged, rejected: c.rejected };
}
