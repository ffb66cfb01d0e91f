/**
 * The messages between the scheduler (main thread) and the ingest workers.
 * Both sides import this module and `turns.ts`, nothing else of each other;
 * the pool loads the worker from its compiled file path.
 */
import type { AppConfig } from '../config';
import type { SerializedError } from '../errors';
import type { ChunkMeta, Synchronous } from '../store/types';

/** `workerData` of every worker thread: what it needs to open its own connection once. */
export interface WorkerInit {
  dbPath: string;
  synchronous: Synchronous;
  busyTimeoutMs: number;
  maxBusyWaitMs: number;
  maxLineBytes: number;
  /** Parse every line: no skipping of lines identical to the stored rows' (`RunPipelineOptions.parseAll`). */
  parseAll: boolean;
  /** Past this many rejected lines, no later chunk commits (checked while holding the turn). */
  maxRejects: number;
  config: AppConfig;
  /** The `CommitTurns` buffer shared by every thread of the run. */
  turns: SharedArrayBuffer;
}

/** One chunk of raw NDJSON lines; `bytes.buffer` is transferred, not copied. */
export interface ChunkTask {
  runId: string;
  meta: ChunkMeta;
  /** Position in the commit order (dispatch ordinal, skipping resumed chunks). */
  turn: number;
  attempt: number;
  bytes: Uint8Array;
}

export interface ChunkStats {
  chunkIndex: number;
  /** `committed`: this task committed it; `already`: a checkpoint existed (retry after a late crash); `aborted`: gave up waiting its turn. */
  outcome: 'committed' | 'already' | 'aborted';
  lineCount: number;
  blankLines: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  threadId: number;
  /** Splitting, hashing, looking up and parsing, before the chunk's turn. */
  parseMs: number;
  /** Waiting for the chunk's turn plus waiting for the SQLite write lock. */
  lockWaitMs: number;
  /** Holding the write lock. */
  writeMs: number;
}

/** `bytes`: the task's buffer, transferred back for reuse (absent if it could not be). */
export type ChunkReply = ({ ok: true; stats: ChunkStats } | { ok: false; error: SerializedError }) & { bytes?: Uint8Array };
