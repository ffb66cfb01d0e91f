import type Database from 'better-sqlite3';
import type { IntelRow } from '../domain/types';
import { StoreError } from '../errors';
import type { UpsertCounts } from './types';

/**
 * A chunk's parsed rows, held in this connection's private TEMP table (a
 * temporary file, see `prepare`) until they are merged into `intel_items`
 * with one statement.
 *
 * Why: a worker can stage its rows *before* it takes the write lock (writing
 * a connection's own TEMP table locks nothing in the main database), so the
 * locked part of a commit is set-based SQL instead of one lookup and one
 * insert per row from JavaScript, and the rows do not sit in the worker's
 * heap until the commit. Measured with 2 workers (200k lines, 10k-row
 * chunks, 3 alternating pairs of runs): the write lock is held 16.7-17.2
 * instead of 23.7-24.6 µs a line (0.60-0.63 instead of ~0.80 of the run),
 * 35.0k-37.6k vs 32.1k-33.7k items/s. The serial part, which bounds any
 * machine with more cores, is ~30% shorter.
 *
 * The merge keeps the per-row semantics of `ItemsRepo.upsertInto` exactly,
 * also for an item that occurs more than once in a chunk: rows are applied in
 * staging order, and the counts are computed in that order too.
 */
export class ItemStaging {
  readonly #stmts: Statements | undefined;
  /** First staging position of each staged item (for `stagedBefore`). */
  readonly #first = new Map<string, number>();
  /**
   * Some item may be staged more than once (set when it happens, cleared with
   * the table; a rolled-back batch may leave it set, which only costs speed).
   */
  #repeats = false;
  /** While a transaction stages rows: how to undo `#first` if it rolls back. */
  #undo: [string, number | undefined][] | undefined;

  /**
   * Creates the TEMP table right away, in autocommit, on a writable
   * connection: created lazily inside a transaction that then rolled back, it
   * would vanish under the cached statements.
   */
  constructor(db: Database.Database) {
    if (!db.readonly) this.#stmts = prepare(db);
  }

  /** Empties the staging table (a chunk that failed before its merge may have left rows). */
  reset(): void {
    this.#s().clear.run();
    this.merged();
  }

  /** Stages `row` at position `ord` (its line number: positions give the order, and are distinct). */
  add(ord: number, row: IntelRow): void {
    this.#s().insert.run(
      ord, row.itemId, row.itemType, row.title, row.summary, row.claimsJson, row.evidenceJson, row.scoresJson,
      row.riskFlagsJson, row.explainabilityJson, row.trendScore, row.decision, row.decisionReason, row.contentHash,
      row.createdAt, row.lineHash,
    );
    const first = this.#first.get(row.itemId);
    if (first !== undefined) this.#repeats = true;
    if (first === undefined || ord < first) {
      this.#undo?.push([row.itemId, first]);
      this.#first.set(row.itemId, ord);
    }
  }

  /** True when a row of `itemId` was staged at a position before `ord`. */
  stagedBefore(itemId: string, ord: number): boolean {
    const first = this.#first.get(itemId);
    return first !== undefined && first < ord;
  }

  /**
   * What merging would do, row by row in staging order: a row is `inserted`
   * when neither the table nor an earlier staged row holds its item,
   * `updated` when the state before it (the earlier staged row of its item,
   * else the stored row) has another content hash, else `unchanged`. Must run
   * under the write lock, right before `merge`.
   */
  counts(): UpsertCounts {
    // Without repeated items no row has an earlier staged row: the plain join
    // gives the same counts without sorting the chunk for the window.
    const st = this.#s();
    const c = (this.#repeats ? st.count : st.countDistinct).get() as { inserted: number; updated: number; total: number };
    return { inserted: c.inserted, updated: c.updated, unchanged: c.total - c.inserted - c.updated };
  }

  /**
   * Upserts every staged row into `intel_items` in staging order and empties
   * the staging table, inside the caller's transaction. Call `merged()` once
   * that transaction has committed.
   */
  merge(runId: string, now: string): void {
    const st = this.#s();
    st.merge.run({ runId, now });
    st.clear.run();
  }

  /** The staging table is empty (the merging transaction committed, or a reset): forgets what was staged. */
  merged(): void {
    this.#first.clear();
    this.#repeats = false;
  }

  /**
   * Runs `fn` (which stages or merges rows inside a transaction that `fn`
   * owns) so that, if it throws, this object's view goes back to what it was:
   * the table rolls back with the transaction. Records only what `fn` changes
   * (copying the view instead cost ~2 µs a line: it grows with the chunk).
   */
  undoable<T>(fn: () => T): T {
    if (this.#undo !== undefined) return fn(); // nested: the outer call undoes
    const undo: [string, number | undefined][] = [];
    this.#undo = undo;
    try {
      return fn();
    } catch (err) {
      for (let i = undo.length - 1; i >= 0; i--) {
        const [itemId, before] = undo[i] as [string, number | undefined];
        if (before === undefined) this.#first.delete(itemId);
        else this.#first.set(itemId, before);
      }
      throw err;
    } finally {
      this.#undo = undefined;
    }
  }

  #s(): Statements {
    if (this.#stmts === undefined) throw new StoreError('ERR_DB', 'Rows cannot be staged on a read-only connection');
    return this.#stmts;
  }
}

function prepare(db: Database.Database): Statements {
  // Private to this connection. FILE, not MEMORY: an in-memory TEMP table
  // kept every worker's largest chunk resident (1M lines: 371-386 vs 284 MB
  // peak RSS); as a file (deleted on close) its pages beyond the small TEMP
  // cache live in the OS page cache, at the same speed (200k lines, 3
  // alternating runs: 26.0k, 27.9k, 31.0k vs 25.4k, 28.2k, 30.0k items/s).
  db.pragma('temp_store = FILE');
  // 16 KiB pages for the TEMP database (set before its first table): a
  // staged row is ~1.3 KB, so 4 KiB pages filled after three rows. Staging
  // insert 3.6-3.7 vs 4.1-4.2 µs a row (10k-row batches); 1 worker, 3
  // alternating 200k-line pairs: parse side 24.1-24.5 vs 24.7-25.0 µs a line;
  // 2 workers 40.4k, 40.3k, 39.4k vs 39.9k, 39.0k, 39.4k items/s.
  db.pragma('temp.page_size = 16384');
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS staged_items (
      ord                 INTEGER PRIMARY KEY,
      item_id             TEXT NOT NULL,
      item_type           TEXT NOT NULL,
      title               TEXT NOT NULL,
      summary             TEXT NOT NULL,
      claims_json         TEXT NOT NULL,
      evidence_json       TEXT NOT NULL,
      scores_json         TEXT NOT NULL,
      risk_flags_json     TEXT NOT NULL,
      explainability_json TEXT NOT NULL,
      trend_score         REAL,
      decision            TEXT,
      decision_reason     TEXT,
      content_hash        TEXT NOT NULL,
      created_at          TEXT,
      line_hash           TEXT
    )`);
  const insert = db.prepare(
    `INSERT INTO temp.staged_items (ord, item_id, item_type, title, summary, claims_json, evidence_json, scores_json,
       risk_flags_json, explainability_json, trend_score, decision, decision_reason, content_hash, created_at, line_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const clear = db.prepare('DELETE FROM temp.staged_items');
  const count = db.prepare(
    `SELECT count(*) AS total,
       coalesce(sum(prev_hash IS NULL AND stored_hash IS NULL), 0) AS inserted,
       coalesce(sum(CASE WHEN prev_hash IS NOT NULL THEN prev_hash IS NOT content_hash
                         ELSE stored_hash IS NOT NULL AND stored_hash IS NOT content_hash END), 0) AS updated
     FROM (
       SELECT s.content_hash,
         lag(s.content_hash) OVER (PARTITION BY s.item_id ORDER BY s.ord) AS prev_hash,
         (SELECT i.content_hash FROM main.intel_items AS i WHERE i.item_id = s.item_id) AS stored_hash
       FROM temp.staged_items AS s
     )`,
  );
  // `count` when every staged row has a distinct item: each is compared with the stored row only.
  const countDistinct = db.prepare(
    `SELECT count(*) AS total,
       coalesce(sum(i.content_hash IS NULL), 0) AS inserted,
       coalesce(sum(i.content_hash IS NOT NULL AND i.content_hash IS NOT s.content_hash), 0) AS updated
     FROM temp.staged_items AS s LEFT JOIN main.intel_items AS i ON i.item_id = s.item_id`,
  );
  // The same decisions as ItemsRepo.upsertInto, one row at a time in `ord`
  // order: a new item is inserted; another content hash rewrites the row
  // (created_at kept); the same hash leaves content, run_id and updated_at
  // alone and only gives a row stored before line hashes its first one.
  // (`WHERE true` keeps the SELECT's end unambiguous before ON CONFLICT.)
  const changed = 'intel_items.content_hash IS NOT excluded.content_hash';
  const keepUnlessChanged = (col: string) => `${col} = iif(${changed}, excluded.${col}, intel_items.${col})`;
  const merge = db.prepare(
    `INSERT INTO main.intel_items (item_id, run_id, item_type, title, summary, claims_json, evidence_json, scores_json,
       risk_flags_json, explainability_json, trend_score, decision, decision_reason, content_hash, created_at, updated_at,
       line_hash)
     SELECT item_id, @runId, item_type, title, summary, claims_json, evidence_json, scores_json, risk_flags_json,
       explainability_json, trend_score, decision, decision_reason, content_hash, coalesce(created_at, @now), @now, line_hash
     FROM temp.staged_items WHERE true ORDER BY ord
     ON CONFLICT (item_id) DO UPDATE SET
       ${['run_id', 'item_type', 'title', 'summary', 'claims_json', 'evidence_json', 'scores_json', 'risk_flags_json',
         'explainability_json', 'trend_score', 'decision', 'decision_reason', 'content_hash', 'updated_at']
         .map(keepUnlessChanged).join(',\n         ')},
       line_hash = excluded.line_hash
     WHERE ${changed} OR (intel_items.line_hash IS NULL AND excluded.line_hash IS NOT NULL)`,
  );
  return { insert, clear, count, countDistinct, merge };
}

interface Statements {
  insert: Database.Statement;
  clear: Database.Statement;
  count: Database.Statement;
  countDistinct: Database.Statement;
  merge: Database.Statement;
}
