import { setTimeout as sleep } from 'node:timers/promises';
import { BusyError, CancelledError } from '../errors';
import { fromSqliteError, isBusyError } from './errors';

/**
 * The scheduler's connection waits at most this long inside one SQLite call:
 * the main thread must stay free to handle signals and worker replies, so
 * longer waits happen in {@link waitForLock}'s asynchronous loop.
 */
export const MAIN_BUSY_TIMEOUT_MS = 50;

/**
 * Runs `fn` (a short synchronous write on the scheduler's connection), and
 * while another connection holds the lock, tries again after a pause
 * (10 ms doubling, capped at 200 ms) until `maxWaitMs` has passed
 * (`BusyError`) or `signal` aborts (`CancelledError`). Other SQLite errors
 * get our codes (see `fromSqliteError`).
 */
export async function waitForLock<T>(fn: () => T, maxWaitMs: number, context: string, signal?: AbortSignal): Promise<T> {
  const start = performance.now();
  let delay = 10;
  for (;;) {
    if (signal?.aborted === true) throw new CancelledError(`${context}: cancelled while waiting for the database lock`, { cause: signal.reason });
    try {
      return fn();
    } catch (err) {
      // Opening a database maps SQLITE_BUSY to our BusyError before it gets
      // here: both mean another connection holds the lock for now.
      if (!isBusyError(err) && !(err instanceof BusyError)) throw fromSqliteError(err, context); // ours pass through; SQLite's get our codes
      const waited = performance.now() - start;
      if (waited >= maxWaitMs) {
        throw new BusyError(
          `${context}: the database stayed locked by another connection for ${Math.round(waited)} ms (limit ${maxWaitMs} ms)`,
          { cause: fromSqliteError(err, context) },
        );
      }
      await sleep(Math.min(delay, Math.max(1, maxWaitMs - waited)));
      delay = Math.min(delay * 2, 200);
    }
  }
}
