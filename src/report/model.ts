/**
 * What the run report shows, read from a {@link ReadStore} (SQLite or
 * PostgreSQL alike) and aggregated there: per group of chunks, per worker,
 * per bin of lines or scores, never per item, so the page stays small for a
 * run of any length.
 */
import { nextStepHint } from '../cli/hints';
import type { ReadStore } from '../store/read-store';
import { perSecond, runTimes } from '../store/run-times';
import type { LineCounts, RunRecord, RunStatus } from '../store/types';
import { timeline, type Timeline } from './timeline';
import { workerRows, type WorkerRow } from './workers';

/** The run report's data. Times on the timeline are seconds since the run started. */
export interface RunReportData {
  generatedAt: string;
  version: string;
  run: RunHeader;
  timeline: Timeline;
  workers: WorkerRow[];
  work: WorkPart;
  rejects: RejectsPart;
  scores: ScoresPart;
  recent: RecentRun[];
}

export interface RunHeader extends LineCounts {
  runId: string;
  runType: string;
  /** `interrupted`: recorded `running`, but its process is gone. */
  status: RunStatus | 'interrupted';
  startedAt: string;
  finishedAt: string | null;
  /** Working time: from start to end (or now), less the time it sat interrupted (`runTimes`). */
  workingMs: number;
  /** From start to end (or now), interruptions included. */
  elapsedMs: number;
  interruptedMs: number;
  /** Non-blank lines per second of working time, as `runs` shows it. */
  itemsPerSecond: number | null;
  chunks: number;
  workers: number | null;
  chunkSize: number | null;
  chunkBytes: number | null;
  input: string | null;
  database: string;
  backend: ReadStore['kind'];
  notes: string | null;
  /** What to do next, with the command, for a run that can be resumed (`nextStepHint`). */
  nextStep: string | null;
}

/** The telemetry's totals of the process that recorded the run's end. */
export interface WorkPart {
  /** Chunks handed to a worker again (a worker that died; PostgreSQL: a server away). */
  retries: number | null;
  /** SQLite: the share of the run during which a worker held the write lock. */
  writeLockShare: number | null;
  /** The share of the worker threads' time spent parsing or writing. */
  poolUtilization: number | null;
  /** PostgreSQL: transactions run again after a conflict. */
  conflicts: number | null;
}

export interface RejectsPart {
  total: number;
  codes: { code: string; count: number }[];
  /** The strip over line numbers: `bins` bins of `linesPerBin` lines, counts per code. */
  linesPerBin: number;
  bins: number;
  strip: { code: string; counts: number[] }[];
  /** Rejects whose line number is not known yet (PostgreSQL, an earlier chunk not done). */
  unplaced: number;
  examples: { code: string; lineNo: number; reason: string; excerpt: string }[];
}

export interface ScoresPart {
  /** Trend-score points per histogram bin (0-100 in `100 / width` bins). */
  width: number;
  decisions: { decision: string; count: number }[];
  histogram: { decision: string; counts: number[] }[];
  unscored: number;
}

export interface RecentRun {
  runId: string;
  startedAt: string;
  status: RunStatus | 'interrupted';
  /** Working time, as `runs` shows it. */
  workingMs: number;
  itemsPerSecond: number | null;
  rejectRatio: number | null;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** The report's own run. */
  current: boolean;
}

export interface CollectOptions {
  /** Runs of the database in the trend charts. @defaultValue 14 */
  recentRuns?: number;
  /** Points of the timeline at most (consecutive chunks are summed beyond). @defaultValue 600 */
  maxPoints?: number;
  /** Examples per reject code in the table. @defaultValue 3 */
  examples?: number;
  /** The words that start the CLI, for the resume command. @defaultValue ['brand-orchestrator'] */
  command?: readonly string[];
  version: string;
}

const STRIP_BINS = 100;
const SCORE_WIDTH = 5;
const DECISIONS = ['promote', 'monitor', 'block', 'none'] as const;
/** Reject texts are cut to this many characters in the page (the database keeps 200 of an excerpt). */
const TEXT_MAX = 300;

/** The report of the run `ref` names (an id, `latest`, or a unique prefix). */
export async function collectReport(store: ReadStore, ref: string, o: CollectOptions): Promise<RunReportData> {
  const recorded = await store.resolveRun(ref);
  const run = recorded.status === 'running' ? { ...recorded, ...await store.chunkTotals(recorded.runId) } : recorded;
  const groupSize = Math.ceil(Math.max(1, run.chunks) / (o.maxPoints ?? 600));
  const [groups, telemetry] = await Promise.all([store.chunkGroups(run.runId, groupSize), store.readTelemetry(run.runId)]);
  // A rate over as many chunks as there were workers: they commit in bursts of about that many.
  const tl = timeline(groupSize, groups, Date.parse(run.startedAt), run.interruptedMs, Math.max(1, Math.min(8, numberOr(run.settings.workers) ?? 1)));
  return {
    generatedAt: new Date().toISOString(),
    version: o.version,
    run: header(store, run, telemetry, o.command ?? ['brand-orchestrator']),
    timeline: tl,
    workers: workerRows(telemetry),
    work: workPart(telemetry),
    rejects: await rejectsPart(store, run, o.examples ?? 3),
    scores: await scoresPart(store, run.runId),
    recent: await recentRuns(store, run.runId, o.recentRuns ?? 14),
  };
}

function workPart(t: Record<string, unknown> | undefined): WorkPart {
  return { retries: numberOr(t?.retries), writeLockShare: numberOr(t?.writeLockShare), poolUtilization: numberOr(t?.poolUtilization), conflicts: numberOr(t?.conflicts) };
}

function header(store: ReadStore, run: RunRecord, telemetry: Record<string, unknown> | undefined, command: readonly string[]): RunHeader {
  const stale = store.isStale(run);
  const { workingMs, elapsedMs } = runTimes(run, Date.now(), stale);
  const s = run.settings;
  const input = typeof s.input === 'string' ? s.input : null;
  const resumable = run.status === 'failed' || run.status === 'cancelled' || stale;
  const error = /^(ERR_[A-Z_]+): ([\s\S]*)$/.exec(run.notes ?? '');
  return {
    runId: run.runId, runType: run.runType, status: stale ? 'interrupted' : run.status, startedAt: run.startedAt, finishedAt: run.finishedAt,
    workingMs, elapsedMs, interruptedMs: run.interruptedMs, itemsPerSecond: rate(run, workingMs), linesRead: run.linesRead, blankLines: run.blankLines, inserted: run.inserted,
    updated: run.updated, unchanged: run.unchanged, rejected: run.rejected, chunks: run.chunks,
    workers: numberOr(s.workers, telemetry?.workerThreads), chunkSize: numberOr(s.chunkSize), chunkBytes: numberOr(s.chunkBytes),
    input, database: store.label, backend: store.kind, notes: run.notes,
    nextStep: resumable
      ? nextStepHint({ dbPath: store.label, runId: run.runId, input, ...(error ? { error: { code: error[1] as string, message: error[2] as string } } : {}) }, command)
      : null,
  };
}

/** Non-blank lines per second of working time, as `runs` shows it. */
function rate(r: LineCounts, ms: number): number | null {
  return ms > 0 ? Math.round(perSecond(r.linesRead - r.blankLines, ms)) : null;
}

function numberOr(...values: unknown[]): number | null {
  const n = values.find((v) => typeof v === 'number' && Number.isFinite(v));
  return n === undefined ? null : (n as number);
}

async function rejectsPart(store: ReadStore, run: RunRecord, examples: number): Promise<RejectsPart> {
  const codes = await store.rejectCounts(run.runId);
  const linesPerBin = Math.max(1, Math.ceil(run.linesRead / STRIP_BINS));
  const bins = Math.max(1, Math.ceil(run.linesRead / linesPerBin));
  const strip = new Map(codes.map((c) => [c.code, new Array<number>(bins).fill(0)]));
  let unplaced = 0;
  for (const b of await store.rejectBins(run.runId, linesPerBin)) {
    const counts = strip.get(b.code);
    if (b.bin < 0 || counts === undefined) unplaced += b.count;
    else counts[Math.min(bins - 1, b.bin)] = (counts[Math.min(bins - 1, b.bin)] ?? 0) + b.count;
  }
  const shown = [];
  for (const { code } of codes.slice(0, 20)) {
    for (const r of await store.rejectExamples(run.runId, code, examples)) {
      shown.push({ code, lineNo: r.lineNo, reason: cut(r.reason), excerpt: cut(r.excerpt) });
    }
  }
  return {
    total: codes.reduce((n, c) => n + c.count, 0), codes, linesPerBin, bins,
    strip: [...strip].map(([code, counts]) => ({ code, counts })), unplaced, examples: shown,
  };
}

function cut(s: string): string {
  return s.length > TEXT_MAX ? `${s.slice(0, TEXT_MAX)}…` : s;
}

async function scoresPart(store: ReadStore, runId: string): Promise<ScoresPart> {
  const bins = 100 / SCORE_WIDTH;
  const histogram = new Map(DECISIONS.map((d) => [d as string, new Array<number>(bins).fill(0)]));
  const decisions = new Map(DECISIONS.map((d) => [d as string, 0]));
  let unscored = 0;
  for (const b of await store.scoreBins(runId, SCORE_WIDTH, bins - 1)) {
    const d = b.decision ?? 'none';
    decisions.set(d, (decisions.get(d) ?? 0) + b.count);
    const counts = histogram.get(d);
    if (b.bin === null || counts === undefined) unscored += b.count;
    else counts[b.bin] = (counts[b.bin] ?? 0) + b.count;
  }
  return {
    width: SCORE_WIDTH,
    decisions: [...decisions].map(([decision, count]) => ({ decision, count })),
    histogram: [...histogram].map(([decision, counts]) => ({ decision, counts })),
    unscored,
  };
}

/** The database's latest runs, oldest first, with this run marked. */
async function recentRuns(store: ReadStore, runId: string, limit: number): Promise<RecentRun[]> {
  const runs = await store.listRuns({ limit });
  const out: RecentRun[] = [];
  for (const recorded of runs.reverse()) {
    const r = recorded.status === 'running' ? { ...recorded, ...await store.chunkTotals(recorded.runId) } : recorded;
    const stale = store.isStale(r);
    const { workingMs } = runTimes(r, Date.now(), stale);
    const nonBlank = r.linesRead - r.blankLines;
    out.push({
      runId: r.runId, startedAt: r.startedAt, status: stale ? 'interrupted' : r.status, workingMs, itemsPerSecond: rate(r, workingMs),
      rejectRatio: nonBlank > 0 ? r.rejected / nonBlank : null, inserted: r.inserted, updated: r.updated, unchanged: r.unchanged,
      rejected: r.rejected, current: r.runId === runId,
    });
  }
  return out;
}
