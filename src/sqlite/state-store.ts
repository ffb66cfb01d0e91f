import type Database from 'better-sqlite3';
import type { IntelRow } from '../domain/types';
import { StoreError } from '../errors';
import { fromSqliteError } from './errors';
import { ChunksRepo } from './chunks';
import { openDatabase, resolveStoreOptions } from './connection';
import { ItemsRepo } from './items';
import { JSON_COLUMNS } from '../store/item-row';
import type { ChunkGroup, RejectBin, ScoreBin } from '../store/read-store';
import { ReportQueries } from './report-queries';
import { RunsRepo } from './runs';
import { unknownRun } from '../store/run-rules';
import { TelemetryRepo } from './telemetry';
import type {
  ChunkCheckpoint, IntelItem, LineCounts, RejectRecord, RunRecord, RunStatus, StartRunInput, StoreOptions, UpsertCounts,
} from '../store/types';

interface Repos {
  db: Database.Database;
  runs: RunsRepo;
  items: ItemsRepo;
  chunks: ChunksRepo;
  telemetry: TelemetryRepo;
  report: ReportQueries;
}

/**
 * The Brand Orchestrator's state in one SQLite file. One store is one
 * connection; every thread opens its own. Statements are prepared once.
 *
 * @example
 * using store = StateStore.open('./data/brand_orchestrator.sqlite');
 * const run = store.startRun({ runType: 'manual' });
 */
export class StateStore {
  #repos: Repos | undefined;
  readonly path: string;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#repos = {
      db, runs: new RunsRepo(db), items: new ItemsRepo(db), chunks: new ChunksRepo(db), telemetry: new TelemetryRepo(db),
      report: new ReportQueries(db),
    };
  }

  /** Opens (creating parent folders and the schema) or upgrades the database at `path`. */
  static open(path: string, options?: StoreOptions): StateStore {
    const resolved = resolveStoreOptions(options);
    const db = openDatabase(path, resolved);
    try {
      const store = new StateStore(path, db);
      // Opened read-write where it may (see openDatabase), a read-only store still writes nothing: once its
      // connection's TEMP stage exists, every write fails with SQLITE_READONLY.
      if (resolved.readonly) db.pragma('query_only = ON');
      return store;
    } catch (err) {
      db.close();
      throw err instanceof StoreError ? err : fromSqliteError(err, `Cannot prepare database ${path}`);
    }
  }

  get isOpen(): boolean {
    return this.#repos !== undefined;
  }

  close(): void {
    const r = this.#repos;
    if (r === undefined) return;
    this.#repos = undefined;
    r.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #r(): Repos {
    if (this.#repos === undefined) throw new StoreError('ERR_STORE_CLOSED', `The store for ${this.path} is closed; open a new one`);
    return this.#repos;
  }

  /**
   * Runs `fn` atomically: everything rolls back if it throws. Nests (inner
   * calls become savepoints). `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return this.#r().db.transaction(fn)();
  }

  // Runs -------------------------------------------------------------------
  startRun(input: StartRunInput): RunRecord { return this.#r().runs.start(input); }
  finishRun(runId: string, status: RunStatus, notes?: string | null, counts?: Partial<LineCounts> & { chunks?: number }): RunRecord {
    return this.#r().runs.finish(runId, status, notes, counts);
  }
  getRun(runId: string): RunRecord { return this.#r().runs.get(runId); }
  findRun(runId: string): RunRecord | undefined { return this.#r().runs.find(runId); }
  /** The run a user's reference names: an exact id, `latest`, or a unique id prefix (see `RunsRepo.resolve`). */
  resolveRun(ref: string): RunRecord { return this.#r().runs.resolve(ref); }
  listRuns(options?: { limit?: number; status?: RunStatus }): RunRecord[] { return this.#r().runs.list(options); }
  heartbeat(runId: string): void { this.#r().runs.heartbeat(runId); }
  /** Sets an unfinished run back to `running` under `ownerToken` (used by resume). */
  reopenRun(runId: string, ownerToken?: string): RunRecord { return this.#r().runs.reopen(runId, ownerToken); }

  // Items ------------------------------------------------------------------
  /** Upserts one row for `runId`; see {@link StateStore.upsertIntelItemsBatch}. */
  upsertIntelItem(runId: string, row: IntelRow): UpsertCounts {
    return this.upsertIntelItemsBatch(runId, [row]);
  }

  /**
   * Upserts `rows` in one transaction, all or nothing, in order (a later row
   * of the same item wins). `created_at` of an existing item is kept; a row
   * whose content equals the stored one is counted `unchanged` and not
   * rewritten. The same engine the pipeline's workers write with.
   */
  upsertIntelItemsBatch(runId: string, rows: readonly IntelRow[]): UpsertCounts {
    const r = this.#r();
    const now = new Date().toISOString();
    try {
      return r.db.transaction(() => {
        r.items.clearStage();
        rows.forEach((row, i) => r.items.stage(row, i + 1));
        return r.items.merge(runId, now);
      }).immediate();
    } catch (err) {
      throw mapWriteError(err, r, runId, 'Upsert of intel items failed');
    }
  }

  getIntelItem(itemId: string): IntelItem | undefined { return this.#r().items.get(itemId); }
  /** A run's items in a stable order (created_at, then insertion order). */
  listIntelItemsForRun(runId: string): IntelItem[] { return this.#r().items.listForRun(runId); }
  /** Like {@link StateStore.listIntelItemsForRun}, streaming. Do not write on this connection while iterating. */
  iterateIntelItemsForRun(runId: string): Generator<IntelItem> { return this.#r().items.iterateForRun(runId); }
  countItems(runId?: string): number { return this.#r().items.count(runId); }

  // Chunks and rejects -------------------------------------------------------
  getChunk(runId: string, chunkIndex: number): ChunkCheckpoint | undefined { return this.#r().chunks.get(runId, chunkIndex); }
  listChunks(runId: string): ChunkCheckpoint[] { return this.#r().chunks.list(runId); }
  chunkTotals(runId: string): LineCounts & { chunks: number } { return this.#r().chunks.totals(runId); }
  iterateRejects(runId: string): Generator<RejectRecord> { return this.#r().chunks.iterateRejects(runId); }
  listRejects(runId: string): RejectRecord[] { return [...this.iterateRejects(runId)]; }
  /** Rejected lines per code, most frequent first. */
  rejectCounts(runId: string): { code: string; count: number }[] { return this.#r().chunks.rejectCounts(runId); }
  /** The first `limit` rejects with `code`, in line order. */
  rejectExamples(runId: string, code: string, limit: number): RejectRecord[] { return this.#r().chunks.rejectExamples(runId, code, limit); }

  // Telemetry ----------------------------------------------------------------
  writeTelemetry(runId: string, telemetry: Record<string, unknown>): void {
    const r = this.#r();
    if (r.runs.find(runId) === undefined) throw unknownRun(runId);
    r.telemetry.write(runId, telemetry);
  }
  readTelemetry(runId: string): Record<string, unknown> | undefined { return this.#r().telemetry.read(runId); }

  // The run report's aggregates (see ReadStore) ---------------------------------
  /** @internal */
  chunkGroups(runId: string, groupSize: number): ChunkGroup[] { return this.#r().report.chunkGroups(runId, groupSize); }
  /** @internal */
  rejectBins(runId: string, linesPerBin: number): RejectBin[] { return this.#r().report.rejectBins(runId, linesPerBin); }
  /** @internal */
  scoreBins(runId: string, width: number, lastBin: number): ScoreBin[] { return this.#r().report.scoreBins(runId, width, lastBin); }

  // Maintenance ----------------------------------------------------------------
  /** Folds the WAL back into the database file (done once at the end of a run). */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE' = 'TRUNCATE'): void {
    this.#r().db.pragma(`wal_checkpoint(${mode === 'TRUNCATE' ? 'TRUNCATE' : 'PASSIVE'})`);
  }

  /** The connection's effective pragmas (for diagnostics and tests). */
  connectionSettings(): {
    journalMode: string; foreignKeys: boolean; synchronous: 'NORMAL' | 'FULL' | 'OTHER'; busyTimeoutMs: number;
    walAutocheckpointPages: number; cacheSizeKib: number;
  } {
    const db = this.#r().db;
    const sync = db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
      foreignKeys: db.pragma('foreign_keys', { simple: true }) === 1,
      synchronous: sync === 1 ? 'NORMAL' : sync === 2 ? 'FULL' : 'OTHER',
      busyTimeoutMs: db.pragma('busy_timeout', { simple: true }) as number,
      walAutocheckpointPages: db.pragma('wal_autocheckpoint', { simple: true }) as number,
      cacheSizeKib: -(db.pragma('cache_size', { simple: true }) as number),
    };
  }

  /** `PRAGMA integrity_check` and `foreign_key_check` problems; empty when healthy. */
  checkIntegrity(): string[] {
    const db = this.#r().db;
    const problems = (db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check).filter((m) => m !== 'ok');
    for (const fk of db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
      problems.push(`foreign key: ${fk.table} row ${fk.rowid} points to a missing ${fk.parent} row`);
    }
    // Rows a reader cannot parse (written by hand, or by a version that stored NaN): named, at most 20.
    const invalid = JSON_COLUMNS.map((c) => `json_valid(${c}) = 0`).join(' OR ');
    const bad = db.prepare(`SELECT item_id, ${JSON_COLUMNS.map((c) => `json_valid(${c}) AS ${c}`).join(', ')} FROM main.intel_items WHERE ${invalid} LIMIT 21`)
      .all() as (Record<(typeof JSON_COLUMNS)[number], number> & { item_id: string })[];
    for (const row of bad.slice(0, 20)) {
      problems.push(`item ${JSON.stringify(row.item_id)}: ${JSON_COLUMNS.filter((c) => row[c] === 0).join(', ')} not valid JSON`);
    }
    if (bad.length > 20) problems.push('more items with columns that are not valid JSON (the first 20 are listed)');
    return problems;
  }
}

function mapWriteError(err: unknown, r: Repos, runId: string, context: string): Error {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' && r.runs.find(runId) === undefined) return unknownRun(runId);
  return fromSqliteError(err, context);
}
