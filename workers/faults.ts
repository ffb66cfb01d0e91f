/**
 * Test-only fault injection, driven by `RunPipelineOptions.faultInjection`.
 * Never active unless a caller asks for it.
 */
import type { ChunkTask, FaultInjection } from '../src/pipeline/protocol';
import type { StateStore } from '../src/store';

const hog: unknown[] = [];

export function injectFault(faults: readonly FaultInjection[] | undefined, task: ChunkTask, where: 'before-parse' | 'in-transaction', store: StateStore): void {
  for (const f of faults ?? []) {
    if (f.chunkIndex === task.meta.chunkIndex && task.attempt <= (f.failAttempts ?? 1)) inject(f, where, store);
  }
}

function inject(f: FaultInjection, where: 'before-parse' | 'in-transaction', store: StateStore): void {
  if (where === 'in-transaction') {
    if (f.kind === 'throw-in-transaction') throw new Error(`injected fault inside the transaction of chunk ${f.chunkIndex}`);
    return;
  }
  switch (f.kind) {
    case 'throw':
      throw new Error(`injected fault in chunk ${f.chunkIndex}`);
    case 'disk-full':
      // From here on this connection cannot grow the file: like a full disk.
      store.capPages(store.pageCount());
      break;
    case 'exit':
      process.exit(3);
      break;
    case 'oom':
      // Grow until the worker's resourceLimits end the thread.
      for (;;) hog.push(new Array(1_000_000).fill(hog.length));
    default:
      break;
  }
}
