import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestWith } from '../../src/pipeline/run-pipeline';
import type { RunPipelineOptions, RunSummary } from '../../src/pipeline';

/** A fault the fixture worker (fixtures/faulty-worker.js) injects into one chunk. */
export interface Fault {
  chunkIndex: number;
  kind: 'throw' | 'throw-in-transaction' | 'exit' | 'oom' | 'disk-full';
  /** Attempts (1-based) up to this one fail. @defaultValue 1 */
  failAttempts?: number;
}

const FIXTURE = join(__dirname, '..', 'fixtures', 'faulty-worker.js');

/**
 * `runPipeline` on a pool of fixture workers that inject `faultInjection`;
 * the faults reach the workers in a file beside the database.
 */
export async function runWithFaults(options: RunPipelineOptions & { dbPath: string; faultInjection: Fault | Fault[] }): Promise<RunSummary> {
  const { faultInjection, ...opts } = options;
  const file = `${opts.dbPath}.faults.json`;
  writeFileSync(file, JSON.stringify(([] as Fault[]).concat(faultInjection)));
  try {
    return await ingestWith(opts, FIXTURE);
  } finally {
    rmSync(file, { force: true });
  }
}
