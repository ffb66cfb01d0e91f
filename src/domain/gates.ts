/**
 * The decision gates of spec section 4: the first rule that matches wins.
 */
import type { AppConfig } from '../config';
import { numberText } from './numbers';
import type { Decision, ScoreBreakdown } from './types';

/** What the gates read from an item (already validated). */
export interface GateItem {
  /** Manual override from the input, or null. */
  readonly decision: Decision | null;
  readonly decisionReason: string | null;
  readonly riskFlags: readonly string[];
  readonly triggers: readonly string[];
}

/** The item's scores after modifiers, or null when it has none. */
export interface GateScores {
  /** Only `confidence` is read. */
  readonly breakdown: Readonly<ScoreBreakdown>;
  /** The rounded trend score the thresholds compare. */
  readonly trendScore: number;
}

export interface GateResult {
  decision: Decision | null;
  reason: string | null;
}

interface BrandSets {
  forbidden: ReadonlySet<string>;
  triggers: ReadonlySet<string>;
}

// Built once per config object; a worker keeps its config for its lifetime.
const setsCache = new WeakMap<AppConfig, BrandSets>();

function brandSets(config: AppConfig): BrandSets {
  let sets = setsCache.get(config);
  if (sets === undefined) {
    sets = { forbidden: new Set(config.brand.forbiddenTactics), triggers: new Set(config.brand.alwaysCoverTriggers) };
    setsCache.set(config, sets);
  }
  return sets;
}

function firstIn(values: readonly string[], set: ReadonlySet<string>): string | undefined {
  for (const v of values) if (set.has(v)) return v;
  return undefined;
}

/**
 * Decides `promote` / `monitor` / `block` (or nothing) for one item.
 *
 * @example
 * decide({ decision: null, decisionReason: null, riskFlags: [], triggers: [] },
 *   { breakdown, trendScore: 80 }, config); // { decision: 'promote', reason: 'must-cover: score 80 >= 75' }
 */
export function decide(item: GateItem, scores: GateScores | null, config: AppConfig): GateResult {
  if (item.decision !== null) return { decision: item.decision, reason: item.decisionReason };
  const sets = brandSets(config);
  const tactic = firstIn(item.riskFlags, sets.forbidden);
  if (tactic !== undefined) return { decision: 'block', reason: `forbidden tactic: ${tactic}` };
  if (scores === null) return { decision: null, reason: null };

  const t = config.thresholds;
  const c = scores.breakdown.confidence;
  const s = scores.trendScore;
  if (c < t.minConfidenceMonitor) return { decision: 'block', reason: `confidence ${numberText(c)} below ${t.minConfidenceMonitor}` };
  const trigger = firstIn(item.triggers, sets.triggers);
  if (trigger !== undefined) return { decision: 'promote', reason: `always-cover trigger: ${trigger}` };
  const promotable = c >= t.minConfidencePromote;
  if (s >= t.mustCover && promotable) return { decision: 'promote', reason: `must-cover: score ${numberText(s)} >= ${t.mustCover}` };
  if (s >= t.optional && promotable) return { decision: 'promote', reason: `optional: score ${numberText(s)} >= ${t.optional}` };
  if (s >= t.watch) return { decision: 'monitor', reason: `watch: score ${numberText(s)} >= ${t.watch}` };
  return { decision: 'block', reason: `below watch: score ${numberText(s)} < ${t.watch}` };
}
