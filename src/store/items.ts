import type Database from 'better-sqlite3';
import type { Decision, IntelRow } from '../domain/types';
import type { IntelItem, UpsertCounts } from './types';

interface ItemRow {
  item_id: string; run_id: string; item_type: string; title: string; summary: string;
  claims_json: string; evidence_json: string; scores_json: string; risk_flags_json: string;
  explainability_json: string; trend_score: number | null; decision: Decision | null;
  decision_reason: string | null; content_hash: string; created_at: string; updated_at: string;
}

const ORDER = 'ORDER BY created_at, rowid';

/** Statements of the `intel_items` table, prepared once per connection. */
export class ItemsRepo {
  readonly #hashOf: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #update: Database.Statement;
  readonly #get: Database.Statement;
  readonly #forRun: Database.Statement;
  readonly #count: Database.Statement;
  readonly #countRun: Database.Statement;

  constructor(db: Database.Database) {
    this.#hashOf = db.prepare('SELECT content_hash FROM intel_items WHERE item_id = ?').pluck();
    this.#insert = db.prepare(
      `INSERT INTO intel_items (item_id, run_id, item_type, title, summary, claims_json, evidence_json, scores_json,
         risk_flags_json, explainability_json, trend_score, decision, decision_reason, content_hash, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // created_at is deliberately absent: the first delivery's timestamp is kept.
    this.#update = db.prepare(
      `UPDATE intel_items SET run_id = ?, item_type = ?, title = ?, summary = ?, claims_json = ?, evidence_json = ?,
         scores_json = ?, risk_flags_json = ?, explainability_json = ?, trend_score = ?, decision = ?,
         decision_reason = ?, content_hash = ?, updated_at = ?
       WHERE item_id = ?`,
    );
    this.#get = db.prepare('SELECT * FROM intel_items WHERE item_id = ?');
    this.#forRun = db.prepare(`SELECT * FROM intel_items WHERE run_id = ? ${ORDER}`);
    this.#count = db.prepare('SELECT count(*) FROM intel_items').pluck();
    this.#countRun = db.prepare('SELECT count(*) FROM intel_items WHERE run_id = ?').pluck();
  }

  /**
   * Inserts or updates one row and adds the outcome to `counts`. Must run
   * inside a transaction the caller owns. A row whose content hash equals the
   * stored one is not rewritten at all (its run_id and updated_at stay).
   */
  upsertInto(runId: string, row: IntelRow, now: string, counts: UpsertCounts): void {
    const stored = this.#hashOf.get(row.itemId) as string | undefined;
    if (stored === undefined) {
      this.#insert.run(
        row.itemId, runId, row.itemType, row.title, row.summary, row.claimsJson, row.evidenceJson, row.scoresJson,
        row.riskFlagsJson, row.explainabilityJson, row.trendScore, row.decision, row.decisionReason, row.contentHash,
        row.createdAt ?? now, now,
      );
      counts.inserted++;
    } else if (stored !== row.contentHash) {
      this.#update.run(
        runId, row.itemType, row.title, row.summary, row.claimsJson, row.evidenceJson, row.scoresJson,
        row.riskFlagsJson, row.explainabilityJson, row.trendScore, row.decision, row.decisionReason, row.contentHash,
        now, row.itemId,
      );
      counts.updated++;
    } else {
      counts.unchanged++;
    }
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
function toItem(r: ItemRow): IntelItem {
  return {
    itemId: r.item_id, runId: r.run_id, itemType: r.item_type, title: r.title, summary: r.summary,
    claims: JSON.parse(r.claims_json) as unknown[],
    evidence: JSON.parse(r.evidence_json) as unknown[],
    scores: JSON.parse(r.scores_json) as Record<string, number> | null,
    riskFlags: JSON.parse(r.risk_flags_json) as string[],
    explainability: JSON.parse(r.explainability_json) as string[],
    trendScore: r.trend_score, decision: r.decision, decisionReason: r.decision_reason,
    contentHash: r.content_hash, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
