import { BusyError } from '../src/errors';
import { fromSqliteError, isBusyError } from '../src/sqlite/errors';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` (a worker has nothing else to do while it waits for the write lock). */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Returned by {@link withBusyRetry} when `stopped()` turned true while it waited. */
export const STOPPED = Symbol('stopped');

/**
 * Runs `fn`, retrying on SQLITE_BUSY with exponential backoff (10 ms doubling,
 * capped at 200 ms) until `maxWaitMs` has passed, then throws a `BusyError`.
 * Each attempt also waits up to the connection's own (short) busy timeout.
 * Between attempts it asks `stopped()`: a cancelled run does not sit out the
 * whole wait.
 */
export function withBusyRetry<T>(fn: () => T, maxWaitMs: number, context: string, stopped: () => boolean = () => false): T | typeof STOPPED {
  const start = performance.now();
  let delay = 10;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusyError(err)) throw err;
      const waited = performance.now() - start;
      if (waited >= maxWaitMs) {
        throw new BusyError(
          `${context}: the database stayed locked by another connection for ${Math.round(waited)} ms (limit ${maxWaitMs} ms)`,
          { cause: fromSqliteError(err, context) },
        );
      }
      if (stopped()) return STOPPED;
      sleepSync(Math.min(delay, Math.max(1, maxWaitMs - waited)));
      delay = Math.min(delay * 2, 200);
    }
  }
}
