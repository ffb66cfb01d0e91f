import type Database from 'better-sqlite3';
import { ChunksRepo } from './chunks';
import { openDatabase, resolveStoreOptions } from './connection';
import type { ChunkCommit, ChunkCommitResult, KeptLine, StageRow, SyncChunkBackend } from '../store/chunk-backend';
import { ItemsRepo } from './items';
import type { ChunkCheckpoint, StoreOptions } from '../store/types';

/** Thrown inside the transaction to roll it back when kept lines went stale. */
class Stale {
  constructor(readonly lines: KeptLine[]) {}
}

/** {@link SyncChunkBackend} on one SQLite connection (a worker thread's own). */
export class SqliteChunkBackend implements SyncChunkBackend {
  readonly #db: Database.Database;
  readonly #items: ItemsRepo;
  readonly #chunks: ChunksRepo;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#items = new ItemsRepo(db);
    this.#chunks = new ChunksRepo(db);
  }

  static open(path: string, options?: StoreOptions): SqliteChunkBackend {
    return new SqliteChunkBackend(openDatabase(path, resolveStoreOptions(options)));
  }

  committedChunk(runId: string, chunkIndex: number): ChunkCheckpoint | undefined {
    return this.#chunks.get(runId, chunkIndex);
  }

  storedLineHashes(itemIds: readonly string[]): ReadonlyMap<string, string> {
    return this.#items.lineHashesOf(itemIds);
  }

  clearStage(): void {
    this.#items.clearStage();
  }

  /** Its own (deferred) transaction, on the TEMP table alone: no write lock on the database. */
  stage<T>(fn: (put: StageRow) => T): T {
    return this.#db.transaction(() => fn((row, lineNo) => this.#items.stage(row, lineNo)))();
  }

  /**
   * One `BEGIN IMMEDIATE` transaction. A kept line's item has no earlier
   * line in its chunk (see `buildEntries`), so checking the kept lines
   * before the merge checks each against the stored row as the earlier
   * lines of the chunk left it.
   */
  commitChunk(chunk: ChunkCommit): ChunkCommitResult {
    const { runId, meta, kept, rejects, blankLines } = chunk;
    const now = new Date().toISOString();
    try {
      return this.#db.transaction(() => {
        const lockedAt = performance.now();
        const stale = kept.filter((k) => this.#items.lineHashOf(k.itemId) !== k.lineHash);
        if (stale.length > 0) throw new Stale(stale);
        const counts = this.#items.merge(runId, now);
        counts.unchanged += kept.length;
        for (const r of rejects) this.#chunks.insertReject(runId, r);
        const totals = { ...counts, blankLines, rejected: rejects.length };
        this.#chunks.insertCheckpoint(runId, meta, totals, now);
        return { committed: { ...meta, ...totals, committedAt: now }, lockedAt };
      }).immediate();
    } catch (err) {
      if (err instanceof Stale) return { stale: err.lines };
      throw err;
    }
  }

  close(): void {
    this.#db.close();
  }
}
