import type Database from 'better-sqlite3';
import { contentHash } from '../domain/hash';
import type { Decision, IntelRow } from '../domain/types';
import type { IntelItem } from './types';

/** An `intel_items` row as both backends read it (timestamps as ISO-8601 text). */
export interface ItemRow {
  item_id: string; run_id: string; item_type: string; title: string; summary: string;
  claims_json: string; evidence_json: string; scores_json: string; risk_flags_json: string;
  explainability_json: string; trend_score: number | null; decision: Decision | null;
  decision_reason: string | null; created_at: string; updated_at: string;
}

/** What one upsert did to its row. */
export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

const ORDER = 'ORDER BY created_at, rowid';

/** The columns an item's content is compared on: all but the id, the run, the timestamps and the line hash. */
const CONTENT_COLUMNS = [
  'item_type', 'title', 'summary', 'claims_json', 'evidence_json', 'scores_json', 'risk_flags_json',
  'explainability_json', 'trend_score', 'decision', 'decision_reason',
] as const;

/**
 * Statements of the `intel_items` table, prepared once per connection. Owns
 * the one upsert engine: every write of an item, from `upsertIntelItemsBatch`
 * or from a worker's chunk, goes through {@link ItemsRepo.upsert}.
 */
export class ItemsRepo {
  readonly #upsert: Database.Statement;
  readonly #upsertReturning: Database.Statement;
  readonly #rowids: Database.Statement;
  readonly #adoptLineHash: Database.Statement;
  readonly #lineHashOf: Database.Statement;
  readonly #lineHashesOf: Database.Statement;
  readonly #get: Database.Statement;
  readonly #forRun: Database.Statement;
  readonly #count: Database.Statement;
  readonly #countRun: Database.Statement;
  /** Highest rowid known to exist in this write transaction (see `upsert`). */
  #maxKnown = 0;
  /** False when the connection's last insert rowid cannot tell an update from an insert (see `beginWrite`). */
  #rowidTells = true;

  constructor(db: Database.Database) {
    // One statement a row: insert, or rewrite when some content column
    // differs (created_at kept), or leave the row alone. Its outcome comes
    // from `changes` and the last insert rowid (see `upsert`): RETURNING's
    // result table took 4-11% of the upsert's time in-process. The RETURNING
    // form serves the rare transaction where the last insert rowid is ambiguous.
    const differs = CONTENT_COLUMNS.map((c) => `intel_items.${c} IS NOT excluded.${c}`).join(' OR ');
    const set = [...CONTENT_COLUMNS, 'run_id', 'updated_at', 'line_hash'].map((c) => `${c} = excluded.${c}`).join(', ');
    const upsert =
      `INSERT INTO intel_items (item_id, run_id, ${CONTENT_COLUMNS.join(', ')}, created_at, updated_at, line_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (item_id) DO UPDATE SET ${set} WHERE ${differs}`;
    this.#upsert = db.prepare(upsert);
    this.#upsertReturning = db.prepare(`${upsert} RETURNING rowid`).pluck();
    this.#rowids = db.prepare('SELECT coalesce(max(rowid), 0), last_insert_rowid() FROM intel_items').raw();
    this.#adoptLineHash = db.prepare('UPDATE intel_items SET line_hash = ? WHERE item_id = ? AND line_hash IS NULL');
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

  /**
   * Call at the start of every write transaction that upserts (after the
   * write lock is held). An insert sets the connection's last insert rowid to
   * a new largest rowid, an update leaves it: that tells them apart while it
   * starts at or below the largest rowid, as it does unless this connection's
   * last insert went to another table or rows were deleted since; then this
   * transaction asks each upsert for its rowid (RETURNING) instead.
   */
  beginWrite(): void {
    const [max, last] = this.#rowids.get() as [number, number];
    this.#maxKnown = max;
    this.#rowidTells = last <= max;
  }

  /**
   * Inserts or updates one row, inside a write transaction the caller owns
   * and opened with {@link ItemsRepo.beginWrite}. A row whose content columns
   * all equal the stored ones is not rewritten: run_id and updated_at stay,
   * and so does its line hash, unless it had none (a row from before line
   * hashes, or edited by hand), which then takes this line's, so the line is
   * not parsed again next time. Keeping a known line hash means a feed whose
   * lines change every night only in an ignored field writes nothing. An
   * inserted row gets a rowid above every existing one (the writer holds the
   * lock), which is how an insert is told from an update.
   */
  upsert(runId: string, row: IntelRow, now: string): UpsertOutcome {
    const params = [
      row.itemId, runId, row.itemType, row.title, row.summary, row.claimsJson, row.evidenceJson, row.scoresJson,
      row.riskFlagsJson, row.explainabilityJson, row.trendScore, row.decision, row.decisionReason,
      row.createdAt ?? now, now, row.lineHash,
    ];
    let rowid: number | undefined;
    if (this.#rowidTells) {
      const { changes, lastInsertRowid } = this.#upsert.run(params);
      rowid = changes === 0 ? undefined : Number(lastInsertRowid);
    } else {
      rowid = this.#upsertReturning.get(params) as number | undefined;
    }
    if (rowid === undefined) {
      if (row.lineHash !== null) this.#adoptLineHash.run(row.lineHash, row.itemId);
      return 'unchanged';
    }
    if (rowid <= this.#maxKnown) return 'updated';
    this.#maxKnown = rowid;
    return 'inserted';
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

/** One JSON.parse per JSON column, nothing parsed twice. */
export function toItem(r: ItemRow): IntelItem {
  return {
    itemId: r.item_id, runId: r.run_id, itemType: r.item_type, title: r.title, summary: r.summary,
    claims: JSON.parse(r.claims_json) as unknown[],
    evidence: JSON.parse(r.evidence_json) as unknown[],
    scores: JSON.parse(r.scores_json) as Record<string, number> | null,
    riskFlags: JSON.parse(r.risk_flags_json) as string[],
    explainability: JSON.parse(r.explainability_json) as string[],
    trendScore: r.trend_score, decision: r.decision, decisionReason: r.decision_reason,
    contentHash: contentHash({
      itemType: r.item_type, title: r.title, summary: r.summary, claimsJson: r.claims_json, evidenceJson: r.evidence_json,
      scoresJson: r.scores_json, riskFlagsJson: r.risk_flags_json, explainabilityJson: r.explainability_json,
      decision: r.decision, decisionReason: r.decision_reason,
    }),
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
