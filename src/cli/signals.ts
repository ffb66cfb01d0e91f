import { signalExitCode } from './exit-codes';
import type { Logger } from './logger';
import type { ProgressReporter } from './progress';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * Runs `fn` with SIGINT and SIGTERM turned into an abort of its signal: the
 * first stops the bar (so no redraw covers the notice), logs the notice and
 * aborts; a second exits at once with 128 + its number (every chunk is one
 * transaction: nothing is half-written). Settles with `fn`'s outcome and the
 * first signal received, if any.
 */
export async function withStopSignals<T>(
  log: Logger, progress: ProgressReporter, fn: (abort: AbortSignal) => Promise<T>,
): Promise<{ outcome: PromiseSettledResult<T>; signal: StopSignal | undefined }> {
  const ac = new AbortController();
  let signal: StopSignal | undefined;
  const onSignal = (sig: StopSignal) => {
    if (signal !== undefined) process.exit(signalExitCode(sig));
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
