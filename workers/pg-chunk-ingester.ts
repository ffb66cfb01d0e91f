/**
 * The PostgreSQL twin of `ChunkIngester`: split -> skip unchanged -> parse
 * -> wait for earlier chunks with the same items -> write, on this thread's
 * own connection (`PgChunkBackend`). No turns: chunks with no item in common
 * commit in any order; each row carries its line's byte position.
 */
import { threadId } from 'node:worker_threads';
import { lineHashSeed } from '../src/domain';
import { EXCERPT_MAX_CHARS } from '../src/domain/parse';
import { truncate } from '../src/domain/invalid';
import type { IntelRow, Reject } from '../src/domain/types';
import { PgChunkBackend, stageRow, type StagedRow } from '../src/pg/pg-chunk-backend';
import { CopyRecords } from '../src/pg/copy-binary';
import type { PgChunkStats, PgChunkTask, PgWorkerInit } from '../src/protocol/pg-messages';
import { isKept, type KeptLine } from '../src/store/chunk-backend';
import { buildEntries, guessedIds, lineParser, parseStale, splitAndHash, type LineParser } from './chunk-lines';

export class PgChunkIngester {
  readonly #init: PgWorkerInit;
  readonly #backend: PgChunkBackend;
  readonly #seed: string;

  private constructor(init: PgWorkerInit, backend: PgChunkBackend) {
    this.#init = init;
    this.#backend = backend;
    this.#seed = lineHashSeed(init.config, init.maxLineBytes);
  }

  static async open(init: PgWorkerInit): Promise<PgChunkIngester> {
    return new PgChunkIngester(init, await PgChunkBackend.open(init.url, init.label, init.leaseMs));
  }

  async close(): Promise<void> {
    await this.#backend.close();
  }

  /** The server, for messages. */
  get where(): string {
    return this.#backend.where;
  }

  async ingest(task: PgChunkTask): Promise<PgChunkStats> {
    const t0 = performance.now();
    // Line numbers within the chunk: a chunk's first line number is not known
    // to a process that did not read the chunks before it (PgStore adds it).
    const { lines, rejects, blankLines } = splitAndHash(task.bytes, 1, this.#seed, this.#init.maxLineBytes);
    const base = task.bytes.byteOffset;
    const offsets = new Map<number, number>();
    for (const l of lines) offsets.set(l.lineNo, task.byteStart + (l.bytes.byteOffset - base));
    // Each parsed row is encoded at once as its COPY record (outside the JS heap); the chunk keeps only its id,
    // content hash and record number until the commit.
    const records = new CopyRecords(task.bytes.byteLength + (task.bytes.byteLength >> 2));
    const now = Date.now();
    const run = { runId: task.runId, runSeq: task.runSeq };
    const parseRow = lineParser(this.#init.config, this.#init.maxLineBytes, storable);
    const parse: LineParser<StagedRow> = (lineNo, bytes, hash, out) => {
      const row = parseRow(lineNo, bytes, hash, out);
      if (row === undefined) return undefined;
      return stageRow(records, row, run, offsets.get(lineNo) as number, now);
    };
    const stored = this.#init.parseAll ? new Map<string, string>() : await this.#backend.storedLineHashes(guessedIds(lines));
    const built = buildEntries(lines, stored, parse, rejects);
    const ids = [...new Set(built.entries.map((e) => e.itemId))];
    await this.#backend.publishItemIds(task.runId, task.chunkIndex, ids);
    const t1 = performance.now();
    if (!(await this.#backend.waitForEarlier(task.runId, task.chunkIndex, ids, this.#init.orderWaitMs))) {
      return {
        chunkIndex: task.chunkIndex, outcome: 'deferred', lineCount: task.lineCount, blankLines: 0, inserted: 0, updated: 0,
        unchanged: 0, rejected: 0, threadId, parseMs: t1 - t0, writeMs: 0, conflicts: 0,
      };
    }
    const posOf = (e: StagedRow | KeptLine) => (isKept(e) ? offsets.get(e.lineNo) as number : e.pos);
    let conflicts = 0;
    for (;;) {
      const result = await this.#backend.commitChunk({
        runId: task.runId, runSeq: task.runSeq, chunkIndex: task.chunkIndex, byteStart: task.byteStart, byteEnd: task.byteEnd,
        lineCount: task.lineCount, checksum: task.checksum, entries: built.entries, posOf, records, rejects, blankLines,
      });
      conflicts += result.conflicts;
      const stats: PgChunkStats = {
        chunkIndex: task.chunkIndex, outcome: 'committed', lineCount: task.lineCount, blankLines, inserted: 0, updated: 0,
        unchanged: 0, rejected: 0, threadId, parseMs: t1 - t0, writeMs: performance.now() - t1, conflicts,
      };
      if ('already' in result) return { ...stats, blankLines: 0, outcome: 'already' };
      if ('committed' in result) return { ...stats, ...result.committed };
      parseStale(built, result.stale, parse, rejects);
    }
  }
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
