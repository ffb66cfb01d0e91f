import type { ResourceLimits } from 'node:worker_threads';
import type { AppConfig } from '../config';
import type { BrandOrchestratorError } from '../errors';
import type { LineCounts, RunStatus, Synchronous } from '../store/types';

/**
 * What to ingest: a file path or `file:` URL, the whole feed's bytes (`Uint8Array` / `Buffer`), a Node Readable
 * of bytes (e.g. `process.stdin`), or an (async) iterable of raw byte chunks
 * (`Uint8Array`), of lines (`string`), or of item objects (serialised with
 * `JSON.stringify`, one per line). An object-mode Readable
 * (`Readable.from([...])`) is read like such an iterable.
 * Bytes that start with the gzip magic are decompressed, whatever their source.
 */
export type PipelineInput =
  | string
  | URL
  | Uint8Array
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
  /**
   * The database: a `postgres://` (or `postgresql://`) URL, or a SQLite file
   * path or `file:` URL (then used as `dbPath`). Give it or `dbPath`, not
   * both. Any other URL scheme is `ERR_INVALID_OPTION`: a URL is never taken
   * as a file name.
   *
   * @example
   * await runPipeline({ input: 'feed.ndjson', db: 'postgres://ingest@db.internal/intel' });
   * @defaultValue `dbPath`
   */
  db?: string;
  /** The SQLite file (a path or `file:` URL; a postgres URL belongs in `db`). @defaultValue `config.dbPath` */
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
  /**
   * PostgreSQL only: join the run `runId` (every process of a shared run
   * gives the same id and the same file), or start it if no process has.
   * Joining a failed or cancelled run resumes it. @defaultValue false
   */
  join?: boolean;
  /**
   * PostgreSQL only: how long a claimed chunk stays claimed without a
   * renewal (renewed every third of it); a dead process's chunks are claimed
   * again after it. @defaultValue 30000
   */
  leaseMs?: number;
  /**
   * PostgreSQL: how long a lost connection or a server that is restarting or
   * out of reach is retried, with capped exponential back-off (0.1 s up to
   * 5 s between tries), before the run gives up with the first cause; the
   * run can then be resumed.
   * @defaultValue 60000
   */
  maxOutageMs?: number;
  /** Worker threads, 1 to 64. @defaultValue `os.availableParallelism()`, at most 4 */
  workers?: number;
  /** Lines per chunk (one transaction each). @defaultValue 2500 */
  chunkSize?: number;
  /**
   * Bytes per chunk (SQLite: 16 MiB by default; PostgreSQL: 4 MiB, and
   * chunks are planned by bytes alone). On SQLite a chunk ends at the first line end past this many
   * bytes, even before `chunkSize` lines, so a feed of long lines is read in
   * chunks of bounded memory. @defaultValue 16777216 (16 MiB)
   */
  maxChunkBytes?: number;
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
  /**
   * Fail the run (`ERR_TOO_MANY_REJECTS`) when more than this share (0 to 1)
   * of its non-blank lines were rejected: a feed in the wrong format must not
   * look like a good night. Checked once every line is committed (the valid
   * lines are kept); a resume counts the whole run. `'none'` disables it.
   * @defaultValue 0.5
   */
  maxRejectRatio?: number | 'none';
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
  /**
   * Stops reading and dispatching; chunks already with a worker commit; the run
   * is recorded `cancelled` (with `signal.reason` in its notes) and the call
   * rejects with a `CancelledError` (`name` `'AbortError'`, code
   * `ERR_CANCELLED`) carrying the summary. A signal aborted before the call
   * rejects at once, without starting a run.
   */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** @defaultValue 500 */
  progressIntervalMs?: number;
  /**
   * Limits for each worker thread (a worker that exceeds them is replaced and its chunk retried).
   * @defaultValue `{ maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 16 }`
   */
  workerResourceLimits?: ResourceLimits;
}

/** A run's outcome; `linesRead = blankLines + inserted + updated + unchanged + rejected`. */
export interface RunSummary extends LineCounts {
  runId: string;
  status: RunStatus;
  chunks: number;
  /**
   * How long this call worked on the run, from the moment its run was started
   * or reopened to its end. Only this process's part: the time before a
   * resume, and other processes of a shared PostgreSQL run, are not in it
   * (see `workingMs`).
   */
  durationMs: number;
  /**
   * The run's working time: from its start to its end (or now, when its end
   * could not be recorded), less the time it sat interrupted between an
   * interruption (a crash, a failure, a cancel) and the resume that took it
   * over. Every attempt counts, and so does every process of a shared run.
   */
  workingMs: number;
  /** The run's elapsed time: from its start to its end (or now), interruptions included. */
  elapsedMs: number;
  /** The run's non-blank lines (every attempt's, every process's) per second of `workingMs`. */
  itemsPerSecond: number;
  workers: number;
  /** SQLite: lines per chunk. Absent on PostgreSQL, where chunks are planned by bytes (`chunkBytes`). */
  chunkSize?: number;
  /** PostgreSQL: bytes per planned chunk. */
  chunkBytes?: number;
  /** Chunks skipped because a resumed run had committed them. */
  resumedChunks: number;
  /**
   * Present when something went wrong after the chunks were committed: the
   * final WAL checkpoint failed, or the run's end could not be recorded (then
   * `status` is what the database still says, `running`).
   */
  warnings?: string[];
}

/** Thrown when a run fails; `summary` holds what was committed before it stopped. */
export type PipelineFailure = BrandOrchestratorError & { summary?: RunSummary };

// The errors module imports nothing of the project: the run's summary is added to its error types here.
declare module '../errors' {
  interface BrandOrchestratorError {
    /**
     * What the run had committed when it stopped (its `status` says how it
     * ended; resume it with `resume: summary.runId`). Present on every
     * failure of a run that started; absent on a setup error (no run exists).
     */
    readonly summary?: RunSummary;
  }
  /** Only a started run fails so: `summary` is always there (status `failed`). */
  interface WorkerError {
    readonly summary: RunSummary;
  }
  /** Only a started run fails so: `summary` is always there (status `failed`). */
  interface TooManyRejectsError {
    readonly summary: RunSummary;
  }
}
