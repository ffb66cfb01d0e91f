/**
 * The messages between a PostgreSQL run's scheduler and its workers
 * (`workers/pg-ingest-worker.ts`). No commit turns: workers commit in any
 * order, and the rows' positions keep the last line winning.
 */
import type { AppConfig } from '../config';
import type { SerializedError } from '../errors';
import type { ChunkStats } from './messages';

export interface PgWorkerInit {
  url: string;
  /** The URL without its password, for messages. */
  label: string;
  maxLineBytes: number;
  parseAll: boolean;
  config: AppConfig;
  /** How long a chunk waits for an earlier chunk that may deliver the same items before it is handed back. */
  orderWaitMs: number;
  /** The run's chunk lease, which bounds the worker's session (an idle transaction ends after it). */
  leaseMs: number;
}

/** One planned chunk; `bytes.buffer` is transferred. */
export interface PgChunkTask {
  runId: string;
  /** The run's place in run order: the first half of every row's position. */
  runSeq: number;
  chunkIndex: number;
  byteStart: number;
  byteEnd: number;
  lineCount: number;
  checksum: string;
  attempt: number;
  bytes: Uint8Array;
}

/** As `ChunkStats`, but no turn to wait for: no `lockWaitMs`, no `aborted`. */
export interface PgChunkStats extends Pick<ChunkStats, 'chunkIndex' | 'lineCount' | 'blankLines' | 'inserted' | 'updated' | 'unchanged' | 'rejected' | 'threadId' | 'parseMs'> {
  /**
   * `committed`: this task committed it; `already`: it was done (by another process, or before a retry);
   * `deferred`: an earlier chunk that may deliver the same items was not done in time: nothing was written.
   */
  outcome: 'committed' | 'already' | 'deferred';
  /** The transaction, from BEGIN to COMMIT (row locks waited for included). */
  writeMs: number;
  /** Transactions rolled back by a deadlock, a serialization failure or a race, and run again. */
  conflicts: number;
}

/** `transient`: the connection was lost or the server could not be reached; the chunk rolled back and may run again later. */
export type PgChunkReply = { ok: true; stats: PgChunkStats } | { ok: false; error: SerializedError; transient?: boolean };
