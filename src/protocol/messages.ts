/**
 * The messages between a run's scheduler (main thread) and its ingest
 * workers, for either backend: one worker entry (`workers/ingest-worker.ts`)
 * reads `WorkerInit.backend` and opens its own connection. Both sides import
 * this module and `turns.ts`, nothing else of each other; the pool loads the
 * worker from its compiled file path.
 */
import type { AppConfig } from '../config';
import type { SerializedError } from '../errors';
import type { ChunkMeta, Synchronous } from '../store/types';

interface CommonInit {
  maxLineBytes: number;
  /** Parse every line: no skipping of lines identical to the stored rows' (`RunPipelineOptions.parseAll`). */
  parseAll: boolean;
  config: AppConfig;
}

/** `workerData` of a SQLite run's threads: what each needs to open its own connection once. */
export interface SqliteWorkerInit extends CommonInit {
  backend: 'sqlite';
  dbPath: string;
  synchronous: Synchronous;
  busyTimeoutMs: number;
  maxBusyWaitMs: number;
  /** Past this many rejected lines, no later chunk commits (checked while holding the turn). */
  maxRejects: number;
  /** The `CommitTurns` buffer shared by every thread of the run. */
  turns: SharedArrayBuffer;
}

/** `workerData` of a PostgreSQL run's threads. */
export interface PgWorkerInit extends CommonInit {
  backend: 'postgres';
  url: string;
  /** The URL without its password, for messages. */
  label: string;
  /** How long a chunk waits for an earlier chunk that may deliver the same items before it is handed back. */
  orderWaitMs: number;
  /** The run's chunk lease, which bounds the worker's session (an idle transaction ends after it). */
  leaseMs: number;
}

export type WorkerInit = SqliteWorkerInit | PgWorkerInit;

/** One chunk of raw NDJSON lines; `bytes.buffer` is transferred, not copied. */
export interface ChunkTask {
  runId: string;
  /**
   * Where the chunk lies. A PostgreSQL run plans its chunks by bytes, so a
   * process does not know a chunk's first line number: its lines are
   * numbered from 1 within the chunk (`firstLineNo: 1`), and the store adds
   * the chunk's place.
   */
  meta: ChunkMeta;
  attempt: number;
  bytes: Uint8Array;
  /** SQLite: the chunk's position in the commit order (dispatch ordinal, skipping resumed chunks). */
  turn?: number;
  /** PostgreSQL: the run's place in run order, the first half of every row's position. */
  runSeq?: number;
}

export interface ChunkStats {
  chunkIndex: number;
  /**
   * `committed`: this task committed it; `already`: it was done (a retry
   * after a late crash, or another process did it); `aborted`: the run
   * stopped at or before this chunk; `taken`: found done at its commit (by
   * another process of a shared run, or a try this one cannot see): nothing
   * of it is counted here; `deferred`: an earlier chunk that may
   * deliver the same items was not done in time (PostgreSQL): nothing was
   * written, the scheduler tries it again later.
   */
  outcome: 'committed' | 'already' | 'taken' | 'aborted' | 'deferred';
  lineCount: number;
  blankLines: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  threadId: number;
  /** Splitting, hashing, looking up and parsing, before the chunk's place in input order. */
  parseMs: number;
  /** Waiting for the chunk's place in input order, plus (SQLite) for the write lock. */
  lockWaitMs: number;
  /** The commit: holding the write lock (SQLite), the transaction with its row-lock waits (PostgreSQL). */
  writeMs: number;
  /** Transactions rolled back by a deadlock, a serialization failure or a race, and run again (PostgreSQL). */
  conflicts: number;
}

/**
 * `transient`: the connection was lost or the server could not be reached;
 * the chunk rolled back and may run again later. `bytes`: the task's
 * buffer, transferred back for reuse (absent if it could not be).
 */
export type ChunkReply = ({ ok: true; stats: ChunkStats } | { ok: false; error: SerializedError; transient?: boolean }) & { bytes?: Uint8Array };
