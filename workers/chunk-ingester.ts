/**
 * The one owner of a chunk: turns a task's raw lines into one committed
 * transaction, top to bottom: split -> skip unchanged -> parse -> write.
 * Runs on a worker thread, on that thread's own connection (`ChunkBackend`).
 */
import { threadId } from 'node:worker_threads';
import { lineHash, lineHashSeed, parseIntelLine, quickItemId } from '../src/domain';
import type { IntelRow, Reject } from '../src/domain/types';
import type { ChunkStats, ChunkTask, WorkerInit } from '../src/protocol/messages';
import { CommitTurns } from '../src/protocol/turns';
import { isKept, type ChunkBackend, type ChunkCommitResult, type KeptLine } from '../src/store/chunk-backend';
import { STOPPED, withBusyRetry } from './busy';
import { lineText, splitChunk } from './lines';

/** A line to parse or keep: its raw bytes (a view into the chunk), its line hash and its guessed `item_id`. */
interface HashedLine {
  readonly lineNo: number;
  readonly bytes: Uint8Array;
  readonly hash: string;
  readonly id: string | undefined;
}

export class ChunkIngester {
  readonly #init: WorkerInit;
  readonly #backend: ChunkBackend;
  readonly #turns: CommitTurns;
  readonly #seed: string;

  constructor(init: WorkerInit, backend: ChunkBackend) {
    this.#init = init;
    this.#backend = backend;
    this.#turns = new CommitTurns(init.turns);
    this.#seed = lineHashSeed(init.config, init.maxLineBytes);
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

    // Split: blank lines counted, undecodable ones rejected, the rest hashed.
    const lines: HashedLine[] = [];
    const rejects: Reject[] = [];
    let blankLines = 0;
    for (const line of splitChunk(task.bytes, meta.firstLineNo, this.#init.maxLineBytes)) {
      if (line.kind === 'blank') blankLines++;
      else if (line.kind === 'reject') rejects.push(line.reject);
      else lines.push({ lineNo: line.lineNo, bytes: line.bytes, hash: lineHash(this.#seed, line.bytes), id: quickItemId(line.bytes) });
    }

    // Skip unchanged: a line that hashes like the line behind its item's
    // stored row would parse to that row. Not when an earlier line of this
    // chunk has the same item: that line may change the row first.
    const stored = this.#init.parseAll ? new Map<string, string>() : this.#busy(
      () => this.#backend.storedLineHashes(lines.flatMap((l) => (l.id === undefined ? [] : [l.id]))), turn, 'looking up stored lines', task,
    );
    if (stored === STOPPED) return { ...stats, outcome: 'aborted' };

    // Parse the rest, in line order.
    const entries: (IntelRow | KeptLine)[] = [];
    const keptBytes = new Map<number, Uint8Array>();
    const seen = new Set<string>();
    for (const line of lines) {
      if (line.id !== undefined && !seen.has(line.id) && stored.get(line.id) === line.hash) {
        entries.push({ kept: true, itemId: line.id, lineHash: line.hash, lineNo: line.lineNo });
        keptBytes.set(line.lineNo, line.bytes);
        seen.add(line.id);
        continue;
      }
      const row = this.#parse(line.lineNo, line.bytes, line.hash, rejects);
      if (row !== undefined) {
        entries.push(row);
        seen.add(row.itemId);
      }
      if (line.id !== undefined) seen.add(line.id);
    }
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
      const commit = { runId, meta, entries, rejects, blankLines };
      result = this.#busy(() => this.#backend.commitChunk(commit), turn, 'committing', task);
      if (result === STOPPED || !('stale' in result)) break;
      // Earlier lines changed these rows since the lookup: parse them after all.
      const stale = new Set(result.stale.map((l) => l.lineNo));
      for (let i = entries.length - 1; i >= 0; i--) {
        const e = entries[i] as IntelRow | KeptLine;
        if (!isKept(e) || !stale.has(e.lineNo)) continue;
        const row = this.#parse(e.lineNo, keptBytes.get(e.lineNo) as Uint8Array, e.lineHash, rejects);
        if (row === undefined) entries.splice(i, 1);
        else entries[i] = row;
      }
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

  /** Decodes and parses one line; a broken line goes to `rejects`. */
  #parse(lineNo: number, bytes: Uint8Array, hash: string, rejects: Reject[]): IntelRow | undefined {
    const r = parseIntelLine(lineText(bytes), lineNo, this.#init.config, this.#init.maxLineBytes);
    if (!r.ok) {
      rejects.push(r.reject);
      return undefined;
    }
    r.row.lineHash = hash;
    return r.row;
  }

  /** A database call that waits out another connection's write lock, unless the run stops at or before `turn`. */
  #busy<T>(fn: () => T, turn: number, what: string, task: ChunkTask): T | typeof STOPPED {
    const m = task.meta;
    return withBusyRetry(fn, this.#init.maxBusyWaitMs, `Chunk ${m.chunkIndex} (lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1}), ${what}`,
      () => this.#turns.abortedAt(turn));
  }
}

function pickCounts(c: { blankLines: number; inserted: number; updated: number; unchanged: number; rejected: number }) {
  return { blankLines: c.blankLines, inserted: c.inserted, updated: c.updated, unchanged: c.unchanged, rejected: c.rejected };
}
