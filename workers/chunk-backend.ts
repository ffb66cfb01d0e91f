/**
 * The seam between the one `ChunkIngester` and a database, asynchronous so
 * that both backends fit it: SQLite's synchronous connection and commit
 * turns (`sqlite-backend.ts`) and PostgreSQL's connection, order wait and
 * COPY (`pg-backend.ts`). A backend stages each parsed row as the ingester
 * hands it over, waits for the chunk's place in input order, and commits
 * the chunk's rows, kept lines, rejects and checkpoint in one transaction.
 */
import type { IntelRow, Reject } from '../src/domain/types';
import type { SerializedError } from '../src/errors';
import type { ChunkTask } from '../src/protocol/messages';
import type { KeptLine } from '../src/store/chunk-backend';

export type { KeptLine };

/** One line of the chunk: its number and its bytes (a view into the chunk). */
export interface ChunkLine {
  readonly lineNo: number;
  readonly bytes: Uint8Array;
}

/** What a chunk keeps of a staged row until its commit (the row itself is with the backend). */
export interface Staged {
  readonly itemId: string;
}

/** Stages one parsed row; a reject instead when this backend cannot store it. */
export type StageRow<E extends Staged> = (row: IntelRow, line: ChunkLine) => E | Reject;

/** A committed chunk's counts. */
export interface ChunkCounts {
  blankLines: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

/**
 * `committed`: in, with when its commit began holding the write lock
 * (`performance.now()`); `already`: the chunk was done before (nothing
 * written); `stale`: nothing written, these kept lines no longer match the
 * stored rows: the ingester parses them and commits again; `stopped`: the
 * run stopped while the commit waited for the database.
 */
export type CommitOutcome =
  | { readonly committed: ChunkCounts; readonly lockedAt: number; readonly conflicts: number }
  | { readonly already: true; readonly conflicts: number }
  | { readonly stale: readonly KeptLine[]; readonly conflicts: number }
  | { readonly stopped: true };

/** What a worker replies for an error a backend recognises as its own. */
export interface ErrorReply {
  error: SerializedError;
  /** The server is away: the scheduler tries the chunk again, with back-off. */
  transient?: boolean;
  /** The connection is unusable: the next task opens a new one. */
  reconnect?: boolean;
}

export interface ChunkBackend<E extends Staged = Staged> {
  /** The chunk's counts if it already committed (a retry after a worker died past its commit). */
  committedChunk(task: ChunkTask): Promise<ChunkCounts | undefined>;
  /** Line hashes of the stored rows among `itemIds`, read outside any write transaction; undefined: the run stopped meanwhile. */
  storedLineHashes(itemIds: readonly string[], task: ChunkTask): Promise<ReadonlyMap<string, string> | undefined>;
  /** Starts the chunk's stage (a failed chunk may have left one), knowing its lines. */
  beginChunk(task: ChunkTask, lines: readonly ChunkLine[]): void;
  /** Stages rows: `fn` hands each to `put`, outside any write transaction. */
  stage<T>(fn: (put: StageRow<E>) => T): T;
  /** Waits until the chunk may commit: `go`, `aborted` (the run stopped at or before it), `deferred` (try again later). */
  awaitOrder(task: ChunkTask, entries: readonly (E | KeptLine)[]): Promise<'go' | 'aborted' | 'deferred'>;
  /**
   * Writes the staged rows (in line order: the last line of an item wins),
   * counts the kept lines unchanged while their stored rows are still their
   * lines', and writes the rejects and the checkpoint, in one transaction.
   */
  commitChunk(task: ChunkTask, entries: readonly (E | KeptLine)[], rejects: readonly Reject[], blankLines: number): Promise<CommitOutcome>;
  /** After the chunk committed (`counts`) or was found done (undefined): later chunks may go. */
  settle(task: ChunkTask, counts: ChunkCounts | undefined): void;
  /** The reply for an error this backend recognises (a database error, final for this chunk, or a lost server); undefined: a bug, rethrown. */
  errorReply(err: unknown, task: ChunkTask): ErrorReply | undefined;
  close(): Promise<void>;
}

/** Opening a connection failed because the server is away: the scheduler tries again, with back-off. */
export class TransientOpenError extends Error {
  constructor(readonly reply: ErrorReply) {
    super(reply.error.message);
  }
}
