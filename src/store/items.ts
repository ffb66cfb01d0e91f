import type Database from 'better-sqlite3';
import type { Decision, IntelRow } from '../domain/types';
import type { IntelItem, UpsertCounts } from './types';

interface ItemRow {
  item_id: string; run_id: string; item_type: string; title: string; summary: string;
  claims_json: string; evidence_json: string; scores_json: string; risk_flags_json: string;
  explainability_json: string; trend_score: number | null; decision: Decision | null;
  decision_reason: string | null; content_hash: string; created_at: string; updated_at: string;
}

/**
 * A line the worker did not parse because it hashed like the line behind the
 * stored row (see `lineHash`). Confirmed under the write lock: if an earlier
 * line of the run changed the row meanwhile, the line is parsed after all.
 */
export interface SameLine {
  readonly itemId: string;
  readonly lineHash: string;
  readonly lineNo: number;
  /**
   * The line's raw UTF-8 bytes, decoded only if it must be parsed after all.
   * In a worker this is a view into the chunk's buffer, which goes back to the
   * scheduler once the chunk is handled: after that it reads as empty, so it
   * must not be kept beyond the chunk's commit.
   */
  readonly bytes: Uint8Array;
}

const ORDER = 'ORDER BY created_at, rowid';

/** Statements of the `intel_items` table, prepared once per connection. */
export class ItemsRepo {
  readonly #hashOf: Database.Statement;
  readonly #lineHashOf: Database.Statement;
  readonly #lineHashesOf: Database.Statement;
  readonly #setLineHash: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #update: Database.Statement;
  readonly #get: Database.Statement;
  readonly #forRun: Database.Statement;
  readonly #count: Database.Statement;
  readonly #countRun: Database.Statement;

  constructor(db: Database.Database) {
    this.#hashOf = db.prepare('SELECT content_hash, line_hash FROM intel_items WHERE item_id = ?').raw();
    this.#lineHashOf = db.prepare('SELECT line_hash FROM intel_items WHERE item_id = ?').pluck();
    // One statement for a whole chunk's ids (a JSON array, bound): the lookups run in SQLite, not one call each.
    this.#lineHashesOf = db.prepare(
      'SELECT item_id, line_hash FROM intel_items WHERE item_id IN (SELECT value FROM json_each(?)) AND line_hash IS NOT NULL',
    ).raw();
    this.#setLineHash = db.prepare('UPDATE intel_items SET line_hash = ? WHERE item_id = ?');
    this.#insert = db.prepare(
      `INSERT INTO intel_items (item_id, run_id, item_type, title, summary, claims_json, evidence_json, scores_json,
         risk_flags_json, explainability_json, trend_score, decision, decision_reason, content_hash, created_at, updated_at,
         line_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // created_at is deliberately absent: the first delivery's timestamp is kept.
    this.#update = db.prepare(
      `UPDATE intel_items SET run_id = ?, item_type = ?, title = ?, summary = ?, claims_json = ?, evidence_json = ?,
         scores_json = ?, risk_flags_json = ?, explainability_json = ?, trend_score = ?, decision = ?,
         decision_reason = ?, content_hash = ?, updated_at = ?, line_hash = ?
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
    const stored = this.#hashOf.get(row.itemId) as [string, string | null] | undefined;
    if (stored === undefined) {
      this.#insert.run(
        row.itemId, runId, row.itemType, row.title, row.summary, row.claimsJson, row.evidenceJson, row.scoresJson,
        row.riskFlagsJson, row.explainabilityJson, row.trendScore, row.decision, row.decisionReason, row.contentHash,
        row.createdAt ?? now, now, row.lineHash,
      );
      counts.inserted++;
    } else if (stored[0] !== row.contentHash) {
      this.#update.run(
        runId, row.itemType, row.title, row.summary, row.claimsJson, row.evidenceJson, row.scoresJson,
        row.riskFlagsJson, row.explainabilityJson, row.trendScore, row.decision, row.decisionReason, row.contentHash,
        now, row.lineHash, row.itemId,
      );
      counts.updated++;
    } else {
      // A row stored before line hashes (schema v1): remember this line, once,
      // so next time it is not parsed. Not when the row already has a line
      // hash: a feed whose lines differ every night only in an ignored field
      // (an export timestamp) would then rewrite every row every night, where
      // an unchanged row is otherwise never written. Content, run_id and
      // updated_at stay as they are.
      if (row.lineHash !== null && stored[1] === null) this.#setLineHash.run(row.lineHash, row.itemId);
      counts.unchanged++;
    }
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
