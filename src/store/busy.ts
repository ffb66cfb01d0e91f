import { BusyError, fromSqliteError } from '../errors';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` (a worker has nothing else to do while it waits for the write lock). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Runs `fn`, retrying on SQLITE_BUSY with exponential backoff (10 ms doubling,
 * capped at 500 ms) until `maxWaitMs` has passed, then throws a `BusyError`.
 * Each attempt also waits up to the connection's own busy timeout.
 */
export function withBusyRetry<T>(fn: () => T, maxWaitMs: number, context: string): T {
  const start = performance.now();
  let delay = 10;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const waited = performance.now() - start;
      if (waited >= maxWaitMs) {
        throw new BusyError(
          `${context}: the database stayed locked by another connection for ${Math.round(waited)} ms (limit ${maxWaitMs} ms)`,
          { cause: fromSqliteError(err, context) },
        );
      }
      sleepSync(Math.min(delay, Math.max(1, maxWaitMs - waited)));
      delay = Math.min(delay * 2, 500);
    }
  }
}
