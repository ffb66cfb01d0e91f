/**
 * The seam between a worker and its database: what committing one chunk
 * needs, and nothing else. `SqliteChunkBackend` implements it on a worker's
 * own better-sqlite3 connection; a server backend (PostgreSQL: COPY the rows
 * into a staging table, merge them with one statement, write the checkpoint,
 * all in one transaction) implements the same three calls.
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

/** One chunk's writes: its items in line order, its rejects and its blank-line count. */
export interface ChunkCommit {
  readonly runId: string;
  readonly meta: ChunkMeta;
  readonly entries: readonly (IntelRow | KeptLine)[];
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

export interface ChunkBackend {
  /** The chunk's checkpoint, if it already committed (a retry after a worker died past its commit). */
  committedChunk(runId: string, chunkIndex: number): ChunkCheckpoint | undefined;
  /** Line hashes of the stored rows among `itemIds`, read outside any write transaction. */
  storedLineHashes(itemIds: readonly string[]): ReadonlyMap<string, string>;
  /**
   * Writes the chunk's items (in line order: the last line of an item wins),
   * its rejects and its checkpoint in one transaction: all of it, or none.
   * Throws a busy error while another connection holds the write lock.
   */
  commitChunk(chunk: ChunkCommit): ChunkCommitResult;
  close(): void;
}

export function isKept<R extends object>(entry: R | KeptLine): entry is KeptLine {
  return (entry as Partial<KeptLine>).kept === true;
}
