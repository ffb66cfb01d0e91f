import type { ChunkGroup } from '../store/read-store';

/** One point of the throughput chart: a group of consecutive commits (its sums as `ChunkGroup` has them). Times in seconds since the run started. */
export interface TimelinePoint extends Omit<ChunkGroup, 'firstAt' | 'lastAt'> {
  /** When the group's last chunk committed. */
  t: number;
  /**
   * Items per second over the last `Timeline.window` points (the time since
   * the point before them), within one stretch of work: null right after an
   * interruption (the gap is not work).
   */
  itemsPerSecond: number | null;
  cumulativeLines: number;
}

export interface Span {
  from: number;
  to: number;
}

export interface Timeline {
  /** Chunks summed into each point (1 unless the run has more chunks than points allowed). */
  groupSize: number;
  /** Points each rate is taken over: chunks commit in bursts (a chunk that waited its turn commits right after the one before). */
  window: number;
  points: TimelinePoint[];
  /** Interruptions: the longest gaps between commits that add up to the time the run sat interrupted (`RunRecord.interruptedMs`). */
  gaps: Span[];
  /** Stalls: a point whose chunks took more than STALL_FACTOR times the run's median, and at least STALL_MIN_MS. */
  stalls: Span[];
}

const STALL_FACTOR = 5;
const STALL_MIN_MS = 1000;

/**
 * The throughput timeline of a run from its chunk groups (commit order).
 * `start`: the run's start, Unix milliseconds; `interruptedMs`: how long it
 * sat interrupted between an end and a resume (a resume records it).
 */
export function timeline(groupSize: number, groups: readonly ChunkGroup[], start: number, interruptedMs: number, window = 1): Timeline {
  const sec = (ms: number) => Math.round(ms - start) / 1000;
  const intervals = groups.map((g, i) => ({ from: i === 0 ? start : (groups[i - 1] as ChunkGroup).lastAt, to: g.lastAt, chunks: g.chunks }));
  const gapAt = interruptions(intervals, interruptedMs);
  let cumulative = 0;
  /** The points since the last interruption, with the time before the first of them. */
  let stretch: { at: number; items: number }[] = [];
  let stretchFrom = start;
  const points = groups.map((g, i) => {
    cumulative += g.lines;
    const inGap = gapAt.has(i);
    if (inGap) {
      stretch = [];
      stretchFrom = g.lastAt;
    } else stretch.push({ at: g.lastAt, items: g.items });
    const last = stretch.slice(-window);
    const since = stretch.length > window ? (stretch[stretch.length - window - 1] as { at: number }).at : stretchFrom;
    const ms = g.lastAt - since;
    return {
      t: sec(g.lastAt), chunks: g.chunks, firstChunk: g.firstChunk, lastChunk: g.lastChunk, lines: g.lines, items: g.items,
      rejected: g.rejected, itemsPerSecond: inGap || ms <= 0 ? null : Math.round((last.reduce((n, p) => n + p.items, 0) * 1000) / ms),
      cumulativeLines: cumulative,
    };
  });
  const worked = intervals.filter((_s, i) => !gapAt.has(i));
  const perChunk = worked.map((s) => (s.to - s.from) / s.chunks).sort((a, b) => a - b);
  const median = perChunk[Math.floor(perChunk.length / 2)] ?? 0;
  const stalls = worked.filter((s) => s.to - s.from >= STALL_MIN_MS && (s.to - s.from) / s.chunks > STALL_FACTOR * median);
  return {
    groupSize, window, points,
    gaps: [...gapAt].sort((a, b) => a - b).map((i) => intervals[i] as Span).map((s) => ({ from: sec(s.from), to: sec(s.to) })),
    stalls: stalls.map((s) => ({ from: sec(s.from), to: sec(s.to) })),
  };
}

/**
 * Which intervals between commits hold the run's interruptions: the longest
 * ones, until they add up to the time it sat interrupted. A resume records
 * that time, not where it fell; no chunk commits while a run is interrupted,
 * so each interruption lies within one interval, the longest ones.
 */
function interruptions(intervals: readonly Span[], interruptedMs: number): Set<number> {
  const out = new Set<number>();
  if (interruptedMs <= 0) return out;
  const longest = intervals.map((s, i) => ({ i, ms: s.to - s.from })).sort((a, b) => b.ms - a.ms);
  let covered = 0;
  for (const { i, ms } of longest) {
    if (covered >= interruptedMs) break;
    out.add(i);
    covered += ms;
  }
  return out;
}
