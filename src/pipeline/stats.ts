import type { ChunkStats } from '../protocol/messages';
import { perSecond } from '../store/run-times';
import type { ProgressEvent } from './types';

interface WorkerTotals {
  chunks: number;
  lines: number;
  parseMs: number;
  lockWaitMs: number;
  writeMs: number;
}

/**
 * Per worker thread: chunks, lines and where their time went, summed from
 * the chunks' stats. The telemetry's `workers` (both backends), which the
 * run report charts.
 */
export class WorkerTimes {
  readonly #perWorker = new Map<number, WorkerTotals>();

  add(s: ChunkStats): void {
    const w = this.#perWorker.get(s.threadId) ?? { chunks: 0, lines: 0, parseMs: 0, lockWaitMs: 0, writeMs: 0 };
    w.chunks++;
    w.lines += s.lineCount;
    w.parseMs += s.parseMs;
    w.lockWaitMs += s.lockWaitMs;
    w.writeMs += s.writeMs;
    this.#perWorker.set(s.threadId, w);
  }

  values(): IterableIterator<WorkerTotals> {
    return this.#perWorker.values();
  }

  /** Keyed `thread-<id>`, milliseconds to a tenth. */
  toJSON(): Record<string, WorkerTotals> {
    const workers: Record<string, WorkerTotals> = {};
    for (const [id, w] of this.#perWorker) {
      workers[`thread-${id}`] = { ...w, parseMs: round(w.parseMs), lockWaitMs: round(w.lockWaitMs), writeMs: round(w.writeMs) };
    }
    return workers;
  }
}

/** Aggregates per-chunk stats from the workers into progress and telemetry. */
export class RunStats {
  linesRead = 0;
  blankLines = 0;
  inserted = 0;
  updated = 0;
  unchanged = 0;
  rejected = 0;
  chunksDone = 0;
  bytesDone = 0;
  retries = 0;
  /** Non-blank lines of the chunks this process handled: a resumed run's earlier chunks are not this process's work. */
  #handled = 0;
  readonly #started = performance.now();
  readonly #latencies: number[] = [];
  readonly #perWorker = new WorkerTimes();

  /** Counts of chunks a resumed run had already committed. */
  addCommitted(c: { lineCount: number; blankLines: number; inserted: number; updated: number; unchanged: number; rejected: number; byteStart: number; byteEnd: number }): void {
    this.linesRead += c.lineCount;
    this.blankLines += c.blankLines;
    this.inserted += c.inserted;
    this.updated += c.updated;
    this.unchanged += c.unchanged;
    this.rejected += c.rejected;
    this.chunksDone++;
    this.bytesDone += c.byteEnd - c.byteStart;
  }

  addChunk(s: ChunkStats, bytes: number, latencyMs: number): void {
    this.addCommitted({ ...s, byteStart: 0, byteEnd: bytes });
    this.#handled += s.lineCount - s.blankLines;
    this.#latencies.push(latencyMs);
    this.#perWorker.add(s);
  }

  get elapsedMs(): number {
    return performance.now() - this.#started;
  }

  get itemsPerSecond(): number {
    return this.itemsPerSecondOver(this.elapsedMs);
  }

  /** Non-blank lines this process handled per second over `ms` (progress and telemetry; a summary's rate is the run's, see run-pace.ts). */
  itemsPerSecondOver(ms: number): number {
    return perSecond(this.#handled, ms);
  }

  progress(totalBytes: number | undefined): ProgressEvent {
    return {
      linesRead: this.linesRead, blankLines: this.blankLines, inserted: this.inserted, updated: this.updated,
      unchanged: this.unchanged, rejected: this.rejected, chunksDone: this.chunksDone, bytesDone: this.bytesDone,
      totalBytes, elapsedMs: Math.round(this.elapsedMs), itemsPerSecond: Math.round(this.itemsPerSecond),
    };
  }

  /**
   * `poolUtilization`: the share of the pool's thread time (elapsed x
   * threads) spent parsing or writing chunks, 0-1; waiting for a chunk's turn
   * or for the write lock does not count. `writeLockShare`: the share of the
   * run during which one of them was writing (commits are serial, so at most
   * 1): how close the run came to being bound by SQLite alone. Both come from
   * the workers' own timings (piscina's `utilization` getter is not used: in
   * piscina 5.3 it returned 0.0008 for a pool busy ~60% of the time).
   */
  telemetry(threads: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const elapsed = this.elapsedMs;
    let busyMs = 0;
    let writeMs = 0;
    for (const w of this.#perWorker.values()) {
      busyMs += w.parseMs + w.writeMs;
      writeMs += w.writeMs;
    }
    const share = (ms: number, of: number) => (of > 0 ? Math.round((ms / of) * 1000) / 1000 : 0);
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const pct = (p: number) => (sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0));
    return {
      ...extra,
      workerThreads: threads,
      poolUtilization: share(busyMs, elapsed * threads),
      writeLockShare: share(writeMs, elapsed),
      elapsedMs: round(elapsed),
      itemsPerSecond: round(this.itemsPerSecond),
      retries: this.retries,
      chunkLatencyMs: { count: sorted.length, p50: pct(0.5), p95: pct(0.95), max: round(sorted[sorted.length - 1] ?? 0) },
      workers: this.#perWorker.toJSON(),
    };
  }
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
