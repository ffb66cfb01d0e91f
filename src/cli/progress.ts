import { SingleBar, Presets } from 'cli-progress';
import type { ProgressEvent } from '../pipeline/types';
import { fmtInt } from './format';
import type { Logger } from './logger';

export interface ProgressReporter {
  update(e: ProgressEvent): void;
  /** Clears the bar for good: later updates are ignored (a notice printed after it is not drawn over). */
  stop(): void;
}

/** Progress lines in log mode: one every 10 s at info (every event at debug). */
const LOG_EVERY_MS = 10_000;

/**
 * A progress bar on a terminal (lines, items/s, rejects; a percentage and ETA
 * only when the input's size in the bytes the pipeline counts is known: a
 * plain file, not a .gz one, whose size is compressed); log lines otherwise.
 * Both on stderr, so stdout stays clean for `--json`.
 */
export function createProgress(mode: 'tty' | 'log' | 'none', log: Logger): ProgressReporter {
  if (mode === 'none') return { update: () => undefined, stop: () => undefined };
  if (mode === 'log') return logProgress(log);
  let bar: SingleBar | undefined;
  let sized = false;
  let stopped = false;
  return {
    update(e) {
      if (stopped) return;
      if (bar === undefined) {
        sized = e.totalBytes !== undefined && e.totalBytes > 0;
        bar = new SingleBar({
          stream: process.stderr,
          format: sized
            ? 'ingest [{bar}] {percentage}% | {lines} lines | {rate} items/s | {rejected} rejected | ETA {eta_formatted}'
            : 'ingest {lines} lines | {rate} items/s | {rejected} rejected | {duration_formatted}',
          hideCursor: true,
          etaBuffer: 20,
        }, Presets.shades_classic);
        bar.start(sized ? e.totalBytes ?? 0 : 0, 0, { lines: 0, rate: 0, rejected: 0 });
      }
      bar.update(sized ? e.bytesDone : 0, { lines: fmtInt(e.linesRead), rate: fmtInt(e.itemsPerSecond), rejected: fmtInt(e.rejected) });
    },
    stop() {
      stopped = true;
      bar?.stop();
    },
  };
}

function logProgress(log: Logger): ProgressReporter {
  let last: number | undefined;
  return {
    update(e) {
      const due = last === undefined || e.elapsedMs - last >= LOG_EVERY_MS;
      if (!due && !log.isLevelEnabled('debug')) return;
      if (due) last = e.elapsedMs;
      log[due ? 'info' : 'debug']({ progress: e },
        `progress: ${fmtInt(e.linesRead)} lines, ${fmtInt(e.inserted)} inserted, ${fmtInt(e.updated)} updated, `
        + `${fmtInt(e.unchanged)} unchanged, ${fmtInt(e.rejected)} rejected, ${fmtInt(e.itemsPerSecond)} items/s`);
    },
    stop: () => undefined,
  };
}
