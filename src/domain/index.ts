/** Public surface of the intel item model. */
export { parseIntelLine, DEFAULT_MAX_LINE_BYTES, EXCERPT_MAX_CHARS } from './parse';
export {
  clamp, applyModifiers, trendScore, breakdownTotal, singleSourceNote, TrendScorer, Gate, QualityGate, TrendGate,
  SCORE_CAPS, SCORE_COMPONENTS, NOTE_BRIGADING, NOTE_MISINFO,
} from './scoring';
export { decide } from './gates';
export { contentHash, CONTENT_HASH_ALGORITHM } from './hash';
export { lineHash, lineHashSeed, quickItemId, PARSER_VERSION } from './line-hash';
export { urlHostname, sourceKey, isSingleSource } from './hosts';
export { parseIsoTimestamp } from './timestamp';

export type { ModifierResult } from './scoring';
export type { GateItem, GateScores, GateResult } from './gates';
export type { HashedContent } from './hash';
export type {
  Decision, ScoreBreakdown, Signals, IntelRow, RejectCode, Reject, ParseResult,
} from './types';
