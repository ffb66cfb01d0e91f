/**
 * Turns a validated item into the stored row: defaults, derived signals,
 * modifiers, trend score, gates and serialised JSON columns.
 */
import type { AppConfig } from '../config';
import { decide, type GateScores } from './gates';
import { isSingleSource } from './hosts';
import { numberText } from './numbers';
import { applyModifiers, trendScore } from './scoring';
import type { IntelRow } from './types';
import type { ValidItem } from './validate';

/**
 * Builds the row. Throws only if a JSON column cannot be serialised, which
 * for `JSON.parse` output means nesting deeper than the stack allows.
 */
export function buildRow(item: ValidItem, config: AppConfig): IntelRow {
  let explainability = item.explainability;
  let scoresJson = 'null';
  let scored: GateScores | null = null;
  if (item.scores !== null) {
    const s = item.signals;
    const { breakdown: b, notes } = applyModifiers(item.scores, {
      single_source_only: s.single_source_only ?? isSingleSource(item.evidence),
      brigading_suspected: s.brigading_suspected,
      high_misinfo_risk: s.high_misinfo_risk,
    });
    const trend = trendScore(b, config.weights);
    scored = { breakdown: b, trendScore: trend };
    // Finite numbers print the same in JSON and String(), so no JSON.stringify here.
    scoresJson = `{"impact":${numberText(b.impact)},"timeliness":${numberText(b.timeliness)},`
      + `"virality":${numberText(b.virality)},"relevance":${numberText(b.relevance)},`
      + `"confidence":${numberText(b.confidence)},"trend_score":${numberText(trend)}}`;
    if (notes.length > 0) explainability = explainability.concat(notes);
  }
  const { decision, reason } = decide(item, scored, config);
  return {
    itemId: item.itemId,
    itemType: item.itemType,
    title: item.title,
    summary: item.summary,
    claimsJson: arrayJson(item.claims),
    evidenceJson: arrayJson(item.evidence),
    scoresJson,
    riskFlagsJson: arrayJson(item.riskFlags),
    explainabilityJson: arrayJson(explainability),
    trendScore: scored === null ? null : scored.trendScore,
    decision,
    decisionReason: reason,
    createdAt: item.createdAt,
    lineHash: null,
  };
}

function arrayJson(a: readonly unknown[]): string {
  return a.length === 0 ? '[]' : JSON.stringify(a);
}
