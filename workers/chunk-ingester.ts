/**
 * The one owner of a chunk, for both backends: turns a task's raw lines into
 * one committed transaction, top to bottom: split -> skip unchanged -> parse
 * and stage -> wait for the chunk's place in input order -> write. Runs on a
 * worker thread, on that thread's own connection (`ChunkBackend`).
 */
import { threadId } from 'node:worker_threads';
import { lineHashSeed } from '../src/domain';
import type { ChunkStats, ChunkTask, WorkerInit } from '../src/protocol/messages';
import type { ChunkBackend, ChunkCounts, ErrorReply, Staged, StageRow } from './chunk-backend';
import { buildEntries, guessedIds, lineParser, parseStale, splitAndHash, type LineParser } from './chunk-lines';

export class ChunkIngester {
  readonly #init: WorkerInit;
  readonly #backend: ChunkBackend;
  readonly #seed: string;
  readonly #parse: LineParser;

  constructor(init: WorkerInit, backend: ChunkBackend) {
    this.#init = init;
    this.#backend = backend;
    this.#seed = lineHashSeed(init.config, init.maxLineBytes);
    this.#parse = lineParser(init.config, init.maxLineBytes);
  }

  async ingest(task: ChunkTask): Promise<ChunkStats> {
    const { meta } = task;
    const stats: ChunkStats = {
      chunkIndex: meta.chunkIndex, outcome: 'committed', lineCount: meta.lineCount, blankLines: 0, inserted: 0,
      updated: 0, unchanged: 0, rejected: 0, threadId, parseMs: 0, lockWaitMs: 0, writeMs: 0, conflicts: 0,
    };
    const done = await this.#backend.committedChunk(task);
    if (done !== undefined) {
      // A retry after the chunk committed (the worker died before replying).
      this.#backend.settle(task, undefined);
      return { ...stats, ...pickCounts(done), outcome: 'already' };
    }
    const t0 = performance.now();
    const { lines, rejects, blankLines } = splitAndHash(task.bytes, meta.firstLineNo, this.#seed, this.#init.maxLineBytes);
    const stored = this.#init.parseAll ? new Map<string, string>() : await this.#backend.storedLineHashes(guessedIds(lines), task);
    if (stored === undefined) return { ...stats, outcome: 'aborted' };
    // Each row is staged as it is parsed: the chunk holds only what the backend keeps of it until its turn.
    this.#backend.beginChunk(task, lines);
    const built = this.#backend.stage((put) => buildEntries(lines, stored, staging(this.#parse, put), rejects));
    const t1 = performance.now();
    stats.parseMs = t1 - t0;

    const order = await this.#backend.awaitOrder(task, built.entries);
    if (order !== 'go') return { ...stats, outcome: order };
    for (;;) {
      const result = await this.#backend.commitChunk(task, built.entries, rejects, blankLines);
      if ('stopped' in result) return { ...stats, outcome: 'aborted' };
      stats.conflicts += result.conflicts;
      if ('stale' in result) {
        // Earlier lines changed these rows since the lookup: parse them after all.
        const { stale } = result;
        this.#backend.stage((put) => parseStale(built, stale, staging(this.#parse, put), rejects));
        continue;
      }
      if ('already' in result) {
        this.#backend.settle(task, undefined);
        return { ...stats, writeMs: performance.now() - t1, outcome: 'taken' };
      }
      this.#backend.settle(task, result.committed);
      stats.lockWaitMs = result.lockedAt - t1;
      stats.writeMs = performance.now() - result.lockedAt;
      return { ...stats, ...pickCounts(result.committed) };
    }
  }

  errorReply(err: unknown, task: ChunkTask): ErrorReply | undefined {
    return this.#backend.errorReply(err, task);
  }

  close(): Promise<void> {
    return this.#backend.close();
  }
}

/** Parses a line and stages its row, which leaves the chunk only what the backend keeps of it; a row it cannot store is a reject. */
function staging<E extends Staged>(parse: LineParser, put: StageRow<E>): LineParser<E> {
  return (lineNo, bytes, hash, rejects) => {
    const row = parse(lineNo, bytes, hash, rejects);
    if (row === undefined) return undefined;
    const staged = put(row, { lineNo, bytes });
    if ('itemId' in staged) return staged;
    rejects.push(staged);
    return undefined;
  };
}

function pickCounts(c: ChunkCounts): ChunkCounts {
  return { blankLines: c.blankLines, inserted: c.inserted, updated: c.updated, unchanged: c.unchanged, rejected: c.rejected };
}
