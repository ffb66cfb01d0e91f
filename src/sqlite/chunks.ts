import type Database from 'better-sqlite3';
import type { Reject } from '../domain/types';
import type { ChunkCheckpoint, ChunkMeta, LineCounts, RejectRecord } from '../store/types';

interface ChunkRow {
  chunk_index: number; first_line_no: number; line_count: number; byte_start: number; byte_end: number;
  checksum: string; blank_lines: number; inserted: number; updated: number; unchanged: number; rejected: number;
  committed_at: string;
}

/** Statements of the per-run checkpoint (`run_chunks`) and rejects (`run_rejects`) tables. */
export class ChunksRepo {
  readonly #insertChunk: Database.Statement;
  readonly #insertReject: Database.Statement;
  readonly #getChunk: Database.Statement;
  readonly #listChunks: Database.Statement;
  readonly #listRejects: Database.Statement;
  readonly #sums: Database.Statement;
  readonly #rejectCounts: Database.Statement;
  readonly #rejectExamples: Database.Statement;

  constructor(db: Database.Database) {
    this.#insertChunk = db.prepare(
      `INSERT INTO run_chunks (run_id, chunk_index, first_line_no, line_count, byte_start, byte_end, checksum,
         blank_lines, inserted, updated, unchanged, rejected, committed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // OR REPLACE: a line re-delivered by a resumed run keeps one reject row.
    this.#insertReject = db.prepare('INSERT OR REPLACE INTO run_rejects (run_id, line_no, code, reason, excerpt) VALUES (?, ?, ?, ?, ?)');
    this.#getChunk = db.prepare('SELECT * FROM run_chunks WHERE run_id = ? AND chunk_index = ?');
    this.#listChunks = db.prepare('SELECT * FROM run_chunks WHERE run_id = ? ORDER BY chunk_index');
    this.#listRejects = db.prepare('SELECT line_no, code, reason, excerpt FROM run_rejects WHERE run_id = ? ORDER BY line_no');
    this.#sums = db.prepare(
      `SELECT count(*) AS chunks, coalesce(sum(line_count), 0) AS linesRead, coalesce(sum(blank_lines), 0) AS blankLines,
         coalesce(sum(inserted), 0) AS inserted, coalesce(sum(updated), 0) AS updated,
         coalesce(sum(unchanged), 0) AS unchanged, coalesce(sum(rejected), 0) AS rejected
       FROM run_chunks WHERE run_id = ?`,
    );
    this.#rejectCounts = db.prepare('SELECT code, count(*) AS count FROM run_rejects WHERE run_id = ? GROUP BY code ORDER BY count(*) DESC, code');
    this.#rejectExamples = db.prepare(
      'SELECT line_no, code, reason, excerpt FROM run_rejects WHERE run_id = ? AND code = ? ORDER BY line_no LIMIT ?',
    );
  }

  insertCheckpoint(runId: string, meta: ChunkMeta, counts: Omit<LineCounts, 'linesRead'>, now: string): void {
    this.#insertChunk.run(
      runId, meta.chunkIndex, meta.firstLineNo, meta.lineCount, meta.byteStart, meta.byteEnd, meta.checksum,
      counts.blankLines, counts.inserted, counts.updated, counts.unchanged, counts.rejected, now,
    );
  }

  insertReject(runId: string, r: Reject): void {
    this.#insertReject.run(runId, r.lineNo, r.code, r.reason, r.excerpt);
  }

  get(runId: string, chunkIndex: number): ChunkCheckpoint | undefined {
    const row = this.#getChunk.get(runId, chunkIndex) as ChunkRow | undefined;
    return row === undefined ? undefined : toCheckpoint(row);
  }

  list(runId: string): ChunkCheckpoint[] {
    return (this.#listChunks.all(runId) as ChunkRow[]).map(toCheckpoint);
  }

  /** Totals over the committed chunks of a run: the source of truth for its counters. */
  totals(runId: string): LineCounts & { chunks: number } {
    return this.#sums.get(runId) as LineCounts & { chunks: number };
  }

  /** How many lines of a run were rejected with each code, most frequent first. */
  rejectCounts(runId: string): { code: string; count: number }[] {
    return this.#rejectCounts.all(runId) as { code: string; count: number }[];
  }

  /** The first `limit` rejects of a run with `code`, in line order. */
  rejectExamples(runId: string, code: string, limit: number): RejectRecord[] {
    return (this.#rejectExamples.all(runId, code, limit) as RejectRow[]).map(toReject);
  }

  *iterateRejects(runId: string): Generator<RejectRecord> {
    for (const r of this.#listRejects.iterate(runId) as IterableIterator<RejectRow>) yield toReject(r);
  }
}

interface RejectRow { line_no: number; code: string; reason: string; excerpt: string }

function toReject(r: RejectRow): RejectRecord {
  return { lineNo: r.line_no, code: r.code, reason: r.reason, excerpt: r.excerpt };
}

function toCheckpoint(r: ChunkRow): ChunkCheckpoint {
  return {
    chunkIndex: r.chunk_index, firstLineNo: r.first_line_no, lineCount: r.line_count, byteStart: r.byte_start,
    byteEnd: r.byte_end, checksum: r.checksum, blankLines: r.blank_lines, inserted: r.inserted, updated: r.updated,
    unchanged: r.unchanged, rejected: r.rejected, committedAt: r.committed_at,
  };
}
