import { TooManyRejectsError } from '../errors';
import type { LineCounts } from '../store/types';

/**
 * More than half of the non-blank lines rejected: the feed is most likely in
 * the wrong format (gzip read as text, CSV, an error page), not a feed with a
 * few bad lines, so by default such a run fails instead of completing.
 */
export const DEFAULT_MAX_REJECT_RATIO = 0.5;

/** The share of a run's non-blank lines that were rejected (0 when it has none). */
export function rejectRatio(c: Pick<LineCounts, 'linesRead' | 'blankLines' | 'rejected'>): number {
  const nonBlank = c.linesRead - c.blankLines;
  return nonBlank > 0 ? c.rejected / nonBlank : 0;
}

/**
 * The failure of a run whose lines were all committed but rejected more than
 * `maxRatio` of its non-blank lines; undefined when within the limit. Checked
 * once the whole input is counted, so the result does not depend on the
 * order in which the workers' chunks commit.
 */
export function rejectRatioFailure(c: Pick<LineCounts, 'linesRead' | 'blankLines' | 'rejected'>, maxRatio: number): TooManyRejectsError | undefined {
  const ratio = rejectRatio(c);
  if (ratio <= maxRatio) return undefined;
  const nonBlank = c.linesRead - c.blankLines;
  return new TooManyRejectsError(
    `${c.rejected} of ${nonBlank} non-blank lines (${percent(ratio)}) were rejected, more than maxRejectRatio (${percent(maxRatio)}): `
    + 'is the feed in the expected format? See the run\'s rejects',
  );
}

function percent(r: number): string {
  return `${Math.round(r * 1000) / 10}%`;
}
