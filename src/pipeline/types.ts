import type { ResourceLimits } from 'node:worker_threads';
import type { AppConfig } from '../config';
import type { LineCounts, RunStatus, Synchronous } from '../store/types';
import type { FaultInjection } from './protocol';

/**
 * What to ingest: a file path (gzip detected by its magic bytes), a Node
 * Readable (e.g. `process.stdin`), or an (async) iterable of raw byte chunks
 * (`Uint8Array`), of lines (`string`), or of item objects (serialised with
 * `JSON.stringify`, one per line).
 */
export type PipelineInput =
  | string
  | NodeJS.ReadableStream
  | AsyncIterable<Uint8Array | string | object>
  | Iterable<Uint8Array | string | object>;

/** Counts so far (they reconcile, see {@link LineCounts}) and throughput. */
export interface ProgressEvent extends LineCounts {
  chunksDone: number;
  /** Input bytes of the committed chunks. */
  bytesDone: number;
  /** Size of the input file when known (plain files only), for an ETA. */
  totalBytes: number | undefined;
  elapsedMs: number;
  /** Non-blank lines handled per second since the start. */
  itemsPerSecond: number;
}

export interface RunPipelineOptions {
  input: PipelineInput;
  /** @defaultValue `config.dbPath` */
  dbPath?: string;
  /** @defaultValue `loadConfig()` */
  config?: AppConfig;
  /** @defaultValue a generated UUID */
  runId?: string;
  /** @defaultValue `'batch'` */
  runType?: string;
  /** Resume this run: skip its committed chunks, process the rest, finish it. */
  resume?: string;
  /**
   * With `resume`: take the run over even if its owner looks alive (it holds
   * the run's lock, or its heartbeat is fresh). Only for an owner you know
   * has stopped; a live one stops at its next heartbeat (`ERR_RUN_TAKEN_OVER`).
   * @defaultValue false
   */
  force?: boolean;
  /** Worker threads, 1 to 64. @defaultValue `os.availableParallelism()` */
  workers?: number;
  /** Lines per chunk (one transaction each). @defaultValue 10000 */
  chunkSize?: number;
  /**
   * Chunks handed to the pool at once (running or queued for a worker). The
   * scheduler also holds the next chunk, built and waiting for a slot, so a
   * worker that finishes finds work at once. @defaultValue `workers`
   */
  maxInFlight?: number;
  /** @defaultValue `'NORMAL'` */
  synchronous?: Synchronous;
  /** Fail the run once more than this many lines were rejected. @defaultValue unlimited */
  maxRejects?: number;
  /** @defaultValue 1048576 (1 MiB) */
  maxLineBytes?: number;
  /**
   * Parse every line, even one identical to the line behind its stored row
   * (which is otherwise counted `unchanged` unparsed). For after a parser change
   * that did not bump `PARSER_VERSION`, or rows edited by hand. @defaultValue false
   */
  parseAll?: boolean;
  /** Per-statement SQLite busy timeout. @defaultValue 5000 */
  busyTimeoutMs?: number;
  /** Longest a chunk waits for the write lock (with backoff) before the run fails with `ERR_DB_BUSY`. @defaultValue 30000 */
  maxBusyWaitMs?: number;
  /** Attempts per chunk when a worker throws or dies. @defaultValue 3 */
  maxAttempts?: number;
  /** Stops dispatching; in-flight chunks finish; resolves with status `cancelled`. */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** @defaultValue 500 */
  progressIntervalMs?: number;
  /**
   * Limits for each worker thread (a worker that exceeds them is replaced and its chunk retried).
   * @defaultValue `{ maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 16 }`
   */
  workerResourceLimits?: ResourceLimits;
  /** @internal Test-only fault injection. */
  faultInjection?: FaultInjection | readonly FaultInjection[];
}

/** A run's outcome; `linesRead = blankLines + inserted + updated + unchanged + rejected`. */
export interface RunSummary extends LineCounts {
  runId: string;
  status: RunStatus;
  chunks: number;
  durationMs: number;
  itemsPerSecond: number;
  workers: number;
  chunkSize: number;
  /** Chunks skipped because a resumed run had committed them. */
  resumedChunks: number;
  /**
   * Present when something went wrong after the chunks were committed: the
   * final WAL checkpoint failed, or the run's end could not be recorded (then
   * `status` is what the database still says, `running`).
   */
  warnings?: string[];
}
