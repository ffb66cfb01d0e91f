/**
 * A run into a SQLite file, as the one scheduler sees it: the chunk source
 * streams the input through the chunker (any input: a file, stdin, a
 * stream), skipping the chunks a resumed run had committed after checking
 * they read the same; the run record is the `runs` row, kept alive by a
 * heartbeat and ended by `finishRun`. Chunks commit in input order (turns).
 */
import { InputError } from '../errors';
import type { SqliteWorkerInit } from '../protocol/messages';
import { BufferPool } from '../pipeline/buffers';
import { Chunker, type Chunk } from '../pipeline/chunker';
import { openInput, type OpenedInput } from '../pipeline/input';
import type { ResolvedPipelineOptions } from '../pipeline/options';
import { Outage } from '../pipeline/outage';
import { Scheduler, type ChunkSource, type NextChunk, type ReadChunk, type RunRecorder, type SchedulerEnd } from '../pipeline/scheduler';
import type { RunStats } from '../pipeline/stats';
import type { ProgressEvent, RunSummary } from '../pipeline/types';
import { StateStore } from './state-store';
import { RunClaim } from './run-owner';
import { HEARTBEAT_MS } from '../store/run-rules';
import type { LineCounts } from '../store/types';
import { fromSqliteError } from './errors';
import { finishRun } from './finish-run';
import { MAIN_BUSY_TIMEOUT_MS, waitForLock } from './lock-wait';
import { prepareRun, type PreparedRun } from './prepare-run';

/** Opens the database and the run (new or resumed) and runs it to its end. */
export async function runLocal(opts: ResolvedPipelineOptions, workerFile: string): Promise<RunSummary> {
  const input = openInput(opts.input);
  // The scheduler's connection never blocks the main thread for long: lock
  // waits happen in waitForLock's asynchronous loop, where a signal is seen.
  const store = await waitForLock(
    () => StateStore.open(opts.dbPath, { synchronous: opts.synchronous, busyTimeoutMs: Math.min(opts.busyTimeoutMs, MAIN_BUSY_TIMEOUT_MS) }),
    opts.maxBusyWaitMs, `Opening database ${opts.dbPath}`, opts.signal,
  ).catch((err: unknown) => { input.close(); throw err; });
  let claim: RunClaim | undefined;
  let prep: PreparedRun;
  try {
    claim = new RunClaim(opts.dbPath);
    const c = claim;
    prep = await waitForLock(() => store.transaction(() => prepareRun(store, opts, c)), opts.maxBusyWaitMs, 'Starting the run', opts.signal);
  } catch (err) {
    input.close();
    store.close();
    claim?.release(true);
    throw err;
  }
  return new Scheduler(opts, new StreamSource(opts, input, prep), new LocalRunRecord(opts, store, prep, workerFile)).run();
}

const STOPPED = Symbol('stopped');

class StreamSource implements ChunkSource<Chunk> {
  readonly ordered = true;
  readonly #opts: ResolvedPipelineOptions;
  readonly #input: OpenedInput;
  readonly #prep: PreparedRun;
  /** Chunk buffers come back from the workers and are reused. */
  readonly #buffers: BufferPool;
  readonly #chunker: Chunker;
  readonly #pieces: AsyncIterator<Uint8Array>;
  /** Chunks cut from the last piece read, not handed out yet. */
  readonly #ready: Chunk[] = [];
  /** A copy of each chunk in flight for its retries, when the input cannot be read again. */
  readonly #spares = new WeakMap<Chunk, Uint8Array>();
  #ended = false;
  #stopped = false;
  #chunksSeen = 0;
  /** Settles the pending input read with STOPPED; set only while a read is pending. */
  #wakeReader: (() => void) | undefined;

  constructor(opts: ResolvedPipelineOptions, input: OpenedInput, prep: PreparedRun) {
    this.#opts = opts;
    this.#input = input;
    this.#prep = prep;
    this.#buffers = new BufferPool(opts.maxInFlight + 1);
    this.#chunker = new Chunker(prep.chunkSize, opts.maxLineBytes, this.#buffers, prep.maxChunkBytes);
    this.#pieces = input.bytes[Symbol.asyncIterator]();
  }

  async next(): Promise<NextChunk<Chunk>> {
    for (;;) {
      const chunk = this.#ready.shift();
      if (chunk !== undefined) return this.#handOut(chunk);
      if (this.#ended || this.#stopped) return { kind: 'end' };
      const piece = await this.#nextPiece();
      if (piece === STOPPED) return { kind: 'end' };
      if (piece.done === true) {
        this.#ended = true;
        const last = this.#chunker.end();
        if (last !== undefined) this.#ready.push(last);
      } else {
        this.#ready.push(...this.#chunker.push(piece.value));
      }
    }
  }

  #handOut(chunk: Chunk): NextChunk<Chunk> {
    const m = chunk.meta;
    this.#chunksSeen = m.chunkIndex + 1;
    const done = this.#prep.committed.get(m.chunkIndex);
    if (done === undefined) return { kind: 'chunk', chunk };
    if (done.checksum !== m.checksum || done.firstLineNo !== m.firstLineNo || done.lineCount !== m.lineCount) {
      throw new InputError('ERR_INPUT_CHANGED',
        `Chunk ${m.chunkIndex} (lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1}) no longer matches what run ${this.#prep.run.runId} committed: the input changed; refusing to mix data`);
    }
    this.#buffers.give(chunk.bytes.buffer as ArrayBuffer);
    return { kind: 'resumed', committed: done };
  }

  /**
   * The input's next piece, or STOPPED as soon as the run stops: a slow input
   * (stdin that has not ended) must not hold up a stop. Not
   * `Promise.race([read, stopped])` with one long-lived `stopped` promise:
   * every race leaves a reaction on it that keeps that read's bytes alive
   * until the run ends (a 1M-line feed then stayed in memory, ~1.1 GB RSS).
   */
  #nextPiece(): Promise<IteratorResult<Uint8Array> | typeof STOPPED> {
    return new Promise<IteratorResult<Uint8Array> | typeof STOPPED>((resolve, reject) => {
      this.#wakeReader = () => resolve(STOPPED);
      this.#pieces.next().then(resolve, reject);
    }).finally(() => { this.#wakeReader = undefined; });
  }

  /**
   * The first try transfers the chunk's own buffer; a retry reads the chunk
   * again from the file when the input is a plain file, else from a copy
   * kept (only while a retry is possible).
   */
  read(chunk: Chunk, first: boolean, last: boolean): ReadChunk {
    const reread = this.#input.reread;
    if (first) {
      if (reread === undefined && this.#opts.maxAttempts > 1) this.#spares.set(chunk, chunk.bytes.slice());
      return chunk;
    }
    if (reread !== undefined) return { meta: chunk.meta, bytes: reread(chunk.meta, this.#opts.maxLineBytes) };
    const spare = this.#spares.get(chunk) ?? new Uint8Array(0);
    return { meta: chunk.meta, bytes: last ? spare : spare.slice(0) };
  }

  describe(chunk: Chunk): string {
    const m = chunk.meta;
    return `lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1}`;
  }

  reuse(bytes: Uint8Array): void {
    this.#buffers.give(bytes.buffer as ArrayBuffer);
  }

  dropped(chunk: Chunk): void {
    this.#buffers.give(chunk.bytes.buffer as ArrayBuffer); // nothing when it was transferred (detached)
  }

  deferred(chunk: Chunk): void {
    throw new Error(`Chunk ${chunk.meta.chunkIndex} was deferred, which a SQLite run never does (its chunks commit in turn)`);
  }

  committed(): void {
    // Nothing to release: the checkpoint row is the chunk's record.
  }

  stop(): void {
    this.#stopped = true;
    this.#wakeReader?.();
  }

  finished(): void {
    const beyond = [...this.#prep.committed.keys()].filter((i) => i >= this.#chunksSeen);
    if (beyond.length > 0) {
      throw new InputError('ERR_INPUT_CHANGED', `The input is shorter than when run ${this.#prep.run.runId} committed chunk ${beyond[0]}; refusing to mix data`);
    }
  }

  close(): void {
    this.#input.close();
  }

  totalBytes(): number | undefined {
    return this.#input.totalBytes();
  }
}

class LocalRunRecord implements RunRecorder {
  readonly runId: string;
  readonly heartbeatMs = HEARTBEAT_MS;
  /** A SQLite file has no connection to lose: nothing is waited out. */
  readonly outage = new Outage(0, () => false);
  readonly #opts: ResolvedPipelineOptions;
  readonly #store: StateStore;
  readonly #prep: PreparedRun;

  constructor(opts: ResolvedPipelineOptions, store: StateStore, prep: PreparedRun, readonly workerFile: string) {
    this.#opts = opts;
    this.#store = store;
    this.#prep = prep;
    this.runId = prep.run.runId;
  }

  workerInit(turns: SharedArrayBuffer): SqliteWorkerInit {
    const o = this.#opts;
    return {
      backend: 'sqlite', dbPath: o.dbPath, synchronous: o.synchronous, busyTimeoutMs: o.busyTimeoutMs, maxBusyWaitMs: o.maxBusyWaitMs,
      maxLineBytes: o.maxLineBytes, parseAll: o.parseAll, maxRejects: o.maxRejects, config: o.config, turns,
    };
  }

  /** A busy database only delays the heartbeat (the next one retries); a run taken over is `ERR_RUN_TAKEN_OVER`. */
  beat(): Promise<void> {
    try {
      this.#store.heartbeat(this.runId);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** This process is the run's only one: its own counts (a resume's earlier chunks included) are the run's. */
  rejected(stats: RunStats): number {
    return stats.rejected;
  }

  totals(stats: RunStats): LineCounts {
    return stats;
  }

  progress(event: ProgressEvent): ProgressEvent {
    return event;
  }

  telemetry(): Record<string, unknown> {
    return { chunkSize: this.#prep.chunkSize };
  }

  async finish(end: SchedulerEnd): Promise<RunSummary> {
    const s = end.stats;
    try {
      return await finishRun(this.#store, {
        runId: this.runId, status: end.status, failure: end.failure, maxBusyWaitMs: this.#opts.maxBusyWaitMs, claim: this.#prep.claim,
        seen: { linesRead: s.linesRead, blankLines: s.blankLines, inserted: s.inserted, updated: s.updated, unchanged: s.unchanged, rejected: s.rejected, chunks: s.chunksDone },
        run: this.#prep.run,
        rest: { durationMs: Math.round(s.elapsedMs), workers: this.#opts.workers, chunkSize: this.#prep.chunkSize, resumedChunks: end.resumedChunks },
        telemetry: end.telemetry,
      });
    } catch (err) {
      throw fromSqliteError(err, `Finishing run ${this.runId}`);
    } finally {
      this.#store.close();
      this.#prep.claim.release(false); // already released by finishRun, unless it threw unexpectedly
    }
  }
}
