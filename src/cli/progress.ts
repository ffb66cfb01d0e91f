import { SingleBar, Presets } from 'cli-progress';
import type { ProgressEvent } from '../pipeline/types';
import { fmtInt } from './format';

export interface ProgressReporter {
  update(e: ProgressEvent): void;
  stop(): void;
}

/**
 * A progress bar on a TTY (lines, items/s, rejects, ETA when the input size is
 * known); plain periodic log lines otherwise (cron logs). Writes to stderr so
 * stdout stays clean for `--json`.
 */
export function createProgress(mode: 'tty' | 'log' | 'none', totalBytes: number | undefined): ProgressReporter {
  if (mode === 'none') return { update: () => undefined, stop: () => undefined };
  if (mode === 'log') {
    let last = 0;
    return {
      update(e) {
        if (e.elapsedMs - last < 10_000 && last !== 0) return;
        last = e.elapsedMs || 1;
        process.stderr.write(`[ingest] ${fmtInt(e.linesRead)} lines, ${fmtInt(e.inserted)} inserted, ${fmtInt(e.updated)} updated, `
          + `${fmtInt(e.unchanged)} unchanged, ${fmtInt(e.rejected)} rejected, ${fmtInt(e.itemsPerSecond)} items/s\n`);
      },
      stop: () => undefined,
    };
  }
  const sized = totalBytes !== undefined && totalBytes > 0;
  const bar = new SingleBar({
    stream: process.stderr,
    format: sized
      ? 'ingest [{bar}] {percentage}% | {lines} lines | {rate} items/s | {rejected} rejected | ETA {eta_formatted}'
      : 'ingest {lines} lines | {rate} items/s | {rejected} rejected | {duration_formatted}',
    hideCursor: true,
    etaBuffer: 20,
  }, Presets.shades_classic);
  bar.start(sized ? totalBytes : 0, 0, { lines: 0, rate: 0, rejected: 0 });
  return {
    update(e) {
      bar.update(sized ? e.bytesDone : 0, { lines: fmtInt(e.linesRead), rate: fmtInt(e.itemsPerSecond), rejected: fmtInt(e.rejected) });
    },
    stop: () => bar.stop(),
  };
}
