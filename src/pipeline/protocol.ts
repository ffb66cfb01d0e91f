/**
 * The messages between the scheduler (main thread) and the ingest workers.
 * Both sides import only this module's types; the worker is loaded by the
 * pool from its compiled file path.
 */
import type { AppConfig } from '../config';
import type { SerializedError } from '../errors';
import type { ChunkMeta, Synchronous } from '../store/types';

/** Slots of the shared Int32Array that orders chunk commits. */
export const TURN_NEXT = 0; // dispatch ordinal of the chunk allowed to commit next
export const TURN_ABORT = 1; // 0, or 1 + the first turn that must not commit (it and later ones give up)
export const TURN_REJECTED = 2; // lines rejected by the committed chunks so far
export const TURN_SLOTS = 3;

/** Test-only fault injection (see `RunPipelineOptions.faultInjection`). */
export interface FaultInjection {
  chunkIndex: number;
  /** `throw`: before the transaction; `throw-in-transaction`: after its writes, before COMMIT; `exit`: the thread exits; `oom`: exceeds `resourceLimits`; `disk-full`: the connection may not grow the file (SQLITE_FULL). */
  kind: 'throw' | 'throw-in-transaction' | 'exit' | 'oom' | 'disk-full';
  /** Attempts (1-based) up to this one fail. @defaultValue 1 */
  failAttempts?: number;
}

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
  turns: SharedArrayBuffer;
  faults?: readonly FaultInjection[];
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
  parseMs: number;
  /** Waiting for the chunk's turn plus waiting for the SQLite write lock. */
  lockWaitMs: number;
  writeMs: number;
}

/** `bytes`: the task's buffer, transferred back for reuse (absent if it could not be). */
export type ChunkReply = ({ ok: true; stats: ChunkStats } | { ok: false; error: SerializedError }) & { bytes?: Uint8Array };
