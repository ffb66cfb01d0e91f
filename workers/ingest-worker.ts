/**
 * Piscina worker: parses, validates, scores and gates one chunk of raw NDJSON
 * lines, then commits it (items, rejects, checkpoint) in one BEGIN IMMEDIATE
 * transaction on this thread's own SQLite connection.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { threadId } from 'node:worker_threads';
import { fromSqliteError, serializeError } from '../src/errors';
import { lineHash, lineHashSeed, parseIntelLine, quickItemId } from '../src/domain';
import type { Reject } from '../src/domain/types';
import { StateStore, type SameLine, type StagedRow } from '../src/store';
import { withBusyRetry } from '../src/store/busy';
import type { ChunkReply, ChunkStats, ChunkTask, WorkerInit } from '../src/pipeline/protocol';
import { CommitTurns } from '../src/pipeline/turns';
import { lineText, splitChunk } from '../src/pipeline/lines';
import { injectFault } from './faults';

const init = workerData as WorkerInit;
const turns = new CommitTurns(init.turns);
const seed = lineHashSeed(init.config, init.maxLineBytes);
/** Decodes and parses one line with this run's settings (also what re-parses a skipped line under the lock). */
const parseLine = (lineNo: number, bytes: Uint8Array) => parseIntelLine(lineText(bytes), lineNo, init.config, init.maxLineBytes);
let store: StateStore | undefined;
/** Parsed rows per staging transaction: few enough to die young in the heap, enough to amortise BEGIN/COMMIT. */
const STAGE_BATCH = 256;

/** This thread's connection, opened on first use and kept for every task. */
function getStore(): StateStore {
  store ??= StateStore.open(init.dbPath, { synchronous: init.synchronous, busyTimeoutMs: init.busyTimeoutMs });
  return store;
}

export default function ingestChunk(task: ChunkTask): unknown {
  return withBuffer(handle(task), task.bytes);
}

/**
 * Sends the chunk's buffer back (transferred) with the reply, for the
 * scheduler to reuse; left here, it would be garbage until this thread's
 * next major GC. Nothing reads it once the chunk is handled.
 */
function withBuffer(reply: ChunkReply, bytes: Uint8Array): unknown {
  const { buffer } = bytes;
  if (buffer.byteLength === 0 || !(buffer instanceof ArrayBuffer)) return reply;
  return move({
    get [transferableSymbol]() { return buffer; },
    get [valueSymbol]() { return { ...reply, bytes }; },
  });
}

function handle(task: ChunkTask): ChunkReply {
  try {
    return { ok: true, stats: processChunk(task) };
  } catch (err) {
    // A database error (SQLite's own, or ours after the busy backoff) is final
    // for this chunk and keeps its code across the thread boundary: another
    // thread would meet the same database. Anything else (a bug, an injected
    // fault) is thrown so the scheduler retries the chunk.
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_') || code.startsWith('ERR_'))) {
      const m = task.meta;
      return { ok: false, error: serializeError(fromSqliteError(err, `Chunk ${m.chunkIndex} (lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1})`)) };
    }
    throw err;
  }
}

function processChunk(task: ChunkTask): ChunkStats {
  const s = getStore();
  const { meta } = task;
  const stats: ChunkStats = {
    chunkIndex: meta.chunkIndex, outcome: 'committed', lineCount: meta.lineCount, blankLines: 0, inserted: 0,
    updated: 0, unchanged: 0, rejected: 0, threadId, parseMs: 0, lockWaitMs: 0, writeMs: 0,
  };
  const done = s.getChunk(task.runId, meta.chunkIndex);
  if (done !== undefined) {
    // A retry after the chunk committed (the worker died before replying).
    turns.advanceFrom(task.turn);
    return { ...stats, ...pickCounts(done), outcome: 'already' };
  }
  injectFault(init.faults, task, 'before-parse', s);

  const t0 = performance.now();
  const { lines, rejects, blankLines } = readChunk(task);
  const same = stageChanged(s, meta.chunkIndex, lines, rejects);
  const t1 = performance.now();
  stats.parseMs = t1 - t0;

  if (!turns.waitFor(task.turn)) return { ...stats, outcome: 'aborted' };
  let locked = 0;
  const cp = withBusyRetry(
    () => s.commitChunk(task.runId, { meta, rows: same, preStaged: true, rejects, blankLines, reparse: parseLine }, {
      onLocked: () => { locked = performance.now(); },
      beforeCommit: () => injectFault(init.faults, task, 'in-transaction', s),
    }),
    init.maxBusyWaitMs,
    `Chunk ${meta.chunkIndex} (lines ${meta.firstLineNo}-${meta.firstLineNo + meta.lineCount - 1})`,
  );
  // Still holding the turn: past maxRejects, no later chunk may commit, so a
  // failed run keeps the same chunks whatever the thread timing.
  if (turns.addRejected(cp.rejected) > init.maxRejects) turns.abort(task.turn + 1);
  turns.advanceFrom(task.turn);
  stats.lockWaitMs = locked - t1; // waiting for the chunk's turn, then for SQLite's write lock
  stats.writeMs = performance.now() - locked;
  return { ...stats, ...pickCounts(cp) };
}

/** A line to parse or skip: its raw bytes, its line hash and its guessed `item_id`. */
interface HashedLine {
  readonly lineNo: number;
  readonly bytes: Uint8Array;
  readonly hash: string;
  readonly id: string | undefined;
}

/** Splits the chunk and hashes each line; blank lines are counted, undecodable ones rejected. Nothing is parsed yet. */
function readChunk(task: ChunkTask): { lines: HashedLine[]; rejects: Reject[]; blankLines: number } {
  const lines: HashedLine[] = [];
  const rejects: Reject[] = [];
  let blankLines = 0;
  for (const line of splitChunk(task.bytes, task.meta.firstLineNo, init.maxLineBytes)) {
    if (line.kind === 'blank') blankLines++;
    else if (line.kind === 'reject') rejects.push(line.reject);
    else lines.push({ lineNo: line.lineNo, bytes: line.bytes, hash: lineHash(seed, line.bytes), id: quickItemId(line.bytes) });
  }
  return { lines, rejects, blankLines };
}

/**
 * Parses every line that is not the line behind its stored row and stages
 * the rows (parse failures go to `rejects`); returns the lines skipped as
 * unchanged, which the commit confirms under the write lock. Parsed rows go
 * to this connection's staging table in small batches, as they come: nothing
 * is locked yet, and they do not pile up in the heap.
 */
function stageChanged(s: StateStore, chunkIndex: number, lines: readonly HashedLine[], rejects: Reject[]): { same: SameLine }[] {
  const ids = lines.flatMap((l) => (l.id === undefined ? [] : [l.id]));
  const stored = init.parseAll
    ? new Map<string, string>()
    : withBusyRetry(() => s.storedLineHashes(ids), init.maxBusyWaitMs, `Chunk ${chunkIndex}: looking up stored lines`);
  const same: { same: SameLine }[] = [];
  s.resetStaging();
  let batch: StagedRow[] = [];
  for (const line of lines) {
    // The line that produced the stored row, byte for byte: no need to parse
    // it (confirmed again under the write lock).
    const h = line.hash;
    if (line.id !== undefined && stored.get(line.id) === h) {
      same.push({ same: { itemId: line.id, lineHash: h, lineNo: line.lineNo, bytes: line.bytes } });
      continue;
    }
    const r = parseLine(line.lineNo, line.bytes);
    if (r.ok) {
      r.row.lineHash = h;
      batch.push({ ord: line.lineNo, row: r.row });
      if (batch.length === STAGE_BATCH) {
        s.stageRows(batch);
        batch = [];
      }
    } else rejects.push(r.reject);
  }
  if (batch.length > 0) s.stageRows(batch);
  return same;
}

function pickCounts(c: { blankLines: number; inserted: number; updated: number; unchanged: number; rejected: number }) {
  return { blankLines: c.blankLines, inserted: c.inserted, updated: c.updated, unchanged: c.unchanged, rejected: c.rejected };
}
