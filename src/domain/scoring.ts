/**
 * Scoring rules ported from the original Brand Orchestrator (spec section 3):
 * the modifiers, the weighted trend score and the small helper classes.
 */
import type { ScoreWeights } from '../config';
import type { ScoreBreakdown, Signals } from './types';

/** Fixed upper bound of each score component. */
export const SCORE_CAPS: Readonly<ScoreBreakdown> = Object.freeze({
  impact: 25, timeliness: 20, virality: 20, relevance: 25, confidence: 10,
});

/** The five components, in the order they are stored and reported. */
export const SCORE_COMPONENTS = ['impact', 'timeliness', 'virality', 'relevance', 'confidence'] as const;

export const NOTE_BRIGADING = 'Penalty: suspected brigading/coordinated spread (virality reduced).';
export const NOTE_MISINFO = 'Penalty: high misinfo risk (confidence reduced; requires stricter gating).';

/** The note the single-source modifier adds, for a given penalty (8 or 5). */
export function singleSourceNote(penalty: number): string {
  return `Penalty: single-source item (reduced confidence and virality by ~${penalty}).`;
}

/**
 * `value` limited to `[lo, hi]`.
 *
 * @example
 * clamp(15, 0, 10); // 10
 */
export function clamp(value: number, lo: number, hi: number): number {
  return value < lo ? lo : value > hi ? hi : value;
}

/** Plain sum of the five components (the original's `total`). */
export function breakdownTotal(b: Readonly<ScoreBreakdown>): number {
  return b.impact + b.timeliness + b.virality + b.relevance + b.confidence;
}

export interface ModifierResult {
  /** A new breakdown; the input is never changed. */
  breakdown: ScoreBreakdown;
  /** One note per modifier that applied, in application order. */
  notes: string[];
}

/**
 * Applies the signal penalties in the spec's order (single source,
 * brigading, misinfo). A signal that is absent counts as `false`.
 *
 * @example
 * applyModifiers({ impact: 20, timeliness: 15, virality: 18, relevance: 22, confidence: 8 }, { brigading_suspected: true });
 * // virality 8, notes: [NOTE_BRIGADING]
 */
export function applyModifiers(breakdown: Readonly<ScoreBreakdown>, signals: Readonly<Partial<Signals>>): ModifierResult {
  let { confidence, virality } = breakdown;
  const notes: string[] = [];
  if (signals.single_source_only === true) {
    const penalty = confidence <= 5 ? 8 : 5;
    confidence = clamp(confidence - 1, 0, 10);
    virality = clamp(virality - Math.floor(penalty / 2), 0, 20);
    notes.push(singleSourceNote(penalty));
  }
  if (signals.brigading_suspected === true) {
    virality = clamp(virality - 10, 0, 20);
    notes.push(NOTE_BRIGADING);
  }
  if (signals.high_misinfo_risk === true) {
    confidence = clamp(confidence - 3, 0, 10);
    notes.push(NOTE_MISINFO);
  }
  return {
    breakdown: {
      impact: breakdown.impact, timeliness: breakdown.timeliness, virality, relevance: breakdown.relevance, confidence,
    },
    notes,
  };
}

/**
 * Weighted trend score, 0-100, rounded half up to one decimal:
 * `100 * sum(w_i * c_i / cap_i) / sum(w_i)`. All-zero weights give 0.
 *
 * @example
 * trendScore({ impact: 25, timeliness: 20, virality: 20, relevance: 25, confidence: 10 }, config.weights); // 100
 */
export function trendScore(breakdown: Readonly<ScoreBreakdown>, weights: Readonly<ScoreWeights>): number {
  const totalWeight = weights.impact + weights.timeliness + weights.virality + weights.relevance + weights.confidence;
  if (totalWeight === 0) return 0;
  const weighted = weights.impact * breakdown.impact / SCORE_CAPS.impact
    + weights.timeliness * breakdown.timeliness / SCORE_CAPS.timeliness
    + weights.virality * breakdown.virality / SCORE_CAPS.virality
    + weights.relevance * breakdown.relevance / SCORE_CAPS.relevance
    + weights.confidence * breakdown.confidence / SCORE_CAPS.confidence;
  const s = 100 * weighted / totalWeight;
  return Math.round(s * 10) / 10;
}

/** The original's engagement/velocity scorer. */
export class TrendScorer {
  /**
   * `clamp(engagement * 0.5 + velocity * 0.3, 0, 100)`.
   *
   * @example
   * new TrendScorer().calculateScore({ engagement: 10, velocity: 5 }); // 6.5
   */
  calculateScore(metrics: { readonly engagement: number; readonly velocity: number }): number {
    return clamp(metrics.engagement * 0.5 + metrics.velocity * 0.3, 0, 100);
  }
}

/** Passes a score at or above its threshold. */
export class Gate {
  readonly threshold: number;

  constructor(threshold: number) {
    this.threshold = threshold;
  }

  shouldPass(score: number): boolean {
    return score >= this.threshold;
  }
}

/** @defaultValue threshold 50 */
export class QualityGate extends Gate {
  constructor(threshold = 50) {
    super(threshold);
  }
}

/** @defaultValue threshold 70 */
export class TrendGate extends Gate {
  constructor(threshold = 70) {
    super(threshold);
  }
}
