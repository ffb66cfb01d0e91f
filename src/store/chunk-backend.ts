/**
 * What committing one chunk needs of a SQLite connection, synchronous, and
 * the kept lines both backends share. `SqliteChunkBackend` implements it on
 * a worker's own better-sqlite3 connection: the rows are staged as they are
 * parsed, in the connection's TEMP table, and the commit merges them with
 * one statement, writes the rejects and the checkpoint, all in one
 * transaction. The workers reach it through the asynchronous seam both
 * backends implement (`workers/chunk-backend.ts`).
 */
import type { IntelRow, Reject } from '../domain/types';
import type { ChunkCheckpoint, ChunkMeta } from './types';

/**
 * A line left unparsed because it hashed like the line behind the stored row
 * of its item (see `lineHash`): it is `unchanged`, if the stored row is still
 * that line's when the chunk commits.
 */
export interface KeptLine {
  readonly kept: true;
  readonly itemId: string;
  readonly lineHash: string;
  readonly lineNo: number;
}

/** Hands one parsed row of the chunk, with its line number, to the stage. */
export type StageRow = (row: IntelRow, lineNo: number) => void;

/** One chunk's writes besides its staged rows: its kept lines, its rejects and its blank-line count. */
export interface ChunkCommit {
  readonly runId: string;
  readonly meta: ChunkMeta;
  /** Lines left unparsed; none has an earlier line of its item in the chunk (see `buildEntries`). */
  readonly kept: readonly KeptLine[];
  readonly rejects: readonly Reject[];
  readonly blankLines: number;
}

/**
 * `committed`: the chunk's items, rejects and checkpoint are in, and
 * `lockedAt` (`performance.now()`) is when its write lock was granted.
 * `stale`: nothing was written, because these kept lines no longer match the
 * stored rows (an earlier line changed them since they were looked up): the
 * caller parses them and commits again.
 */
export type ChunkCommitResult =
  | { readonly committed: ChunkCheckpoint; readonly lockedAt: number }
  | { readonly stale: readonly KeptLine[] };

export interface SyncChunkBackend {
  /** The chunk's checkpoint, if it already committed (a retry after a worker died past its commit). */
  committedChunk(runId: string, chunkIndex: number): ChunkCheckpoint | undefined;
  /** Line hashes of the stored rows among `itemIds`, read outside any write transaction. */
  storedLineHashes(itemIds: readonly string[]): ReadonlyMap<string, string>;
  /** Empties the stage: call before staging a new chunk (a failed one may have left rows). */
  clearStage(): void;
  /**
   * Stages parsed rows, outside any write transaction: `fn` hands each to
   * `put`. Rows staged since the last `clearStage` are the next commit's.
   */
  stage<T>(fn: (put: StageRow) => T): T;
  /**
   * Writes the staged rows (in line order: the last line of an item wins),
   * counts the kept lines unchanged, and writes the rejects and the
   * checkpoint, in one transaction: all of it, or none. The stage is emptied
   * by a commit and kept by a failed or stale one. Throws a busy error while
   * another connection holds the write lock.
   */
  commitChunk(chunk: ChunkCommit): ChunkCommitResult;
  close(): void;
}

export function isKept<R extends object>(entry: R | KeptLine): entry is KeptLine {
  return (entry as Partial<KeptLine>).kept === true;
}
