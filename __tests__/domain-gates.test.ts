import { DEFAULT_CONFIG, loadConfig } from '../src/config';
import { decide } from '../src/domain';
import type { GateItem, GateScores } from '../src/domain';

const config = DEFAULT_CONFIG;
const plain: GateItem = { decision: null, decisionReason: null, riskFlags: [], triggers: [] };
const breakdown = { impact: 20, timeliness: 15, virality: 10, relevance: 22, confidence: 8 };
const scored = (trendScore: number, confidence = 8): GateScores => ({ breakdown: { ...breakdown, confidence }, trendScore });

describe('decide()', () => {
  it('1. keeps a manual decision and its reason, whatever else the item says', () => {
    const item = { ...plain, decision: 'monitor' as const, decisionReason: 'editor call', riskFlags: ['doxxing'], triggers: ['war_escalation'] };
    expect(decide(item, scored(99), config)).toEqual({ decision: 'monitor', reason: 'editor call' });
  });

  it('1. keeps a manual decision with a null reason as null', () => {
    expect(decide({ ...plain, decision: 'block' }, null, config)).toEqual({ decision: 'block', reason: null });
  });

  it('2. blocks a forbidden tactic, naming the first forbidden flag, before looking at scores', () => {
    const item = { ...plain, riskFlags: ['legal_review', 'doxxing', 'harassment'], triggers: ['war_escalation'] };
    expect(decide(item, scored(99), config)).toEqual({ decision: 'block', reason: 'forbidden tactic: doxxing' });
    expect(decide(item, null, config)).toEqual({ decision: 'block', reason: 'forbidden tactic: doxxing' });
  });

  it('3. leaves decision and reason null when the item has no scores', () => {
    expect(decide({ ...plain, triggers: ['war_escalation'] }, null, config)).toEqual({ decision: null, reason: null });
  });

  it('4. blocks confidence below min_confidence_monitor, before always-cover triggers', () => {
    const item = { ...plain, triggers: ['war_escalation'] };
    expect(decide(item, scored(99, 2.5), config)).toEqual({ decision: 'block', reason: 'confidence 2.5 below 3' });
  });

  it('4. lets confidence exactly at min_confidence_monitor through', () => {
    expect(decide(plain, scored(50, 3), config).decision).toBe('monitor');
  });

  it('5. promotes an always-cover trigger, naming the first one, whatever the score', () => {
    const item = { ...plain, triggers: ['celebrity_news', 'supreme_court_ruling', 'war_escalation'] };
    expect(decide(item, scored(10, 3), config)).toEqual({ decision: 'promote', reason: 'always-cover trigger: supreme_court_ruling' });
  });

  it('6. promotes must-cover at score >= 75 with confidence >= 6', () => {
    expect(decide(plain, scored(75, 6), config)).toEqual({ decision: 'promote', reason: 'must-cover: score 75 >= 75' });
  });

  it('7. promotes optional at score >= 60 with confidence >= 6', () => {
    expect(decide(plain, scored(74.9, 6), config)).toEqual({ decision: 'promote', reason: 'optional: score 74.9 >= 60' });
    expect(decide(plain, scored(60, 6), config)).toEqual({ decision: 'promote', reason: 'optional: score 60 >= 60' });
  });

  it('8. monitors a high score whose confidence is too low to promote', () => {
    expect(decide(plain, scored(90, 5.9), config)).toEqual({ decision: 'monitor', reason: 'watch: score 90 >= 45' });
  });

  it('8. monitors at score >= 45', () => {
    expect(decide(plain, scored(59.9), config)).toEqual({ decision: 'monitor', reason: 'watch: score 59.9 >= 45' });
    expect(decide(plain, scored(45), config)).toEqual({ decision: 'monitor', reason: 'watch: score 45 >= 45' });
  });

  it('9. blocks below watch', () => {
    expect(decide(plain, scored(44.9), config)).toEqual({ decision: 'block', reason: 'below watch: score 44.9 < 45' });
  });

  it('uses the thresholds and brand lists of the config it is given', () => {
    const custom = loadConfig({}, {
      thresholds: { watch: 10, minConfidenceMonitor: 1 },
      brand: { forbiddenTactics: ['clickbait'], alwaysCoverTriggers: ['eclipse'] },
    });
    expect(decide({ ...plain, riskFlags: ['doxxing'] }, scored(20, 2), custom)).toEqual({ decision: 'monitor', reason: 'watch: score 20 >= 10' });
    expect(decide({ ...plain, riskFlags: ['clickbait'] }, scored(20), custom).reason).toBe('forbidden tactic: clickbait');
    expect(decide({ ...plain, triggers: ['eclipse'] }, scored(1), custom).reason).toBe('always-cover trigger: eclipse');
    // The default config's sets are still its own.
    expect(decide({ ...plain, triggers: ['eclipse'] }, scored(1), config).reason).toBe('below watch: score 1 < 45');
  });
});
