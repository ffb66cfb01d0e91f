import { Piscina } from 'piscina';
import { resolve } from 'node:path';
import type { ResourceLimits } from 'node:worker_threads';
import type { WorkerInit } from '../protocol/messages';

/**
 * The compiled worker file. piscina cannot load TypeScript, so even when this
 * module runs from source (ts-jest) the pool loads `dist/workers/*.js`.
 */
export function workerFile(name = 'ingest-worker'): string {
  return __filename.endsWith('.ts')
    ? resolve(__dirname, `../../dist/workers/${name}.js`)
    : resolve(__dirname, `../../workers/${name}.js`);
}

export function createPool(
  filename: string, workers: number, init: WorkerInit, resourceLimits: ResourceLimits | undefined, onError: (err: Error) => void,
): Piscina {
  const pool = new Piscina({
    filename,
    minThreads: workers,
    maxThreads: workers,
    // One chunk per thread: a thread's connection does one transaction at a time.
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    workerData: init,
    ...(resourceLimits ? { resourceLimits } : {}),
  });
  // Errors not tied to a task (e.g. a worker failing to start) would otherwise crash the process.
  pool.on('error', onError);
  return pool;
}
