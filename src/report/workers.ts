/** Where one worker thread's time went, in milliseconds, from the run's telemetry. */
export interface WorkerRow {
  /** `thread-1`, as the telemetry names it. */
  label: string;
  chunks: number;
  lines: number;
  parseMs: number;
  /** Waiting for the chunk's place in input order, and (SQLite) for the write lock. */
  waitMs: number;
  /** Writing and committing: holding the write lock (SQLite), the transaction (PostgreSQL). */
  writeMs: number;
}

/**
 * One row per worker thread of the process that recorded the run's end (its
 * telemetry; a resumed run's earlier attempts, and the other processes of a
 * joined run, wrote theirs before it and are not in it).
 */
export function workerRows(telemetry: Record<string, unknown> | undefined): WorkerRow[] {
  const workers = telemetry?.workers;
  if (workers === null || typeof workers !== 'object') return [];
  return Object.entries(workers as Record<string, Record<string, unknown> | null>).map(([label, w]) => ({
    label, chunks: num(w?.chunks), lines: num(w?.lines), parseMs: num(w?.parseMs), waitMs: num(w?.lockWaitMs), writeMs: num(w?.writeMs),
  }));
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
