/** Types of the intel item model: what a worker turns one NDJSON line into. */

export type Decision = 'promote' | 'monitor' | 'block';

/** The five score components; caps: impact 25, timeliness 20, virality 20, relevance 25, confidence 10. */
export interface ScoreBreakdown {
  impact: number;
  timeliness: number;
  virality: number;
  relevance: number;
  confidence: number;
}

export interface Signals {
  single_source_only: boolean;
  brigading_suspected: boolean;
  high_misinfo_risk: boolean;
}

/**
 * A validated, normalised, scored and gated item: exactly what the store
 * writes (JSON columns already serialised), so nothing is parsed twice.
 */
export interface IntelRow {
  itemId: string;
  itemType: string;
  title: string;
  summary: string;
  claimsJson: string;
  evidenceJson: string;
  /** The adjusted breakdown plus `trend_score`, or `null` (JSON text) when the item has no scores. */
  scoresJson: string;
  riskFlagsJson: string;
  explainabilityJson: string;
  trendScore: number | null;
  decision: Decision | null;
  decisionReason: string | null;
  /** ISO-8601 UTC, or null when the line gave none (the store uses the ingest time). */
  createdAt: string | null;
  /**
   * Hash of the line that produced the row (see `lineHash`), set by the
   * caller that knows the line; null when unknown. Stored so that the same
   * line next time is recognised without parsing.
   */
  lineHash: string | null;
}

/** Stable reject codes. Part of the public contract: never renamed. */
export type RejectCode =
  | 'invalid_json'
  | 'not_an_object'
  | 'missing_field'
  | 'wrong_type'
  | 'out_of_range'
  | 'line_too_long'
  | 'invalid_timestamp'
  | 'invalid_value'
  /** Set by the ingest worker (not parseIntelLine): the line's bytes are not valid UTF-8. */
  | 'invalid_utf8';

export interface Reject {
  /** 1-based line number in the input. */
  lineNo: number;
  code: RejectCode;
  /** Names the field, what was expected and what came. */
  reason: string;
  /** At most ~200 characters of the line. */
  excerpt: string;
}

export type ParseResult = { ok: true; row: IntelRow } | { ok: false; reject: Reject };
