import { InvalidOptionError, StoreError } from '../errors';
import type { StateStore } from './state-store';
import { removeStaleLock, runOwnerState, type RunClaim } from './run-owner';
import type { ChunkCheckpoint, RunRecord } from '../store/types';
import type { ResolvedPipelineOptions } from '../pipeline/options';

/** A run ready to go: new, or reopened for a resume with the chunks it had committed. */
export interface PreparedRun {
  run: RunRecord;
  chunkSize: number;
  maxChunkBytes: number;
  committed: Map<number, ChunkCheckpoint>;
  /** This process's claim on the run, released when the run ends. */
  claim: RunClaim;
}

/** Starts or reopens the run under `claim` (this process's token, see run-owner.ts). */
export function prepareRun(store: StateStore, opts: ResolvedPipelineOptions, claim: RunClaim): PreparedRun {
  if (opts.resume === undefined) {
    const run = store.startRun({ runId: opts.runId, runType: opts.runType, settings: settingsSnapshot(opts), ownerToken: claim.token });
    return { run, chunkSize: opts.chunkSize, maxChunkBytes: opts.maxChunkBytes, committed: new Map(), claim };
  }
  const previous = store.getRun(opts.resume);
  if (previous.status === 'completed') {
    throw new InvalidOptionError(`Run ${opts.resume} already completed; there is nothing to resume`);
  }
  if (previous.status === 'running' && !opts.force) {
    const owner = runOwnerState(previous, opts.dbPath);
    if (owner.alive) {
      throw new StoreError('ERR_RUN_ACTIVE', `Run ${opts.resume} is still running: ${owner.why}; resume it once that process has stopped, `
        + 'or take it over with --force (`force: true`) if you know it has');
    }
  }
  // The chunk boundaries must match the original run's, so its chunk bounds
  // win (a run from before byte bounds had none).
  const { settings } = previous;
  const chunkSize = typeof settings.chunkSize === 'number' ? settings.chunkSize : opts.chunkSize;
  const maxChunkBytes = typeof settings.maxChunkBytes === 'number' ? settings.maxChunkBytes : Number.POSITIVE_INFINITY;
  const committed = new Map(store.listChunks(opts.resume).map((c) => [c.chunkIndex, c]));
  const run = store.reopenRun(opts.resume, claim.token);
  // The previous owner's lock file is of no more use (its owner, if alive, stops at its next heartbeat).
  removeStaleLock(opts.dbPath, previous.ownerToken);
  return { run, chunkSize, maxChunkBytes, committed, claim };
}

function settingsSnapshot(opts: ResolvedPipelineOptions): Record<string, unknown> {
  return {
    chunkSize: opts.chunkSize, maxChunkBytes: opts.maxChunkBytes, workers: opts.workers, maxInFlight: opts.maxInFlight, synchronous: opts.synchronous,
    maxRejects: Number.isFinite(opts.maxRejects) ? opts.maxRejects : null, maxLineBytes: opts.maxLineBytes,
    input: typeof opts.input === 'string' ? opts.input : null,
  };
}
