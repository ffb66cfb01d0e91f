/**
 * The one place that picks the backend for a run: a postgres:// target runs
 * as a shared run (`pg/shared-run.ts`), anything else as a local SQLite run
 * (`sqlite/local-run.ts`); both run on the one scheduler
 * (`pipeline/scheduler.ts`) and the one worker entry.
 */
import { throwIfAborted } from '../pipeline/cancel';
import { resolvePipelineOptions } from '../pipeline/options';
import { workerFile } from '../pipeline/pool';
import type { RunPipelineOptions, RunSummary } from '../pipeline/types';
import { runLocal } from '../sqlite/local-run';

/**
 * Ingests an NDJSON feed with a pool of worker threads, one transaction per
 * chunk of lines, into SQLite or PostgreSQL. Resolves with the run's summary
 * when it completes; rejects (with `summary` attached) when it fails, and
 * with a `CancelledError` (named `AbortError`, with `summary`) when `signal`
 * stops it.
 *
 * @example
 * const summary = await runPipeline({ input: 'feed.ndjson', dbPath: './data/bo.sqlite', workers: 2 });
 * console.log(summary.inserted, summary.itemsPerSecond);
 */
export function runPipeline(options: RunPipelineOptions): Promise<RunSummary> {
  return ingestWith(options, workerFile());
}

/**
 * {@link runPipeline} with the pool loading `workerFilename` (tests pass a
 * fixture worker that injects faults). Not exported from the package root.
 * @internal
 */
export async function ingestWith(options: RunPipelineOptions, workerFilename: string): Promise<RunSummary> {
  const opts = resolvePipelineOptions(options);
  throwIfAborted(opts.signal);
  if (opts.db.kind === 'postgres') {
    // Loaded only for a postgres:// target: SQLite users never load `pg`.
    // `.js`: under module nodenext a CommonJS file keeps `import()` native, and Node's ESM resolver wants the extension.
    const { runShared } = await import('../pg/shared-run.js');
    return runShared(opts, workerFilename);
  }
  return runLocal(opts, workerFilename);
}
