import { perSecond, runTimes } from '../store/run-times';
import type { LineCounts, RunRecord } from '../store/types';
import type { RunSummary } from './types';

/**
 * A summary's times and rate, on either backend: the run's working and
 * elapsed time as its row records them (an end not recorded counts up to
 * now), and its non-blank lines per second of working time.
 */
export function runPace(run: RunRecord, counts: LineCounts, now = Date.now()): Pick<RunSummary, 'workingMs' | 'elapsedMs' | 'itemsPerSecond'> {
  const { workingMs, elapsedMs } = runTimes(run, now);
  return { workingMs, elapsedMs, itemsPerSecond: Math.round(perSecond(counts.linesRead - counts.blankLines, workingMs)) };
}
