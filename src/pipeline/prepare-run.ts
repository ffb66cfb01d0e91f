import { InvalidOptionError } from '../errors';
import type { StateStore } from '../store';
import { isStale } from '../store/runs';
import type { ChunkCheckpoint, RunRecord } from '../store/types';
import type { ResolvedPipelineOptions } from './options';

/** A run ready to go: new, or reopened for a resume with the chunks it had committed. */
export interface PreparedRun {
  run: RunRecord;
  chunkSize: number;
  maxChunkBytes: number;
  committed: Map<number, ChunkCheckpoint>;
}

export function prepareRun(store: StateStore, opts: ResolvedPipelineOptions): PreparedRun {
  if (opts.resume === undefined) {
    const run = store.startRun({ runId: opts.runId, runType: opts.runType, settings: settingsSnapshot(opts) });
    return { run, chunkSize: opts.chunkSize, maxChunkBytes: opts.maxChunkBytes, committed: new Map() };
  }
  const previous = store.getRun(opts.resume);
  if (previous.status === 'completed') {
    throw new InvalidOptionError(`Run ${opts.resume} already completed; there is nothing to resume`);
  }
  if (previous.status === 'running' && !isStale(previous)) {
    throw new InvalidOptionError(
      `Run ${opts.resume} is still running (pid ${previous.ownerPid ?? '?'} on ${previous.ownerHost ?? '?'}); resume it once that process has stopped`,
    );
  }
  // The chunk boundaries must match the original run's, so its chunk bounds
  // win (a run from before byte bounds had none).
  const { settings } = previous;
  const chunkSize = typeof settings.chunkSize === 'number' ? settings.chunkSize : opts.chunkSize;
  const maxChunkBytes = typeof settings.maxChunkBytes === 'number' ? settings.maxChunkBytes : Number.POSITIVE_INFINITY;
  const committed = new Map(store.listChunks(opts.resume).map((c) => [c.chunkIndex, c]));
  return { run: store.reopenRun(opts.resume), chunkSize, maxChunkBytes, committed };
}

function settingsSnapshot(opts: ResolvedPipelineOptions): Record<string, unknown> {
  return {
    chunkSize: opts.chunkSize, maxChunkBytes: opts.maxChunkBytes, workers: opts.workers, maxInFlight: opts.maxInFlight, synchronous: opts.synchronous,
    maxRejects: Number.isFinite(opts.maxRejects) ? opts.maxRejects : null, maxLineBytes: opts.maxLineBytes,
    input: typeof opts.input === 'string' ? opts.input : null,
  };
}
