/**
 * What the reading commands (`runs`, `items`, `rejects`, `verify`) need of a
 * database, whichever backend holds it: a SQLite file (`StateStore`, read
 * only) or a PostgreSQL database (`PgStore`). Asynchronous, as a server is.
 */
import type { IntelItem, LineCounts, LinePosition, RejectRecord, RunRecord, RunStatus } from './types';
import type { DbTarget } from './target';

export interface ReadStore {
  readonly kind: DbTarget['kind'];
  /** What messages and hints name: the file's path, or the URL without its password. */
  readonly label: string;
  /** The run a user's reference names: an exact id, `latest`, or a unique id prefix. */
  resolveRun(ref: string): Promise<RunRecord>;
  /** Newest first. */
  listRuns(options?: { limit?: number; status?: RunStatus }): Promise<RunRecord[]>;
  /** Totals over a run's committed chunks (the truth while it runs). */
  chunkTotals(runId: string): Promise<LineCounts & { chunks: number }>;
  readTelemetry(runId: string): Promise<Record<string, unknown> | undefined>;
  getIntelItem(itemId: string): Promise<IntelItem | undefined>;
  /** A run's items in a stable order, streamed. */
  iterateIntelItemsForRun(runId: string): AsyncIterable<IntelItem>;
  /** A run's rejects in line order, streamed. */
  iterateRejects(runId: string): AsyncIterable<RejectRecord>;
  /** Where each of a run's rejected lines is in its input, in input order, streamed (`ingest --rejects-lines`). */
  iterateRejectPositions(runId: string): AsyncIterable<LinePosition>;
  /** Rejected lines per code, most frequent first. */
  rejectCounts(runId: string): Promise<{ code: string; count: number }[]>;
  /** The first `limit` rejects with `code`, in line order. */
  rejectExamples(runId: string, code: string, limit: number): Promise<RejectRecord[]>;
  /** A `running` run whose owner is gone (no live process holds it). */
  isStale(run: RunRecord): boolean;
  /** Damage the backend itself can see (SQLite: integrity and foreign keys); empty when healthy. */
  checkIntegrity(): Promise<string[]>;
  /**
   * The run's committed chunks in commit order, `groupSize` consecutive ones
   * summed into each group (the run report's timeline: bounded whatever the
   * run's length).
   */
  chunkGroups(runId: string, groupSize: number): Promise<ChunkGroup[]>;
  /** The run's rejects counted per code and per bin of `linesPerBin` line numbers (bin -1: line number not known yet). */
  rejectBins(runId: string, linesPerBin: number): Promise<RejectBin[]>;
  /** The run's items counted per decision and per trend-score bin of `width` points (bins 0 to `lastBin`; null: no score). */
  scoreBins(runId: string, width: number, lastBin: number): Promise<ScoreBin[]>;
  close(): Promise<void>;
}

/** Consecutive committed chunks of a run, in commit order, summed. Times are Unix milliseconds. */
export interface ChunkGroup {
  chunks: number;
  firstChunk: number;
  lastChunk: number;
  lines: number;
  /** Non-blank lines. */
  items: number;
  rejected: number;
  /** Unix milliseconds of the group's first and last checkpoint. */
  firstAt: number;
  lastAt: number;
}

export interface RejectBin {
  bin: number;
  code: string;
  count: number;
}

export interface ScoreBin {
  decision: string | null;
  bin: number | null;
  count: number;
}
