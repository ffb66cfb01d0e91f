import type { Logger } from './logger';
import type { ProgressReporter } from './progress';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * Runs `fn` with SIGINT and SIGTERM turned into an abort of its signal: the
 * first stops the bar (so no redraw covers the notice), logs the notice and
 * aborts; a second ends the process at once, by that signal (the shell sees
 * 128 + its number; every chunk is one transaction: nothing is half-written). Settles with `fn`'s outcome and the
 * first signal received, if any.
 */
export async function withStopSignals<T>(
  log: Logger, progress: ProgressReporter, fn: (abort: AbortSignal) => Promise<T>,
): Promise<{ outcome: PromiseSettledResult<T>; signal: StopSignal | undefined }> {
  const ac = new AbortController();
  let signal: StopSignal | undefined;
  const onSignal = (sig: StopSignal) => {
    if (signal !== undefined) return dieBy(sig);
    signal = sig;
    progress.stop();
    log.warn(`${sig}: finishing in-flight chunks, then stopping (${sig} again to exit at once)`);
    ac.abort(sig); // the reason goes into the run's notes
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const [outcome] = await Promise.allSettled([fn(ac.signal)]);
    return { outcome, signal };
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Ends the process by `sig` itself, with its default action: the kernel stops
 * every thread where it is. Not `process.exit()`, which tears worker threads
 * down from inside: a worker inside a SQLite call (waiting for the write
 * lock) then aborted the whole process natively (exit 134).
 */
function dieBy(sig: StopSignal): void {
  for (const cleanup of hardStopCleanups) cleanup(); // no 'exit' event follows a death by signal
  process.removeAllListeners(sig); // back to the default action
  process.kill(process.pid, sig);
}

const hardStopCleanups = new Set<() => void>();

/**
 * Runs `cleanup` (synchronous: remove a temporary file) if a second signal
 * ends the process at once, and on a normal exit; returns what unregisters it.
 */
export function onStop(cleanup: () => void): () => void {
  hardStopCleanups.add(cleanup);
  process.once('exit', cleanup);
  return () => {
    hardStopCleanups.delete(cleanup);
    process.off('exit', cleanup);
  };
}
