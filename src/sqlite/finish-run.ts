import { BrandOrchestratorError, toError } from '../errors';
import { fromSqliteError } from './errors';
import type { StateStore } from './state-store';
import type { RunClaim } from './run-owner';
import type { LineCounts, RunRecord, RunStatus } from '../store/types';
import { waitForLock } from './lock-wait';
import { runPace } from '../pipeline/run-pace';
import type { RunSummary } from '../pipeline/types';

/** The run's last write waits at least this long for a lock. */
const FINISH_BUSY_WAIT_MS = 30_000;

/** How a run ended, as the scheduler saw it. */
export interface RunEnd {
  runId: string;
  status: Exclude<RunStatus, 'running'>;
  /** The run's first failure (the chunk that failed, a reading error...). */
  failure: Error | undefined;
  /** The committed counts the scheduler saw, used when the database cannot be read. */
  seen: LineCounts & { chunks: number };
  /** The run as this process started or reopened it: its times when its row cannot be read at the end. */
  run: RunRecord;
  /** The rest of the summary. */
  rest: Pick<RunSummary, 'durationMs' | 'workers' | 'chunkSize' | 'resumedChunks'>;
  telemetry: Record<string, unknown>;
  maxBusyWaitMs: number;
  /** Released once the end is written; its lock file stays while the row still says `running`. */
  claim: RunClaim;
}

/**
 * Records how a run ended, then reports it as recorded. The summary's status
 * is what the `runs` row says: a run whose end could not be written (a full
 * disk, a lock held past the wait) is still `running` there, and is reported
 * so, with a warning. A failed final WAL checkpoint is a warning: the run's
 * data is committed in the WAL, which SQLite folds back at a later
 * checkpoint. A failed run rejects with its first failure, the error that
 * names its cause; a run whose end could not be recorded rejects with that
 * error. Either way the error carries the summary.
 */
export async function finishRun(store: StateStore, end: RunEnd): Promise<RunSummary> {
  const warnings: string[] = [];
  let totals = end.seen;
  try {
    totals = store.chunkTotals(end.runId);
  } catch (err) {
    warnings.push(`${fromSqliteError(err, 'Reading the committed counts').message}; the counts are the ones this process saw`);
  }
  // A run taken over by another process is its new owner's to end.
  const takenOver = codeOf(end.failure) === 'ERR_RUN_TAKEN_OVER';
  const unrecorded = takenOver ? undefined : await recordEnd(store, end, totals);
  // The row as recorded: the run's times, and its status when this process did not write its end.
  const recorded = readRun(store, end.runId);
  const status = takenOver || unrecorded !== undefined ? recorded?.status ?? 'running' : end.status;
  if (unrecorded !== undefined) {
    warnings.push(`the run's end (${end.status}) could not be recorded: ${unrecorded.code}: ${unrecorded.message}; the database says \`${status}\``);
  }
  end.claim.release(takenOver || status !== 'running');
  try {
    store.checkpoint('TRUNCATE');
  } catch (err) {
    const e = fromSqliteError(err, 'The final WAL checkpoint failed');
    warnings.push(`${e.code}: ${e.message}; the run's data is committed (in the -wal file) and SQLite folds it into the database at a later checkpoint`);
  }
  const { durationMs, ...rest } = end.rest;
  const summary: RunSummary = {
    runId: end.runId, status, ...totals, durationMs, ...runPace(recorded ?? { ...end.run, finishedAt: null }, totals), ...rest,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  const error = end.failure ?? unrecorded;
  if (error !== undefined) throw Object.assign(asTyped(error), { summary });
  return summary;
}

/** Writes the run's end and telemetry; returns the error that kept it from being written. */
async function recordEnd(store: StateStore, end: RunEnd, totals: LineCounts & { chunks: number }): Promise<BrandOrchestratorError | undefined> {
  const notes = end.failure ? `${codeOf(end.failure)}: ${end.failure.message}` : null;
  const context = `Recording the end of run ${end.runId}`;
  try {
    await waitForLock(() => store.transaction(() => {
      store.writeTelemetry(end.runId, end.telemetry);
      store.finishRun(end.runId, end.status, notes, totals);
    }), Math.max(end.maxBusyWaitMs, FINISH_BUSY_WAIT_MS), context);
    return undefined;
  } catch (err) {
    return fromSqliteError(err, context);
  }
}

/** The `runs` row as it is now (undefined when it cannot be read either). */
function readRun(store: StateStore, runId: string): RunRecord | undefined {
  try {
    return store.findRun(runId);
  } catch {
    return undefined;
  }
}

function codeOf(e: Error | undefined): string {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' ? c : 'ERR_INTERNAL';
}

function asTyped(e: Error): BrandOrchestratorError {
  return e instanceof BrandOrchestratorError ? e : new BrandOrchestratorError('ERR_INTERNAL', toError(e).message, { cause: e });
}
