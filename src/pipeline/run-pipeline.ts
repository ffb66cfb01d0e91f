import pLimit from 'p-limit';
import type { Piscina } from 'piscina';
import { BrandOrchestratorError, InputError, TooManyRejectsError, WorkerError, reviveError, toError } from '../errors';
import { fromSqliteError } from '../sqlite/errors';
import { CommitTurns } from '../protocol/turns';
import type { ChunkReply, ChunkTask, WorkerInit } from '../protocol/messages';
import { StateStore } from '../store';
import { HEARTBEAT_MS, RunClaim } from '../store/run-owner';
import type { ChunkCheckpoint, RunStatus } from '../store/types';
import { BufferPool } from './buffers';
import { cancelledBy, throwIfAborted } from './cancel';
import { Chunker, type Chunk } from './chunker';
import { openInput, type OpenedInput } from './input';
import { MAIN_BUSY_TIMEOUT_MS, waitForLock } from './lock-wait';
import { prepareRun, type PreparedRun } from './prepare-run';
import { resolvePipelineOptions, type ResolvedPipelineOptions } from './options';
import { finishRun } from './finish-run';
import { createPool, workerFile } from './pool';
import { rejectRatioFailure } from './reject-ratio';
import { RunStats } from './stats';
import type { RunPipelineOptions, RunSummary } from './types';

/** Thrown when a run fails; `summary` holds what was committed before it stopped. */
export type PipelineFailure = BrandOrchestratorError & { summary?: RunSummary };

/**
 * Ingests an NDJSON feed with a pool of worker threads, one SQLite
 * transaction per chunk of lines. Resolves with the run's summary when it
 * completes; rejects (with `summary` attached) when it fails, and with a
 * `CancelledError` (named `AbortError`, with `summary`) when `signal` stops it.
 *
 * @example
 * const summary = await runPipeline({ input: 'feed.ndjson', dbPath: './data/bo.sqlite', workers: 2 });
 * console.log(summary.inserted, summary.itemsPerSecond);
 */
export function runPipeline(options: RunPipelineOptions): Promise<RunSummary> {
  return ingestWith(options, workerFile());
}

/**
 * {@link runPipeline} with the pool loading `workerFile` (tests pass a fixture
 * worker that injects faults). Not exported from the package root.
 * @internal
 */
export async function ingestWith(options: RunPipelineOptions, workerFilename: string): Promise<RunSummary> {
  const opts = resolvePipelineOptions(options);
  throwIfAborted(opts.signal);
  if (opts.db.kind === 'postgres') {
    // Loaded only for a postgres:// target: SQLite users never load `pg`.
    const { ingestPostgres } = await import('../pg/pg-pipeline.js');
    return ingestPostgres(opts);
  }
  const input = openInput(opts.input);
  // The scheduler's connection never blocks the main thread for long: lock
  // waits happen in waitForLock's asynchronous loop, where a signal is seen.
  const store = await waitForLock(
    () => StateStore.open(opts.dbPath, { synchronous: opts.synchronous, busyTimeoutMs: Math.min(opts.busyTimeoutMs, MAIN_BUSY_TIMEOUT_MS) }),
    opts.maxBusyWaitMs, `Opening database ${opts.dbPath}`, opts.signal,
  ).catch((err: unknown) => { input.close(); throw err; });
  let scheduler: Scheduler;
  let claim: RunClaim | undefined;
  try {
    claim = new RunClaim(opts.dbPath);
    const c = claim;
    const prep = await waitForLock(() => store.transaction(() => prepareRun(store, opts, c)), opts.maxBusyWaitMs, 'Starting the run', opts.signal);
    scheduler = new Scheduler(opts, store, input, prep, workerFilename);
  } catch (err) {
    input.close();
    store.close();
    claim?.release(true);
    throw err;
  }
  return scheduler.run();
}

const STOPPED = Symbol('stopped');

class Scheduler {
  readonly #opts: ResolvedPipelineOptions;
  readonly #store: StateStore;
  readonly #input: OpenedInput;
  readonly #prep: PreparedRun;
  readonly #stats = new RunStats();
  readonly #turns = new CommitTurns();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #limit: ReturnType<typeof pLimit>;
  /** Chunk buffers come back from the workers and are reused. */
  readonly #buffers: BufferPool;
  readonly #workerFile: string;
  #pool: Piscina | undefined;
  #nextTurn = 0;
  /** Every chunk of the input was handed to a worker (a late cancel then changes nothing). */
  #allDispatched = false;
  /** Settles the pending input read with STOPPED; set only while a read is pending. */
  #wakeReader: (() => void) | undefined;
  #chunksSeen = 0;
  #resumedChunks = 0;
  #failure: Error | undefined;
  #cancelled = false;
  #lastProgress = 0;

  constructor(opts: ResolvedPipelineOptions, store: StateStore, input: OpenedInput, prep: PreparedRun, workerFilename: string) {
    this.#workerFile = workerFilename;
    this.#opts = opts;
    this.#store = store;
    this.#input = input;
    this.#prep = prep;
    this.#limit = pLimit(opts.workers);
    this.#buffers = new BufferPool(opts.maxInFlight + 1);
  }

  get #stopping(): boolean {
    return this.#failure !== undefined || this.#cancelled;
  }

  async run(): Promise<RunSummary> {
    const runId = this.#prep.run.runId;
    const onAbort = () => { this.#cancelled = true; this.#stop(); };
    this.#opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.#opts.signal?.aborted) onAbort();
    const heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    heartbeat.unref();
    try {
      this.#pool = createPool(this.#workerFile, this.#opts.workers, this.#workerInit(), this.#opts.workerResourceLimits, (err) => this.#fail(err));
      await this.#readAndDispatch();
    } catch (err) {
      this.#fail(err, this.#nextTurn); // a reading error: chunks already handed out may still commit
    } finally {
      this.#input.close();
      await Promise.allSettled([...this.#inFlight]);
      clearInterval(heartbeat);
      this.#opts.signal?.removeEventListener('abort', onAbort);
      // Workers' connections close with their threads; then fold the WAL back.
      await this.#pool?.destroy();
    }
    return await this.#finish(runId);
  }

  #workerInit(): WorkerInit {
    const o = this.#opts;
    return {
      backend: 'sqlite', dbPath: o.dbPath, synchronous: o.synchronous, busyTimeoutMs: o.busyTimeoutMs, maxBusyWaitMs: o.maxBusyWaitMs,
      maxLineBytes: o.maxLineBytes, parseAll: o.parseAll, maxRejects: o.maxRejects, config: o.config, turns: this.#turns.buffer,
    };
  }

  async #readAndDispatch(): Promise<void> {
    const chunker = new Chunker(this.#prep.chunkSize, this.#opts.maxLineBytes, this.#buffers, this.#prep.maxChunkBytes);
    const pieces = this.#input.bytes[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.#nextPiece(pieces);
      if (next === STOPPED) return;
      if (next.done === true) break;
      for (const chunk of chunker.push(next.value)) {
        await this.#dispatch(chunk);
        if (this.#stopping) return;
      }
    }
    const last = chunker.end();
    if (last !== undefined) await this.#dispatch(last);
    this.#allDispatched = !this.#stopping;
    const beyond = [...this.#prep.committed.keys()].filter((i) => i >= this.#chunksSeen);
    if (!this.#stopping && beyond.length > 0) {
      throw new InputError('ERR_INPUT_CHANGED', `The input is shorter than when run ${this.#prep.run.runId} committed chunk ${beyond[0]}; refusing to mix data`);
    }
  }

  /**
   * The input's next piece, or STOPPED as soon as the run stops: a slow input
   * (stdin that has not ended) must not hold up a stop. Not
   * `Promise.race([read, stopped])` with one long-lived `stopped` promise:
   * every race leaves a reaction on it that keeps that read's bytes alive
   * until the run ends (a 1M-line feed then stayed in memory, ~1.1 GB RSS).
   */
  #nextPiece(pieces: AsyncIterator<Uint8Array>): Promise<IteratorResult<Uint8Array> | typeof STOPPED> {
    if (this.#stopping) return Promise.resolve(STOPPED);
    return new Promise<IteratorResult<Uint8Array> | typeof STOPPED>((resolve, reject) => {
      this.#wakeReader = () => resolve(STOPPED);
      pieces.next().then(resolve, reject);
    }).finally(() => { this.#wakeReader = undefined; });
  }

  #stop(): void {
    this.#wakeReader?.();
  }

  async #dispatch(chunk: Chunk): Promise<void> {
    this.#chunksSeen = chunk.meta.chunkIndex + 1;
    if (this.#stopping) return;
    const done = this.#prep.committed.get(chunk.meta.chunkIndex);
    if (done !== undefined) {
      this.#skipCommitted(chunk, done);
      this.#buffers.give(chunk.bytes.buffer as ArrayBuffer);
      return;
    }
    while (this.#inFlight.size >= this.#opts.maxInFlight) await Promise.race(this.#inFlight);
    if (this.#stopping) return;
    const turn = this.#nextTurn++;
    const p: Promise<void> = this.#limit(() => this.#runChunk(chunk, turn)).then(
      () => { this.#inFlight.delete(p); },
      (err: unknown) => { this.#inFlight.delete(p); this.#fail(err, turn); },
    );
    this.#inFlight.add(p);
  }

  #skipCommitted(chunk: Chunk, done: ChunkCheckpoint): void {
    const m = chunk.meta;
    if (done.checksum !== m.checksum || done.firstLineNo !== m.firstLineNo || done.lineCount !== m.lineCount) {
      throw new InputError('ERR_INPUT_CHANGED',
        `Chunk ${m.chunkIndex} (lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1}) no longer matches what run ${this.#prep.run.runId} committed: the input changed; refusing to mix data`);
    }
    this.#stats.addCommitted(done);
    this.#resumedChunks++;
    // A resumed run counts the rejects it had committed: past maxRejects, no
    // further chunk commits (else each resume would creep one chunk on).
    if (this.#turns.addRejected(done.rejected) > this.#opts.maxRejects) this.#tooManyRejects(this.#nextTurn);
  }

  async #runChunk(chunk: Chunk, turn: number): Promise<void> {
    if (this.#stopping) { // cancelled while queued: never sent to a worker
      this.#allDispatched = false;
      this.#buffers.give(chunk.bytes.buffer as ArrayBuffer);
      return;
    }
    const pool = this.#pool as Piscina;
    const started = performance.now();
    const retryBytes = this.#retrySource(chunk);
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.#opts.maxAttempts;
      const bytes = attempt === 1 ? chunk.bytes : retryBytes(last);
      const task: ChunkTask = { runId: this.#prep.run.runId, meta: chunk.meta, turn, attempt, bytes };
      let reply: ChunkReply;
      try {
        reply = (await pool.run(task, { transferList: [bytes.buffer as ArrayBuffer] })) as ChunkReply;
      } catch (err) {
        // The run failed at or before this chunk: it may not commit, so no retry.
        if (this.#turns.abortedAt(turn)) return;
        // Otherwise retry, even if the run has failed at a later chunk: everything
        // before the failing chunk commits, whatever the timing.
        if (!last) { this.#stats.retries++; continue; }
        const m = chunk.meta;
        throw new WorkerError(`Chunk ${m.chunkIndex} (lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1}) failed after ${attempt} attempts: ${toError(err).message}`, { cause: err });
      }
      if (reply.bytes !== undefined) this.#buffers.give(reply.bytes.buffer as ArrayBuffer);
      if (!reply.ok) throw reviveError(reply.error);
      if (reply.stats.outcome !== 'aborted') this.#onChunkDone(reply, chunk, started, turn);
      return;
    }
  }

  /**
   * The transfer detaches a chunk's buffer, so a retry needs its bytes again:
   * rebuilt from the file when the input is a plain file, else from a copy
   * kept (only while a retry is possible).
   */
  #retrySource(chunk: Chunk): (last: boolean) => Uint8Array {
    const reread = this.#input.reread;
    if (reread !== undefined) return () => reread(chunk.meta, this.#opts.maxLineBytes);
    const spare = this.#opts.maxAttempts > 1 ? chunk.bytes.slice() : new Uint8Array(0);
    return (last) => (last ? spare : spare.slice(0));
  }

  #onChunkDone(reply: ChunkReply & { ok: true }, chunk: Chunk, started: number, turn: number): void {
    this.#stats.addChunk(reply.stats, chunk.meta.byteEnd - chunk.meta.byteStart, performance.now() - started);
    if (this.#stats.rejected > this.#opts.maxRejects) this.#tooManyRejects(turn + 1);
    this.#emitProgress(false);
  }

  #tooManyRejects(fromTurn: number): void {
    this.#fail(new TooManyRejectsError(`${this.#stats.rejected} lines were rejected, more than maxRejects (${this.#opts.maxRejects}); see the run's rejects`), fromTurn);
  }

  #emitProgress(force: boolean): void {
    const cb = this.#opts.onProgress;
    if (cb === undefined) return;
    const now = performance.now();
    if (!force && now - this.#lastProgress < this.#opts.progressIntervalMs) return;
    this.#lastProgress = now;
    cb(this.#stats.progress(this.#input.totalBytes()));
  }

  /** Fails the run; chunks from `turn` on give up without committing (all when unknown). */
  #fail(err: unknown, turn = 0): void {
    this.#turns.abort(turn); // keeps the lowest turn: a second failure may be earlier
    if (this.#failure !== undefined) return;
    this.#failure = toError(err);
    this.#stop();
  }

  #beat(): void {
    try {
      this.#store.heartbeat(this.#prep.run.runId);
    } catch (err) {
      // A busy database only delays the heartbeat; the next one retries.
      if ((err as { code?: unknown }).code === 'ERR_RUN_TAKEN_OVER') this.#fail(err);
    }
  }

  async #finish(runId: string): Promise<RunSummary> {
    if (!this.#cancelled || this.#allDispatched) this.#failure ??= rejectRatioFailure(this.#stats, this.#opts.maxRejectRatio);
    const status = this.#failure ? 'failed' : this.#cancelled && !this.#allDispatched ? 'cancelled' : 'completed';
    if (status === 'cancelled') this.#failure = cancelledBy(this.#opts.signal); // rejects like a failure, noted on the run
    try {
      return await this.#finishRun(runId, status);
    } catch (err) {
      throw fromSqliteError(err, `Finishing run ${runId}`);
    } finally {
      this.#store.close();
      this.#prep.claim.release(false); // already released by finishRun, unless it threw unexpectedly
    }
  }

  async #finishRun(runId: string, status: Exclude<RunStatus, 'running'>): Promise<RunSummary> {
    const durationMs = Math.round(this.#stats.elapsedMs);
    const s = this.#stats;
    try {
      return await finishRun(this.#store, {
        runId, status, failure: this.#failure, maxBusyWaitMs: this.#opts.maxBusyWaitMs, claim: this.#prep.claim,
        seen: { linesRead: s.linesRead, blankLines: s.blankLines, inserted: s.inserted, updated: s.updated, unchanged: s.unchanged, rejected: s.rejected, chunks: s.chunksDone },
        run: this.#prep.run,
        rest: { durationMs, workers: this.#opts.workers, chunkSize: this.#prep.chunkSize, resumedChunks: this.#resumedChunks },
        telemetry: s.telemetry(this.#opts.workers, { chunkSize: this.#prep.chunkSize }),
      });
    } finally {
      this.#emitProgress(true); // after the run row is final: a throwing callback cannot leave it `running`
    }
  }
}
