import type Database from 'better-sqlite3';
import type { IntelRow } from '../domain/types';
import type { IntelItem, UpsertCounts } from '../store/types';
import { toItem, type ItemRow } from '../store/item-row';

const ORDER = 'ORDER BY created_at, rowid';

/** The columns an item's content is compared on: all but the id, the run, the timestamps and the line hash. */
const CONTENT_COLUMNS = [
  'item_type', 'title', 'summary', 'claims_json', 'evidence_json', 'scores_json', 'risk_flags_json',
  'explainability_json', 'trend_score', 'decision', 'decision_reason',
] as const;

/** The stage's columns: what a row brings; the run, timestamps and rowid are set by the merge. */
const STAGE_COLUMNS = ['item_id', ...CONTENT_COLUMNS, 'created_at', 'line_hash'] as const;

/**
 * Statements of the `intel_items` table, prepared once per connection. Owns
 * the one upsert engine, stage then merge: every write of an item, from
 * `upsertIntelItemsBatch` or from a worker's chunk, stages its rows in this
 * connection's TEMP table ({@link ItemsRepo.stage}, no lock needed) and
 * upserts them all with one statement ({@link ItemsRepo.merge}, inside the
 * write transaction). A worker stages as it parses, so its rows do not wait
 * on the V8 heap for its turn, and the write lock covers only SQLite's own
 * loop: in-process, the merge took ~0.55x the time of one upsert call a row
 * (docs/performance.md).
 */
export class ItemsRepo {
  readonly #stageSql: StageStatements;
  readonly #lineHashOf: Database.Statement;
  readonly #lineHashesOf: Database.Statement;
  readonly #get: Database.Statement;
  readonly #forRun: Database.Statement;
  readonly #count: Database.Statement;
  readonly #countRun: Database.Statement;

  constructor(db: Database.Database) {
    // Created now, outside any transaction: a TEMP table created inside one
    // would go with its rollback and leave these statements without a table.
    this.#stageSql = prepareStage(db);
    this.#lineHashOf = db.prepare('SELECT line_hash FROM intel_items WHERE item_id = ?').pluck();
    // One statement for a whole chunk's ids (a JSON array, bound): the lookups run in SQLite, not one call each.
    this.#lineHashesOf = db.prepare(
      'SELECT item_id, line_hash FROM intel_items WHERE item_id IN (SELECT value FROM json_each(?)) AND line_hash IS NOT NULL',
    ).raw();
    this.#get = db.prepare('SELECT * FROM intel_items WHERE item_id = ?');
    this.#forRun = db.prepare(`SELECT * FROM intel_items WHERE run_id = ? ${ORDER}`);
    this.#count = db.prepare('SELECT count(*) FROM intel_items').pluck();
    this.#countRun = db.prepare('SELECT count(*) FROM intel_items WHERE run_id = ?').pluck();
  }

  /** Empties the stage (rows a failed merge left behind are dropped with it). */
  clearStage(): void {
    this.#stageSql.clear.run();
  }

  /**
   * Stages one row for the next {@link ItemsRepo.merge}. `lineNo` orders the
   * merge (the last line of an item wins) and is unique within a stage.
   * Writes only this connection's TEMP table (in memory): no write lock.
   */
  stage(row: IntelRow, lineNo: number): void {
    this.#stageSql.insert.run(
      lineNo, row.itemId, row.itemType, row.title, row.summary, row.claimsJson, row.evidenceJson, row.scoresJson,
      row.riskFlagsJson, row.explainabilityJson, row.trendScore, row.decision, row.decisionReason, row.createdAt, row.lineHash,
    );
  }

  /**
   * Upserts the staged rows in line order, inside a write transaction the
   * caller owns, and empties the stage. An item is inserted, or rewritten
   * when some content column differs (created_at kept; run_id, updated_at
   * and line_hash set), or left alone. A row left alone keeps its known line
   * hash, so a feed whose lines change every night only in an ignored field
   * writes nothing; a row without one (from before line hashes, or edited by
   * hand) takes its first unchanged line's, so that line is not parsed again
   * next time.
   *
   * The counts come from SQLite, not one call a row: `changes` counts the
   * rows written (inserted or updated), and every inserted row got a rowid
   * above the largest one before the merge (the writer holds the lock).
   */
  merge(runId: string, now: string): UpsertCounts {
    const sql = this.#stageSql;
    const staged = sql.count.get() as number;
    if (staged === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    const maxBefore = sql.maxRowid.get() as number;
    const written = sql.merge.run({ runId, now }).changes;
    const inserted = sql.countAbove.get(maxBefore) as number;
    const unchanged = staged - written;
    if (unchanged > 0) sql.adoptLineHashes.run({ now });
    sql.clear.run();
    return { inserted, updated: written - inserted, unchanged };
  }

  /** Line hashes of the stored rows among `itemIds` (rows without one are left out). */
  lineHashesOf(itemIds: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    if (itemIds.length === 0) return out;
    for (const [id, h] of this.#lineHashesOf.iterate(JSON.stringify(itemIds)) as IterableIterator<[string, string]>) out.set(id, h);
    return out;
  }

  /** The stored row's line hash (undefined: no such row; null: not known). */
  lineHashOf(itemId: string): string | null | undefined {
    return this.#lineHashOf.get(itemId) as string | null | undefined;
  }

  get(itemId: string): IntelItem | undefined {
    const row = this.#get.get(itemId) as ItemRow | undefined;
    return row === undefined ? undefined : toItem(row);
  }

  listForRun(runId: string): IntelItem[] {
    return (this.#forRun.all(runId) as ItemRow[]).map(toItem);
  }

  /** Streams rows one by one (better-sqlite3 `iterate`), never loading the whole run. */
  *iterateForRun(runId: string): Generator<IntelItem> {
    for (const row of this.#forRun.iterate(runId) as IterableIterator<ItemRow>) yield toItem(row);
  }

  count(runId?: string): number {
    return (runId === undefined ? this.#count.get() : this.#countRun.get(runId)) as number;
  }
}

interface StageStatements {
  readonly insert: Database.Statement;
  readonly merge: Database.Statement;
  readonly clear: Database.Statement;
  readonly count: Database.Statement;
  readonly maxRowid: Database.Statement;
  readonly countAbove: Database.Statement;
  readonly adoptLineHashes: Database.Statement;
}

/**
 * The stage: a TEMP table of this connection (in memory: temp_store, see
 * connection.ts), keyed by line number so that the merge reads it in line
 * order for free, whatever order the rows were staged in.
 */
function prepareStage(db: Database.Database): StageStatements {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS stage_items (
    line_no INTEGER PRIMARY KEY, item_id TEXT NOT NULL, item_type TEXT, title TEXT, summary TEXT, claims_json TEXT,
    evidence_json TEXT, scores_json TEXT, risk_flags_json TEXT, explainability_json TEXT, trend_score REAL,
    decision TEXT, decision_reason TEXT, created_at TEXT, line_hash TEXT)`);
  const differs = CONTENT_COLUMNS.map((c) => `intel_items.${c} IS NOT excluded.${c}`).join(' OR ');
  const set = [...CONTENT_COLUMNS, 'run_id', 'updated_at', 'line_hash'].map((c) => `${c} = excluded.${c}`).join(', ');
  return {
    insert: db.prepare(`INSERT INTO temp.stage_items (line_no, ${STAGE_COLUMNS.join(', ')}) VALUES (?${', ?'.repeat(STAGE_COLUMNS.length)})`),
    // "WHERE true": an upsert after a SELECT needs it (SQLite's parsing rule).
    merge: db.prepare(
      `INSERT INTO main.intel_items (item_id, run_id, ${CONTENT_COLUMNS.join(', ')}, created_at, updated_at, line_hash)
       SELECT item_id, @runId, ${CONTENT_COLUMNS.join(', ')}, coalesce(created_at, @now), @now, line_hash
       FROM temp.stage_items WHERE true ORDER BY line_no
       ON CONFLICT (item_id) DO UPDATE SET ${set} WHERE ${differs}`,
    ),
    clear: db.prepare('DELETE FROM temp.stage_items'),
    count: db.prepare('SELECT count(*) FROM temp.stage_items').pluck(),
    maxRowid: db.prepare('SELECT coalesce(max(rowid), 0) FROM main.intel_items').pluck(),
    countAbove: db.prepare('SELECT count(*) FROM main.intel_items WHERE rowid > ?').pluck(),
    // A row without a line hash that this merge left alone takes the first
    // staged line's of its item. updated_at <> @now: never a row this merge
    // rewrote (skipping one is always safe: its next line is parsed).
    adoptLineHashes: db.prepare(
      `UPDATE main.intel_items SET line_hash = s.line_hash
       FROM (SELECT item_id, line_hash, min(line_no) FROM temp.stage_items WHERE line_hash IS NOT NULL GROUP BY item_id) AS s
       WHERE intel_items.item_id = s.item_id AND intel_items.line_hash IS NULL AND intel_items.updated_at IS NOT @now`,
    ),
  };
}
