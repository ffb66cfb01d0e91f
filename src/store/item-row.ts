/** An item row as both backends read it, and the item it stands for. */
import { contentHash } from '../domain/hash';
import type { Decision } from '../domain/types';
import { StoreError } from '../errors';
import type { IntelItem } from './types';

/** An `intel_items` row as both backends read it (timestamps as ISO-8601 text). */
export interface ItemRow {
  item_id: string; run_id: string; item_type: string; title: string; summary: string;
  claims_json: string; evidence_json: string; scores_json: string; risk_flags_json: string;
  explainability_json: string; trend_score: number | null; decision: Decision | null;
  decision_reason: string | null; created_at: string; updated_at: string;
}

/** One JSON.parse per JSON column, nothing parsed twice; a column that does not parse is named, with its item. */
export function toItem(r: ItemRow): IntelItem {
  return {
    itemId: r.item_id, runId: r.run_id, itemType: r.item_type, title: r.title, summary: r.summary,
    claims: jsonColumn(r, 'claims_json') as unknown[],
    evidence: jsonColumn(r, 'evidence_json') as unknown[],
    scores: jsonColumn(r, 'scores_json') as Record<string, number> | null,
    riskFlags: jsonColumn(r, 'risk_flags_json') as string[],
    explainability: jsonColumn(r, 'explainability_json') as string[],
    trendScore: r.trend_score, decision: r.decision, decisionReason: r.decision_reason,
    contentHash: contentHash({
      itemType: r.item_type, title: r.title, summary: r.summary, claimsJson: r.claims_json, evidenceJson: r.evidence_json,
      scoresJson: r.scores_json, riskFlagsJson: r.risk_flags_json, explainabilityJson: r.explainability_json,
      decision: r.decision, decisionReason: r.decision_reason,
    }),
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** The JSON columns of `intel_items`, which `verify` checks parse. */
export const JSON_COLUMNS = ['claims_json', 'evidence_json', 'scores_json', 'risk_flags_json', 'explainability_json'] as const;

function jsonColumn(r: ItemRow, column: (typeof JSON_COLUMNS)[number]): unknown {
  try {
    return JSON.parse(r[column]);
  } catch (err) {
    throw new StoreError('ERR_DB_CORRUPT', `Item ${JSON.stringify(r.item_id)}: its ${column} column does not hold valid JSON (${(err as Error).message}); \`verify\` lists every such row`, { cause: err });
  }
}
