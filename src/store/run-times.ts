import type { RunRecord } from './types';

/** How long a run has worked, and how long since it started. */
export interface RunTimes {
  /**
   * From its start to its end (or now), less the time it sat interrupted
   * between an interruption and the resume that took it over
   * (`RunRecord#interruptedMs`): the time some process worked on it.
   */
  workingMs: number;
  /** From its start to its end (or now), interruptions included. */
  elapsedMs: number;
}

/**
 * A run's working and elapsed time, the one home of both. A run not ended
 * yet counts up to `now`; a stale one (its owner is gone: `stale`) worked
 * only until its last heartbeat.
 */
export function runTimes(
  run: Pick<RunRecord, 'startedAt' | 'finishedAt' | 'heartbeatAt' | 'interruptedMs'>, now = Date.now(), stale = false,
): RunTimes {
  const started = Date.parse(run.startedAt);
  const end = run.finishedAt !== null ? Date.parse(run.finishedAt) : now;
  const workedUntil = run.finishedAt === null && stale ? Math.max(started, run.heartbeatAt === null ? started : Date.parse(run.heartbeatAt)) : end;
  return { workingMs: Math.max(0, workedUntil - started - run.interruptedMs), elapsedMs: Math.max(0, end - started) };
}

/** `count` per second of `ms` (0 for no time): the one home of the items/s rate. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}
