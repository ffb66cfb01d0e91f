import { SingleBar } from 'cli-progress';
import type { ProgressEvent } from '../pipeline/types';
import { fmtDuration, fmtInt } from './format';
import type { Logger } from './logger';

export interface ProgressReporter {
  update(e: ProgressEvent): void;
  /** Clears the bar for good: later updates are ignored (a notice printed after it is not drawn over). */
  stop(): void;
}

/** Progress lines in log mode: one every 10 s at info (every event at debug). */
const LOG_EVERY_MS = 10_000;

/**
 * A progress bar on a terminal, fitted to its width; log lines otherwise.
 * Both on stderr, so stdout stays clean for `--json`.
 */
export function createProgress(mode: 'tty' | 'log' | 'none', log: Logger): ProgressReporter {
  if (mode === 'none') return { update: () => undefined, stop: () => undefined };
  if (mode === 'log') return logProgress(log);
  let bar: SingleBar | undefined;
  let last: ProgressEvent | undefined;
  let stopped = false;
  return {
    update(e) {
      if (stopped) return;
      last = e;
      if (bar === undefined) {
        // Read at every redraw, so a resized window gets a line that fits.
        bar = new SingleBar({ stream: process.stderr, format: () => (last === undefined ? '' : progressLine(last, process.stderr.columns || 80)), hideCursor: true });
        bar.start(1, 0);
      }
      bar.update(0);
    },
    stop() {
      stopped = true;
      bar?.stop();
    },
  };
}

const SEP = ' · ';
/** Below this many cells a bar says nothing; the counts get the room. */
const MIN_BAR = 10;

/**
 * One progress line of at most `columns` cells, the counts that matter first:
 * `12,345 lines · 4,321 items/s · 3 rejected · 45% · ETA 1m 5s [█████░░░░░]`.
 * A percentage and ETA only when the input's size is known (a plain file; a
 * .gz file's size is estimated from its compression so far); parts that do
 * not fit are left off from the end, and the bar takes what room is left.
 */
export function progressLine(e: ProgressEvent, columns: number): string {
  const total = e.totalBytes !== undefined && e.totalBytes > 0 ? e.totalBytes : undefined;
  const done = total === undefined ? undefined : Math.min(1, e.bytesDone / total);
  const parts = [`${fmtInt(e.linesRead)} lines`, `${fmtInt(e.itemsPerSecond)} items/s`, `${fmtInt(e.rejected)} rejected`];
  if (done === undefined) {
    parts.push(fmtDuration(e.elapsedMs));
  } else {
    parts.push(`${Math.floor(done * 100)}%`);
    const rate = e.elapsedMs > 0 ? e.bytesDone / e.elapsedMs : 0;
    parts.push(`ETA ${done >= 1 ? '0s' : rate > 0 ? fmtDuration(((total ?? 0) - e.bytesDone) / rate) : '-'}`);
  }
  let line = '';
  let shown = 0;
  for (const p of parts) {
    const next = line === '' ? p : `${line}${SEP}${p}`;
    // The last column stays empty: a line that fills it wraps on some terminals.
    if (next.length > columns - 1) break;
    line = next;
    shown++;
  }
  const room = columns - 1 - line.length - 3;
  if (done !== undefined && shown === parts.length && room >= MIN_BAR) {
    const filled = Math.round(done * room);
    line += ` [${'█'.repeat(filled)}${'░'.repeat(room - filled)}]`;
  }
  return line;
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
