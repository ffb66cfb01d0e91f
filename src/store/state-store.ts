import type Database from 'better-sqlite3';
import type { IntelRow, ParseResult, Reject } from '../domain/types';
import { InvalidOptionError, StoreError, fromSqliteError } from '../errors';
import { ChunksRepo } from './chunks';
import { openDatabase, resolveStoreOptions } from './connection';
import { ItemsRepo, type SameLine } from './items';
import { RunsRepo, unknownRun, type StartRunInput } from './runs';
import { ItemStaging } from './staging';
import { TelemetryRepo } from './telemetry';
import type {
  ChunkCheckpoint, ChunkMeta, IntelItem, LineCounts, RejectRecord, RunRecord, RunStatus, StoreOptions, UpsertCounts,
} from './types';

interface Repos {
  db: Database.Database;
  runs: RunsRepo;
  items: ItemsRepo;
  staging: ItemStaging;
  chunks: ChunksRepo;
  telemetry: TelemetryRepo;
}

/** What one committed chunk holds: its items, its rejects and its blank-line count. */
export interface ChunkWrite {
  meta: ChunkMeta;
  /**
   * In line order: parsed rows, and lines skipped as unchanged (`same`, see
   * `SameLine`). With `preStaged`, only `same` lines: the parsed rows were
   * staged beforehand with `stageRows`, each at its line number.
   */
  rows: readonly (IntelRow | { same: SameLine })[];
  /** The chunk's parsed rows are already staged (`resetStaging` + `stageRows`, outside the lock). */
  preStaged?: boolean;
  rejects: readonly Reject[];
  blankLines: number;
  /** Parses a skipped line whose row changed since it was skipped; required when `rows` holds any. */
  reparse?: (lineNo: number, bytes: Uint8Array) => ParseResult;
}

/** A parsed row and its position in the chunk (its line number). */
export interface StagedRow {
  readonly ord: number;
  readonly row: IntelRow;
}

export interface CommitHooks {
  onLocked?: () => void;
  beforeCommit?: () => void;
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
      // Staging first: creating its TEMP table would make the others' statements re-prepare.
      db, staging: new ItemStaging(db), runs: new RunsRepo(db), items: new ItemsRepo(db), chunks: new ChunksRepo(db),
      telemetry: new TelemetryRepo(db),
    };
  }

  /** Opens (creating parent folders and the schema) or upgrades the database at `path`. */
  static open(path: string, options?: StoreOptions): StateStore {
    const db = openDatabase(path, resolveStoreOptions(options));
    try {
      return new StateStore(path, db);
    } catch (err) {
      // E.g. no writable folder for the staging table's temporary file.
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
   * Upserts `rows` in one transaction, all or nothing. `created_at` of an
   * existing item is kept; identical content (same hash) is counted
   * `unchanged` and not rewritten.
   */
  upsertIntelItemsBatch(runId: string, rows: readonly IntelRow[]): UpsertCounts {
    const r = this.#r();
    const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
    const now = new Date().toISOString();
    try {
      r.db.transaction(() => {
        for (const row of rows) r.items.upsertInto(runId, row, now, counts);
      }).immediate();
    } catch (err) {
      throw mapWriteError(err, r, runId, 'Upsert of intel items failed');
    }
    return counts;
  }

  /**
   * Commits a chunk's items, rejects and checkpoint row in one
   * `BEGIN IMMEDIATE` transaction: wholly or not at all. Under the lock the
   * skipped lines are confirmed (or parsed after all), the staged rows are
   * counted and merged into `intel_items` in line order with one statement
   * (see `ItemStaging`), with the outcome and counts of upserting them one by
   * one. Parsed rows in `rows` are staged here; a worker stages them before
   * (`preStaged`). `hooks.onLocked` runs once the write lock is held;
   * `hooks.beforeCommit` (tests only) runs inside the transaction after the
   * writes. If it fails, the staged rows stay staged for a retry.
   */
  commitChunk(runId: string, chunk: ChunkWrite, hooks: CommitHooks = {}): ChunkCheckpoint {
    const r = this.#r();
    const staging = r.staging;
    let counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
    const now = new Date().toISOString();
    let rejected = 0;
    if (chunk.preStaged !== true) staging.reset(); // its own TEMP table: no lock needed
    staging.undoable(() => {
      r.db.transaction(() => {
        hooks.onLocked?.();
        const late: Reject[] = []; // skipped lines that had to be parsed after all, and failed
        let sameUnchanged = 0;
        chunk.rows.forEach((entry, i) => {
          if (!('same' in entry)) {
            if (chunk.preStaged === true) throw new Error('commitChunk: with `preStaged`, `rows` holds only skipped lines');
            staging.add(i, entry);
            return;
          }
          const line = entry.same;
          const ord = chunk.preStaged === true ? line.lineNo : i;
          // Still the line behind the stored row, and no earlier line of this chunk touches the item.
          if (!staging.stagedBefore(line.itemId, ord) && r.items.lineHashOf(line.itemId) === line.lineHash) {
            sameUnchanged++;
            return;
          }
          // An earlier line (of this run or this chunk) changed the row after this line was skipped.
          if (chunk.reparse === undefined) throw new Error('commitChunk: a skipped line needs `reparse`');
          const p = chunk.reparse(line.lineNo, line.bytes);
          if (p.ok) staging.add(ord, { ...p.row, lineHash: line.lineHash });
          else late.push(p.reject);
        });
        counts = staging.counts();
        counts.unchanged += sameUnchanged;
        staging.merge(runId, now);
        for (const rej of chunk.rejects) r.chunks.insertReject(runId, rej);
        for (const rej of late) r.chunks.insertReject(runId, rej);
        rejected = chunk.rejects.length + late.length;
        r.chunks.insertCheckpoint(runId, chunk.meta, { ...counts, blankLines: chunk.blankLines, rejected }, now);
        hooks.beforeCommit?.();
      }).immediate();
    });
    staging.merged();
    return { ...chunk.meta, ...counts, blankLines: chunk.blankLines, rejected, committedAt: now };
  }

  /** Empties this connection's staging table (see `stageRows`). */
  resetStaging(): void {
    this.#r().staging.reset();
  }

  /**
   * Stages parsed rows in this connection's private TEMP table for the next
   * `commitChunk({ preStaged: true })`. Locks nothing in the database, so a
   * worker does it before it takes the write lock; the commit then merges
   * them with one statement, in the order of their positions (line numbers),
   * which must be distinct. All or none of `rows` are staged.
   */
  stageRows(rows: readonly StagedRow[]): void {
    const r = this.#r();
    r.staging.undoable(() => r.db.transaction(() => {
      for (const { ord, row } of rows) r.staging.add(ord, row);
    })());
  }

  /** The stored row's line hash, read outside any transaction (undefined: no such row; null: not known). */
  storedLineHash(itemId: string): string | null | undefined {
    return this.#r().items.lineHashOf(itemId);
  }

  /** Like {@link StateStore.storedLineHash} for many ids in one statement; rows without a line hash are left out. */
  storedLineHashes(itemIds: readonly string[]): Map<string, string> {
    return this.#r().items.lineHashesOf(itemIds);
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

  // Telemetry ----------------------------------------------------------------
  writeTelemetry(runId: string, telemetry: Record<string, unknown>): void {
    const r = this.#r();
    if (r.runs.find(runId) === undefined) throw unknownRun(runId);
    r.telemetry.write(runId, telemetry);
  }
  readTelemetry(runId: string): Record<string, unknown> | undefined { return this.#r().telemetry.read(runId); }

  // Maintenance ----------------------------------------------------------------
  /** Folds the WAL back into the database file (done once at the end of a run). */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE' = 'TRUNCATE'): void {
    this.#r().db.pragma(`wal_checkpoint(${mode === 'TRUNCATE' ? 'TRUNCATE' : 'PASSIVE'})`);
  }

  /**
   * Caps how large this connection may grow the file (`PRAGMA
   * max_page_count`, counted in pages); past it writes fail with
   * `SQLITE_FULL`. Returns the current page count.
   */
  capPages(maxPageCount: number): number {
    const db = this.#r().db;
    if (!Number.isInteger(maxPageCount) || maxPageCount < 1) throw new InvalidOptionError(`Expected \`maxPageCount\` to be a positive integer, got ${String(maxPageCount)}`);
    db.pragma(`max_page_count = ${maxPageCount}`); // validated integer, not data
    return db.pragma('page_count', { simple: true }) as number;
  }

  /** Pages the database file holds now. */
  pageCount(): number {
    return this.#r().db.pragma('page_count', { simple: true }) as number;
  }

  /** The connection's effective pragmas (for diagnostics and tests). */
  connectionSettings(): {
    journalMode: string; foreignKeys: boolean; synchronous: 'NORMAL' | 'FULL' | 'OTHER'; busyTimeoutMs: number;
    walAutocheckpointPages: number; tempStore: 'DEFAULT' | 'FILE' | 'MEMORY'; tempPageSize: number;
  } {
    const db = this.#r().db;
    const sync = db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
      foreignKeys: db.pragma('foreign_keys', { simple: true }) === 1,
      synchronous: sync === 1 ? 'NORMAL' : sync === 2 ? 'FULL' : 'OTHER',
      busyTimeoutMs: db.pragma('busy_timeout', { simple: true }) as number,
      walAutocheckpointPages: db.pragma('wal_autocheckpoint', { simple: true }) as number,
      tempStore: (['DEFAULT', 'FILE', 'MEMORY'] as const)[db.pragma('temp_store', { simple: true }) as number] ?? 'DEFAULT',
      tempPageSize: db.pragma('temp.page_size', { simple: true }) as number,
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
    return problems;
  }
}

function mapWriteError(err: unknown, r: Repos, runId: string, context: string): Error {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' && r.runs.find(runId) === undefined) return unknownRun(runId);
  return fromSqliteError(err, context);
}
