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
  close(): Promise<void>;
}
