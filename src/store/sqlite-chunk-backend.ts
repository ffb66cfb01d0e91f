import type Database from 'better-sqlite3';
import { ChunksRepo } from './chunks';
import { openDatabase, resolveStoreOptions } from './connection';
import { isKept, type ChunkBackend, type ChunkCommit, type ChunkCommitResult, type KeptLine } from './chunk-backend';
import { ItemsRepo } from './items';
import type { ChunkCheckpoint, StoreOptions, UpsertCounts } from './types';

/** Thrown inside the transaction to roll it back when kept lines went stale. */
class Stale {
  constructor(readonly lines: KeptLine[]) {}
}

/** {@link ChunkBackend} on one SQLite connection (a worker thread's own). */
export class SqliteChunkBackend implements ChunkBackend {
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

  /**
   * One `BEGIN IMMEDIATE` transaction. Entries are applied in line order, so
   * a kept line is checked against the stored row as the earlier lines of
   * this chunk left it.
   */
  commitChunk(chunk: ChunkCommit): ChunkCommitResult {
    const { runId, meta, entries, rejects, blankLines } = chunk;
    const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
    const now = new Date().toISOString();
    let lockedAt = 0;
    try {
      this.#db.transaction(() => {
        lockedAt = performance.now();
        this.#items.beginWrite();
        const stale: KeptLine[] = [];
        for (const e of entries) {
          if (!isKept(e)) counts[this.#items.upsert(runId, e, now)]++;
          else if (this.#items.lineHashOf(e.itemId) === e.lineHash) counts.unchanged++;
          else stale.push(e);
        }
        if (stale.length > 0) throw new Stale(stale);
        for (const r of rejects) this.#chunks.insertReject(runId, r);
        this.#chunks.insertCheckpoint(runId, meta, { ...counts, blankLines, rejected: rejects.length }, now);
      }).immediate();
    } catch (err) {
      if (err instanceof Stale) return { stale: err.lines };
      throw err;
    }
    return { committed: { ...meta, ...counts, blankLines, rejected: rejects.length, committedAt: now }, lockedAt };
  }

  close(): void {
    this.#db.close();
  }
}
