import type { Decision } from '../domain/types';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';
/** @internal */
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'cancelled'];

export type Synchronous = 'NORMAL' | 'FULL';

export interface StoreOptions {
  /** How long one statement waits for a lock before `SQLITE_BUSY`. @defaultValue 5000 */
  busyTimeoutMs?: number;
  /** @defaultValue `'NORMAL'` (WAL makes it crash-safe; FULL also survives power loss) */
  synchronous?: Synchronous;
  /** Open read-only: no folders or schema are created. @defaultValue false */
  readonly?: boolean;
}

/** Line counters of a run or a chunk. They always reconcile: linesRead = blankLines + inserted + updated + unchanged + rejected. */
export interface LineCounts {
  linesRead: number;
  blankLines: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface RunRecord extends LineCounts {
  runId: string;
  runType: string;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  settings: Record<string, unknown>;
  notes: string | null;
  chunks: number;
  heartbeatAt: string | null;
  ownerPid: number | null;
  ownerHost: string | null;
  /** Drawn by the process that started or last resumed the run (null before schema v4). */
  ownerToken: string | null;
  /**
   * How long the run sat interrupted, summed over its resumes: each resume
   * that takes over a failed, cancelled or stale run adds the time since its
   * last sign of life (the later of its heartbeat and its end). 0 for a run
   * never resumed, and for resumes before SQLite schema v5 / PostgreSQL v4.
   * Working time: see `runTimes`.
   */
  interruptedMs: number;
}

/** What `StateStore#startRun` takes. */
export interface StartRunInput {
  /** Generated (a UUID) when absent. */
  runId?: string;
  runType: string;
  settings?: Record<string, unknown>;
  /**
   * The starting process's claim on the run (see run-owner.ts): its
   * heartbeat and end are then written only while the row still holds it.
   * @internal
   */
  ownerToken?: string;
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** A stored intel item, JSON columns parsed. */
export interface IntelItem {
  itemId: string;
  runId: string;
  itemType: string;
  title: string;
  summary: string;
  claims: unknown[];
  evidence: unknown[];
  scores: Record<string, number> | null;
  riskFlags: string[];
  explainability: string[];
  trendScore: number | null;
  decision: Decision | null;
  decisionReason: string | null;
  contentHash: string;
  createdAt: string;
  updatedAt: string;
}

/** Where a chunk sits in the input; deterministic for a given input and chunk size. */
export interface ChunkMeta {
  chunkIndex: number;
  firstLineNo: number;
  lineCount: number;
  byteStart: number;
  byteEnd: number;
  checksum: string;
}

export interface ChunkCheckpoint extends ChunkMeta, Omit<LineCounts, 'linesRead'> {
  committedAt: string;
}

export interface RejectRecord {
  lineNo: number;
  code: string;
  reason: string;
  excerpt: string;
}

/**
 * Where a line is in the input: the `line`-th line (from 1) of those that
 * start at byte `fromByte`, itself a line start. SQLite counts from the
 * start of the input (`fromByte` 0); PostgreSQL from its chunk's start, since
 * a chunk's line number is unknown until every chunk before it is done.
 */
export interface LinePosition {
  fromByte: number;
  line: number;
}
