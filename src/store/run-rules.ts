/** What every backend's runs share: the `latest` reference, an unknown run's error, heartbeat and staleness. */
import { StoreError } from '../errors';

/** The run reference that names the most recently started run. */
export const LATEST = 'latest';

export function unknownRun(runId: string): StoreError {
  return new StoreError('ERR_RUN_NOT_FOUND', `No run with id ${JSON.stringify(runId)}`);
}

/** How often the owner of a running run refreshes its heartbeat. */
export const HEARTBEAT_MS = 5_000;
/** A run without a heartbeat for this long counts as stopped (when its lock cannot tell). */
export const STALE_MS = 60_000;
