import { DEFAULT_CONFIG } from '../src/config';
import {
  applyModifiers, breakdownTotal, clamp, Gate, NOTE_BRIGADING, NOTE_MISINFO, QualityGate, SCORE_CAPS, singleSourceNote,
  TrendGate, TrendScorer, trendScore,
} from '../src/domain';
import type { ScoreBreakdown } from '../src/domain';

const base: ScoreBreakdown = { impact: 20, timeliness: 15, virality: 10, relevance: 22, confidence: 8 };

describe('clamp()', () => {
  it('keeps a value inside the range', () => expect(clamp(5, 0, 10)).toBe(5));
  it('raises a value below the range to the lower bound', () => expect(clamp(-5, 0, 10)).toBe(0));
  it('lowers a value above the range to the upper bound', () => expect(clamp(15, 0, 10)).toBe(10));
});

describe('breakdownTotal()', () => {
  it('sums the five components', () => expect(breakdownTotal(base)).toBe(75));
});

describe('applyModifiers()', () => {
  it('passes the breakdown through unchanged, with no notes, when no signal is set', () => {
    const r = applyModifiers(base, {});
    expect(r.breakdown).toEqual(base);
    expect(r.notes).toEqual([]);
  });

  it('penalises a single-source item with low confidence by 8 (confidence 4 -> 3, virality 12 -> 8)', () => {
    const r = applyModifiers({ ...base, confidence: 4, virality: 12 }, { single_source_only: true });
    expect(r.breakdown.confidence).toBe(3);
    expect(r.breakdown.virality).toBe(8);
    expect(r.notes).toEqual([singleSourceNote(8)]);
    expect(r.notes[0]).toBe('Penalty: single-source item (reduced confidence and virality by ~8).');
  });

  it('penalises a single-source item with confidence above 5 by 5 (virality -2)', () => {
    const r = applyModifiers({ ...base, confidence: 6, virality: 12 }, { single_source_only: true });
    expect(r.breakdown).toMatchObject({ confidence: 5, virality: 10 });
    expect(r.notes).toEqual(['Penalty: single-source item (reduced confidence and virality by ~5).']);
  });

  it('reduces virality by 10 when brigading is suspected (18 -> 8)', () => {
    const r = applyModifiers({ ...base, virality: 18 }, { brigading_suspected: true });
    expect(r.breakdown.virality).toBe(8);
    expect(r.notes).toEqual([NOTE_BRIGADING]);
    expect(NOTE_BRIGADING).toBe('Penalty: suspected brigading/coordinated spread (virality reduced).');
  });

  it('reduces confidence by 3 on high misinfo risk (8 -> 5)', () => {
    const r = applyModifiers({ ...base, confidence: 8 }, { high_misinfo_risk: true });
    expect(r.breakdown.confidence).toBe(5);
    expect(r.notes).toEqual([NOTE_MISINFO]);
    expect(NOTE_MISINFO).toBe('Penalty: high misinfo risk (confidence reduced; requires stricter gating).');
  });

  it('applies all three in order (confidence 8 -> 4, virality 18 -> 6) with three notes', () => {
    const r = applyModifiers({ ...base, confidence: 8, virality: 18 },
      { single_source_only: true, brigading_suspected: true, high_misinfo_risk: true });
    expect(r.breakdown.confidence).toBe(4);
    expect(r.breakdown.virality).toBe(6);
    expect(r.notes).toEqual([singleSourceNote(5), NOTE_BRIGADING, NOTE_MISINFO]);
  });

  it('never takes a component below 0', () => {
    const r = applyModifiers({ ...base, confidence: 0, virality: 1 },
      { single_source_only: true, brigading_suspected: true, high_misinfo_risk: true });
    expect(r.breakdown).toMatchObject({ confidence: 0, virality: 0 });
  });

  it('leaves impact, timeliness and relevance untouched and does not mutate its input', () => {
    const input = { ...base, virality: 18 };
    const r = applyModifiers(input, { single_source_only: true, brigading_suspected: true, high_misinfo_risk: true });
    expect(r.breakdown).toMatchObject({ impact: 20, timeliness: 15, relevance: 22 });
    expect(input).toEqual({ ...base, virality: 18 });
  });
});

describe('trendScore()', () => {
  const w = DEFAULT_CONFIG.weights;

  it('is 100 when every component is at its cap', () => expect(trendScore(SCORE_CAPS, w)).toBe(100));
  it('is 0 when every component is 0', () => {
    expect(trendScore({ impact: 0, timeliness: 0, virality: 0, relevance: 0, confidence: 0 }, w)).toBe(0);
  });

  it('weights each component by weight / cap and rounds to one decimal', () => {
    // 100 * (25*20/25 + 20*15/20 + 15*10/20 + 25*22/25 + 10*8/10) / 95 = 100 * 72.5 / 95 = 76.315...
    expect(trendScore(base, w)).toBe(76.3);
  });

  it('rounds half up (1.25 -> 1.3, not banker\'s 1.2)', () => {
    const confidenceOnly = { impact: 0, timeliness: 0, virality: 0, relevance: 0, confidence: 1 };
    expect(trendScore({ impact: 0, timeliness: 0, virality: 0, relevance: 0, confidence: 0.125 }, confidenceOnly)).toBe(1.3);
  });

  it('follows config weights', () => {
    const only = { impact: 1, timeliness: 0, virality: 0, relevance: 0, confidence: 0 };
    expect(trendScore({ ...base, impact: 25 }, only)).toBe(100);
  });

  it('is 0 when every weight is 0 (instead of NaN)', () => {
    expect(trendScore(base, { impact: 0, timeliness: 0, virality: 0, relevance: 0, confidence: 0 })).toBe(0);
  });
});

describe('TrendScorer#calculateScore()', () => {
  const scorer = new TrendScorer();
  it('is engagement * 0.5 + velocity * 0.3 (10, 5 -> 6.5)', () => {
    expect(scorer.calculateScore({ engagement: 10, velocity: 5 })).toBe(6.5);
  });
  it('is clamped to 0..100', () => {
    expect(scorer.calculateScore({ engagement: 1000, velocity: 0 })).toBe(100);
    expect(scorer.calculateScore({ engagement: -10, velocity: 0 })).toBe(0);
  });
});

describe('Gate#shouldPass()', () => {
  it('passes a score at the threshold and fails just below', () => {
    const g = new Gate(42);
    expect(g.shouldPass(42)).toBe(true);
    expect(g.shouldPass(41.9)).toBe(false);
  });

  it('QualityGate passes 50 and fails 49.9', () => {
    const g = new QualityGate();
    expect(g.threshold).toBe(50);
    expect(g.shouldPass(50)).toBe(true);
    expect(g.shouldPass(49.9)).toBe(false);
  });

  it('TrendGate passes 70 and fails 69.9', () => {
    const g = new TrendGate();
    expect(g.threshold).toBe(70);
    expect(g.shouldPass(70)).toBe(true);
    expect(g.shouldPass(69.9)).toBe(false);
  });
});
