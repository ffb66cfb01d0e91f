import type Database from 'better-sqlite3';
import type { ChunkGroup, RejectBin, ScoreBin } from '../store/read-store';

/** A stored ISO time as Unix milliseconds. */
const MS = (column: string) => `(julianday(${column}) - 2440587.5) * 86400000.0`;

/**
 * The aggregates the run report embeds (src/report), each one statement that
 * sums in SQL, so that what leaves the database is bounded by the groups and
 * bins asked for, never by the run's lines.
 */
export class ReportQueries {
  readonly #groups: Database.Statement;
  readonly #rejectBins: Database.Statement;
  readonly #scoreBins: Database.Statement;

  constructor(db: Database.Database) {
    this.#groups = db.prepare(
      `WITH c AS (
         SELECT chunk_index, line_count, blank_lines, rejected, ${MS('committed_at')} AS at,
           CAST((row_number() OVER (ORDER BY committed_at, chunk_index) - 1) / @size AS INTEGER) AS g
         FROM run_chunks WHERE run_id = @runId)
       SELECT count(*) AS chunks, min(chunk_index) AS firstChunk, max(chunk_index) AS lastChunk, sum(line_count) AS lines,
         sum(line_count - blank_lines) AS items, sum(rejected) AS rejected, min(at) AS firstAt, max(at) AS lastAt
       FROM c GROUP BY g ORDER BY g`,
    );
    this.#rejectBins = db.prepare(
      `SELECT CAST((line_no - 1) / @per AS INTEGER) AS bin, code, count(*) AS count FROM run_rejects WHERE run_id = @runId
       GROUP BY bin, code ORDER BY bin, code`,
    );
    this.#scoreBins = db.prepare(
      `SELECT decision, CASE WHEN trend_score IS NULL THEN NULL ELSE max(0, min(@last, CAST(trend_score / @width AS INTEGER))) END AS bin,
         count(*) AS count
       FROM intel_items WHERE run_id = @runId GROUP BY decision, bin ORDER BY decision, bin`,
    );
  }

  chunkGroups(runId: string, groupSize: number): ChunkGroup[] {
    return this.#groups.all({ runId, size: positive(groupSize) }) as ChunkGroup[];
  }

  rejectBins(runId: string, linesPerBin: number): RejectBin[] {
    return this.#rejectBins.all({ runId, per: positive(linesPerBin) }) as RejectBin[];
  }

  scoreBins(runId: string, width: number, lastBin: number): ScoreBin[] {
    return this.#scoreBins.all({ runId, width, last: lastBin }) as ScoreBin[];
  }
}

/** A group or bin size: a whole number of at least 1 (better-sqlite3 binds a number as a REAL, hence the CASTs above). */
function positive(n: number): number {
  return Math.max(1, Math.ceil(n));
}
