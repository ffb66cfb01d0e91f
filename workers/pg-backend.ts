/**
 * {@link ChunkBackend} on a worker's own PostgreSQL connection: each parsed
 * row encoded at once as its COPY record (outside the JS heap) with its
 * line's byte position; a chunk publishes its item ids and waits until no
 * earlier chunk can still deliver one of them (chunks with no item in
 * common commit in any order); the commit COPYs and merges in one
 * transaction (`PgChunkBackend`). Loaded only by a PostgreSQL run's workers.
 */
import { EXCERPT_MAX_CHARS } from '../src/domain/parse';
import { truncate } from '../src/domain/invalid';
import type { IntelRow, Reject } from '../src/domain/types';
import { serializeError } from '../src/errors';
import { fromPgError } from '../src/pg/connect';
import { CopyRecords } from '../src/pg/copy-binary';
import { isTransient } from '../src/pg/outage';
import { PgChunkBackend, stageRow, type StagedRow } from '../src/pg/pg-chunk-backend';
import type { ChunkTask, PgWorkerInit } from '../src/protocol/messages';
import { isKept } from '../src/store/chunk-backend';
import { TransientOpenError, type ChunkBackend, type ChunkCounts, type ChunkLine, type CommitOutcome, type ErrorReply, type KeptLine, type StageRow } from './chunk-backend';

interface ChunkState {
  task: ChunkTask;
  /** Each line's byte offset in the input, by line number within the chunk. */
  offsets: Map<number, number>;
  records: CopyRecords;
  /** The time of ingest: the created_at of a row whose line has none. */
  now: number;
}

export class PgWorkerBackend implements ChunkBackend<StagedRow> {
  readonly #engine: PgChunkBackend;
  readonly #orderWaitMs: number;
  #chunk: ChunkState | undefined;

  private constructor(engine: PgChunkBackend, init: PgWorkerInit) {
    this.#engine = engine;
    this.#orderWaitMs = init.orderWaitMs;
  }

  /** Connects; a server that is away is a {@link TransientOpenError}. */
  static async open(init: PgWorkerInit): Promise<PgWorkerBackend> {
    try {
      return new PgWorkerBackend(await PgChunkBackend.open(init.url, init.label, init.leaseMs), init);
    } catch (err) {
      if (isTransient(err)) throw new TransientOpenError({ error: serializeError(err), transient: true, reconnect: true });
      throw err;
    }
  }

  /** Never known before the commit, which answers `already` (done by another process, or before a retry). */
  committedChunk(): Promise<ChunkCounts | undefined> {
    return Promise.resolve(undefined);
  }

  storedLineHashes(itemIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    return this.#engine.storedLineHashes(itemIds);
  }

  beginChunk(task: ChunkTask, lines: readonly ChunkLine[]): void {
    const base = task.bytes.byteOffset;
    const offsets = new Map<number, number>();
    for (const l of lines) offsets.set(l.lineNo, task.meta.byteStart + (l.bytes.byteOffset - base));
    this.#chunk = { task, offsets, records: new CopyRecords(task.bytes.byteLength + (task.bytes.byteLength >> 2)), now: Date.now() };
  }

  stage<T>(fn: (put: StageRow<StagedRow>) => T): T {
    const c = this.#current();
    const run = { runId: c.task.runId, runSeq: runSeqOf(c.task) };
    return fn((row, line) => storable(row, line.lineNo) ?? stageRow(c.records, row, run, c.offsets.get(line.lineNo) as number, c.now));
  }

  async awaitOrder(task: ChunkTask, entries: readonly (StagedRow | KeptLine)[]): Promise<'go' | 'deferred'> {
    const ids = [...new Set(entries.map((e) => e.itemId))];
    await this.#engine.publishItemIds(task.runId, task.meta.chunkIndex, ids);
    return await this.#engine.waitForEarlier(task.runId, task.meta.chunkIndex, ids, this.#orderWaitMs) ? 'go' : 'deferred';
  }

  async commitChunk(task: ChunkTask, entries: readonly (StagedRow | KeptLine)[], rejects: readonly Reject[], blankLines: number): Promise<CommitOutcome> {
    const c = this.#current();
    const m = task.meta;
    const lockedAt = performance.now();
    const r = await this.#engine.commitChunk({
      runId: task.runId, runSeq: runSeqOf(task), chunkIndex: m.chunkIndex, byteStart: m.byteStart, byteEnd: m.byteEnd,
      lineCount: m.lineCount, checksum: m.checksum, entries, records: c.records, rejects, blankLines,
      posOf: (e) => (isKept(e) ? c.offsets.get(e.lineNo) as number : e.pos),
    });
    if ('committed' in r) return { committed: r.committed, lockedAt, conflicts: r.conflicts };
    return r;
  }

  /** No turns: chunks with no item in common commit in any order. */
  settle(): void {
    this.#chunk = undefined;
  }

  /**
   * A lost connection: the chunk rolled back; the scheduler tries it again
   * on a new one, with back-off while the server is away. Another coded
   * database error is final for this chunk, and keeps its code.
   */
  errorReply(err: unknown, task: ChunkTask): ErrorReply | undefined {
    const m = task.meta;
    if (isTransient(err)) {
      return { error: serializeError(fromPgError(err, this.#engine.where, `Chunk ${m.chunkIndex} (bytes ${m.byteStart}-${m.byteEnd})`)), transient: true, reconnect: true };
    }
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' && code.startsWith('ERR_') ? { error: serializeError(err) } : undefined;
  }

  close(): Promise<void> {
    return this.#engine.close();
  }

  #current(): ChunkState {
    if (this.#chunk === undefined) throw new Error('No chunk begun on this PostgreSQL worker');
    return this.#chunk;
  }
}

function runSeqOf(task: ChunkTask): number {
  if (task.runSeq === undefined) throw new Error(`Chunk ${task.meta.chunkIndex} of a PostgreSQL run came without its run's place (runSeq)`);
  return task.runSeq;
}

/** PostgreSQL text cannot hold U+0000, which JSON allows in strings: such a line is rejected rather than altered. */
function storable(row: IntelRow, lineNo: number): Reject | undefined {
  for (const [field, v] of [['title', row.title], ['summary', row.summary], ['decision_reason', row.decisionReason]] as const) {
    if (v !== null && v.includes('\u0000')) {
      return {
        lineNo, code: 'invalid_value', reason: `Field \`${field}\` holds the character U+0000, which PostgreSQL text cannot store`,
        excerpt: truncate(v.replaceAll('\u0000', '\\u0000'), EXCERPT_MAX_CHARS),
      };
    }
  }
  return undefined;
}
