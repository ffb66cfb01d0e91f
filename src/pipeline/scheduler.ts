/**
 * The one scheduler of a run, for either backend. It asks a {@link ChunkSource}
 * for chunks (the stream chunker of a local SQLite run; the leased claims of
 * a PostgreSQL run), hands each to the worker pool, retries a chunk whose
 * worker died and waits out a server that is away, stops on a failure or a
 * signal, reports progress, enforces `maxRejects` and `maxRejectRatio`, and
 * hands the run's end to its {@link RunRecorder} (heartbeat or lease renewal,
 * recording the end, the summary). Everything backend-specific is behind
 * those two interfaces.
 */
import pLimit from 'p-limit';
import type { Piscina } from 'piscina';
import { setTimeout as sleep } from 'node:timers/promises';
import { TooManyRejectsError, WorkerError, reviveError, toError } from '../errors';
import { CommitTurns } from '../protocol/turns';
import type { ChunkReply, ChunkTask, WorkerInit } from '../protocol/messages';
import type { ChunkMeta, LineCounts, RunStatus } from '../store/types';
import { cancelledBy } from './cancel';
import type { Outage } from './outage';
import type { ResolvedPipelineOptions } from './options';
import { createPool } from './pool';
import { rejectRatioFailure } from './reject-ratio';
import { RunStats } from './stats';
import type { ProgressEvent, RunSummary } from './types';

/** A chunk as a source hands it out: whatever the source needs to read it (the scheduler only passes it back). */
export type SourcedChunk = object;

/** A chunk read for one try: where it lies and its lines. */
export interface ReadChunk {
  meta: ChunkMeta;
  bytes: Uint8Array;
}

/** Counts of a chunk this run committed before (a resume), as its checkpoint records them. */
export type CommittedChunk = Omit<LineCounts, 'linesRead'> & { lineCount: number; byteStart: number; byteEnd: number };

export type NextChunk<C extends SourcedChunk> =
  | { kind: 'chunk'; chunk: C }
  /** Committed by an earlier attempt of this run: counted, not sent. */
  | { kind: 'resumed'; committed: CommittedChunk }
  /** Nothing to hand out now: ask again once a chunk in flight settles, or after `ms` when none is. */
  | { kind: 'idle'; ms: number }
  /** Nothing left for this process. */
  | { kind: 'end' };

export interface ChunkSource<C extends SourcedChunk> {
  /**
   * Chunks commit in the order handed out (SQLite: each gets a turn, and a
   * failure at one turn stops the later ones while the earlier still
   * commit); otherwise in any order, and a failure stops every chunk not
   * yet committed.
   */
  readonly ordered: boolean;
  /**
   * The next chunk, with `inFlight` chunks of this process in flight and
   * room for `free` more. Settles promptly after `stop()`.
   */
  next(inFlight: number, free: number): Promise<NextChunk<C>>;
  /** The chunk read for one try (a transfer to a worker detaches its bytes, so each try needs its own); `last` when no retry follows. */
  read(chunk: C, first: boolean, last: boolean): ReadChunk | Promise<ReadChunk>;
  /** Where the chunk lies, for messages: its lines, or its bytes when its line numbers are not known here. */
  describe(chunk: C): string;
  /** A chunk's buffer back from a worker, for reuse. */
  reuse(bytes: Uint8Array): void;
  /** The run stopped before the chunk committed: give it back (a claim released, a buffer reused). */
  dropped(chunk: C): void | Promise<void>;
  /** The chunk waited too long for an earlier one with the same items: hand it out again later. */
  deferred(chunk: C): void;
  /** The chunk committed. */
  committed(chunk: C): void;
  /** Wakes a pending `next()`: the run stops. */
  stop(): void;
  /** After the last chunk settled: checks that need the whole input read (a resumed input that got shorter). */
  finished(): void;
  close(): void | Promise<void>;
  /** The input's size, for progress; undefined when unknown (a stream). */
  totalBytes(): number | undefined;
}

/** How a run ended, as the scheduler saw it. */
export interface SchedulerEnd {
  status: Exclude<RunStatus, 'running'>;
  failure: Error | undefined;
  stats: RunStats;
  resumedChunks: number;
  telemetry: Record<string, unknown>;
}

export interface RunRecorder {
  readonly runId: string;
  /** A shared run's place in run order (PostgreSQL), sent with every chunk. */
  readonly runSeq?: number;
  /** The pool's `workerData`; `turns` is the run's shared commit-turn buffer. */
  workerInit(turns: SharedArrayBuffer): WorkerInit;
  /** The worker file the pool loads. */
  readonly workerFile: string;
  /** Lost connections and restarting servers are waited out under this policy. */
  readonly outage: Outage;
  /** How often `beat` runs while the run runs. */
  readonly heartbeatMs: number;
  /** The run's heartbeat or lease renewal; rejects with `ERR_RUN_TAKEN_OVER` when another process took the run. */
  beat(): Promise<void>;
  /** The run's rejected lines so far (every process's, for a shared run). */
  rejected(stats: RunStats): number | Promise<number>;
  /** The run's committed counts, for its reject ratio. */
  totals(stats: RunStats): LineCounts | Promise<LineCounts>;
  /** A progress event as the run sees it (a shared run adds the chunks other processes committed). */
  progress(event: ProgressEvent): ProgressEvent;
  /** The backend's part of the telemetry. */
  telemetry(): Record<string, unknown>;
  /** Records the end and returns the summary; rejects with the run's failure (carrying `summary`) when it did not complete. */
  finish(end: SchedulerEnd): Promise<RunSummary>;
}

interface Scheduled<C extends SourcedChunk> {
  chunk: C;
  /** Its place in the commit order, for an ordered source. */
  turn: number | undefined;
  started: number;
}

export class Scheduler<C extends SourcedChunk> {
  readonly #opts: ResolvedPipelineOptions;
  readonly #source: ChunkSource<C>;
  readonly #record: RunRecorder;
  readonly #stats = new RunStats();
  readonly #turns = new CommitTurns();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #limit: ReturnType<typeof pLimit>;
  #pool: Piscina | undefined;
  #nextTurn = 0;
  /** Every chunk was handed out and none dropped: a late cancel then changes nothing. */
  #complete = false;
  #resumedChunks = 0;
  #conflicts = 0;
  #deferred = 0;
  #failure: Error | undefined;
  #cancelled = false;
  #lastProgress = 0;

  constructor(opts: ResolvedPipelineOptions, source: ChunkSource<C>, record: RunRecorder) {
    this.#opts = opts;
    this.#source = source;
    this.#record = record;
    this.#limit = pLimit(opts.workers);
  }

  get #stopping(): boolean {
    return this.#failure !== undefined || this.#cancelled;
  }

  async run(): Promise<RunSummary> {
    const onAbort = () => { this.#cancelled = true; this.#source.stop(); };
    this.#opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.#opts.signal?.aborted) onAbort();
    const heartbeat = setInterval(() => {
      this.#record.beat().catch((err: unknown) => {
        // A busy database or a lost connection only delays a heartbeat; the next one tries again.
        if ((err as { code?: unknown }).code === 'ERR_RUN_TAKEN_OVER') this.#fail(err);
      });
    }, this.#record.heartbeatMs);
    heartbeat.unref();
    try {
      this.#pool = createPool(this.#record.workerFile, this.#opts.workers, this.#record.workerInit(this.#turns.buffer), this.#opts.workerResourceLimits, (err) => this.#fail(err));
      await this.#handOut();
    } catch (err) {
      this.#fail(err, this.#nextTurn); // a reading error: chunks already handed out may still commit
    } finally {
      await Promise.allSettled([...this.#inFlight]);
      clearInterval(heartbeat);
      this.#opts.signal?.removeEventListener('abort', onAbort);
      await this.#source.close();
      // Workers' connections close with their threads.
      await this.#pool?.destroy();
    }
    return this.#finish();
  }

  async #handOut(): Promise<void> {
    for (;;) {
      while (this.#inFlight.size >= this.#opts.maxInFlight) await Promise.race(this.#inFlight);
      if (this.#stopping) return;
      const next = await this.#source.next(this.#inFlight.size, this.#opts.maxInFlight - this.#inFlight.size);
      if (this.#stopping) {
        if (next.kind === 'chunk') await this.#source.dropped(next.chunk);
        return;
      }
      switch (next.kind) {
        case 'chunk':
          this.#dispatch(next.chunk);
          break;
        case 'resumed':
          this.#resumed(next.committed);
          break;
        case 'idle':
          if (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
          else await sleep(next.ms);
          break;
        case 'end':
          this.#complete = true; // until a chunk still in flight is dropped
          this.#source.finished();
          return;
      }
    }
  }

  #dispatch(chunk: C): void {
    const s: Scheduled<C> = { chunk, turn: this.#source.ordered ? this.#nextTurn++ : undefined, started: performance.now() };
    const p: Promise<void> = this.#limit(() => this.#runChunk(s)).then(
      () => { this.#inFlight.delete(p); },
      (err: unknown) => { this.#inFlight.delete(p); this.#fail(err, s.turn); },
    );
    this.#inFlight.add(p);
  }

  #resumed(c: CommittedChunk): void {
    this.#stats.addCommitted(c);
    this.#resumedChunks++;
    // A resumed run counts the rejects it had committed: past maxRejects, no
    // further chunk commits (else each resume would creep one chunk on).
    if (this.#turns.addRejected(c.rejected) > this.#opts.maxRejects) this.#tooManyRejects(this.#stats.rejected, this.#nextTurn);
  }

  /** Whether a chunk not yet committed gives up because the run stops: an ordered chunk before the failing turn still commits. */
  #givesUp(s: Scheduled<C>, first: boolean): boolean {
    if (!this.#stopping) return false;
    if (s.turn === undefined || first) return true;
    return this.#turns.abortedAt(s.turn);
  }

  async #runChunk(s: Scheduled<C>): Promise<void> {
    const pool = this.#pool as Piscina;
    const { chunk } = s;
    for (let attempt = 1, first = true; ; first = false) {
      if (this.#givesUp(s, first)) {
        this.#complete = false;
        await this.#source.dropped(chunk);
        return;
      }
      const last = attempt >= this.#opts.maxAttempts;
      const { meta: m, bytes } = await this.#source.read(chunk, first, last);
      const task: ChunkTask = {
        runId: this.#record.runId, meta: m, attempt, bytes, ...(s.turn !== undefined ? { turn: s.turn } : {}), ...(this.#record.runSeq !== undefined ? { runSeq: this.#record.runSeq } : {}),
      };
      let reply: ChunkReply;
      try {
        reply = (await pool.run(task, { transferList: bytes.byteLength > 0 ? [bytes.buffer as ArrayBuffer] : [] })) as ChunkReply;
      } catch (err) {
        // A worker died: the chunk rolled back; retry on a fresh thread and connection, even if the run
        // failed at a later chunk (everything before the failing chunk commits, whatever the timing).
        if (!last) { this.#stats.retries++; attempt++; continue; }
        throw new WorkerError(`Chunk ${m.chunkIndex} (${this.#source.describe(chunk)}) failed after ${attempt} attempts: ${toError(err).message}`, { cause: err });
      }
      if (reply.bytes !== undefined) this.#source.reuse(reply.bytes);
      if (!reply.ok) {
        const err = reviveError(reply.error);
        // The server is away (restarting, out of reach): wait it out with back-off, not counted as an attempt.
        if (reply.transient === true && !this.#stopping) {
          this.#stats.retries++;
          if (await this.#record.outage.retry(err)) continue;
          throw this.#record.outage.givenUp(err);
        }
        throw err;
      }
      this.#record.outage.ok();
      const st = reply.stats;
      switch (st.outcome) {
        case 'aborted':
          return;
        case 'deferred':
          this.#deferred++;
          this.#source.deferred(chunk);
          return;
        case 'taken':
          this.#source.committed(chunk);
          return;
        case 'already': // counted: its counts come from its checkpoint
        case 'committed':
          break;
      }
      this.#source.committed(chunk);
      this.#conflicts += st.conflicts;
      this.#stats.addChunk(st, m.byteEnd - m.byteStart, performance.now() - s.started);
      if (Number.isFinite(this.#opts.maxRejects)) {
        const rejected = await this.#record.rejected(this.#stats);
        if (rejected > this.#opts.maxRejects) this.#tooManyRejects(rejected, s.turn === undefined ? 0 : s.turn + 1);
      }
      this.#emitProgress(false);
      return;
    }
  }

  #tooManyRejects(rejected: number, fromTurn: number): void {
    this.#fail(new TooManyRejectsError(`${rejected} lines were rejected, more than maxRejects (${this.#opts.maxRejects}); see the run's rejects`), fromTurn);
  }

  #emitProgress(force: boolean): void {
    const cb = this.#opts.onProgress;
    if (cb === undefined) return;
    const now = performance.now();
    if (!force && now - this.#lastProgress < this.#opts.progressIntervalMs) return;
    this.#lastProgress = now;
    cb(this.#record.progress(this.#stats.progress(this.#source.totalBytes())));
  }

  /** Fails the run; ordered chunks from `turn` on give up without committing (all when unknown). */
  #fail(err: unknown, turn = 0): void {
    this.#turns.abort(turn); // keeps the lowest turn: a second failure may be earlier
    if (this.#failure !== undefined) return;
    this.#failure = toError(err);
    this.#source.stop();
  }

  async #finish(): Promise<RunSummary> {
    if (!this.#cancelled || this.#complete) {
      try {
        this.#failure ??= rejectRatioFailure(await this.#record.totals(this.#stats), this.#opts.maxRejectRatio);
      } catch {
        // The counts cannot be read (the server is away): recording the end meets the same and reports it.
      }
    }
    const status = this.#failure ? 'failed' : this.#cancelled && !this.#complete ? 'cancelled' : 'completed';
    if (status === 'cancelled') this.#failure = cancelledBy(this.#opts.signal); // rejects like a failure, noted on the run
    const telemetry = this.#stats.telemetry(this.#opts.workers, {
      ...this.#record.telemetry(), conflicts: this.#conflicts, deferred: this.#deferred, outageWaits: this.#record.outage.waits,
    });
    try {
      return await this.#record.finish({ status, failure: this.#failure, stats: this.#stats, resumedChunks: this.#resumedChunks, telemetry });
    } finally {
      this.#emitProgress(true); // after the run row is final: a throwing callback cannot leave it `running`
    }
  }
}
