/**
 * A run into PostgreSQL. The main thread claims chunks of the run's plan
 * (`FOR UPDATE SKIP LOCKED`, under a lease it renews), reads each by seeking
 * in the file, and hands it to a worker, which commits it on its own
 * connection with its done-mark. Several processes, on several machines,
 * may work on one run (`join`): each claims what is left, takes over the
 * chunks of a process whose lease ran out, and the first to see every chunk
 * done records the run's end. Each prints the run's combined summary.
 */
import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Piscina } from 'piscina';
import {
  BrandOrchestratorError, InputError, InvalidOptionError, StoreError, TooManyRejectsError, WorkerError, reviveError, toError,
} from '../errors';
import { cancelledBy } from '../pipeline/cancel';
import type { ResolvedPipelineOptions } from '../pipeline/options';
import { createPool, workerFile } from '../pipeline/pool';
import { rejectRatioFailure } from '../pipeline/reject-ratio';
import { WorkerTimes } from '../pipeline/stats';
import { runPace } from '../pipeline/run-pace';
import type { ProgressEvent, RunSummary } from '../pipeline/types';
import type { ChunkReply, ChunkStats, ChunkTask, PgWorkerInit } from '../protocol/messages';
import { perSecond } from '../store/run-times';
import type { RunRecord } from '../store/types';
import { PgStore, newOwnerToken, type ChunkPlan, type ChunkTotals, type PgTarget } from './pg-store';
import { openInput, planFile, readPlannedChunk } from './plan';
import { isTransient, Outage } from './outage';

/** How often a scheduler left with only held-back chunks looks whether one is due. */
const PARK_POLL_MS = 100;
/** How often progress reads the run's committed chunks (other processes' too). */
const RUN_WIDE_REFRESH_MS = 2000;

/** {@link runPipeline} into the PostgreSQL database `opts.db` names. @internal */
export async function ingestPostgres(opts: ResolvedPipelineOptions, workerFilename = workerFile()): Promise<RunSummary> {
  if (opts.db.kind !== 'postgres') throw new InvalidOptionError('ingestPostgres needs a postgres:// target');
  const target: PgTarget = { url: opts.db.url, label: opts.db.label };
  if (typeof opts.input !== 'string') {
    throw new InvalidOptionError('A PostgreSQL run reads a plain file (each process seeks to its chunks): give `input` as a file path; stdin, streams and iterables are for SQLite');
  }
  const plan = await planFile(opts.input, opts.maxChunkBytes);
  const fh = await openInput(opts.input);
  const outage = new Outage(opts.maxOutageMs);
  let store: PgStore;
  try {
    store = await PgStore.open(target, { leaseMs: opts.leaseMs, outage });
  } catch (err) {
    await fh.close();
    throw err;
  }
  const owner = newOwnerToken();
  const runId = opts.resume ?? opts.runId ?? randomUUID();
  try {
    const prep = await store.startOrJoin({
      runId, runType: opts.runType, plan, join: opts.join, resume: opts.resume !== undefined, ownerToken: owner,
      settings: { chunkBytes: plan.chunkBytes, workers: opts.workers, maxRejects: Number.isFinite(opts.maxRejects) ? opts.maxRejects : null, maxLineBytes: opts.maxLineBytes, input: opts.input },
    });
    if (opts.resume !== undefined || opts.join) await checkCommittedInput(store, fh, prep.plan, runId, opts.maxLineBytes);
    return await new PgScheduler(opts, store, fh, prep.run, prep.runSeq, prep.plan, owner, workerFilename, outage).run();
  } finally {
    await fh.close();
    await store.close();
  }
}

/**
 * The same input-identity check as a SQLite resume: every chunk the run has
 * committed must read the same now (its checksum), so a byte changed inside
 * a committed range is refused rather than mixing two versions of the feed.
 * The plan's fingerprint (size, first and last 64 KiB) already caught other
 * sizes and edits at either end.
 */
async function checkCommittedInput(store: PgStore, fh: FileHandle, plan: ChunkPlan, runId: string, maxLineBytes: number): Promise<void> {
  for (const done of await store.doneChunks(runId)) {
    const now = await readPlannedChunk(fh, plan, done.chunkIndex, maxLineBytes);
    if (now.checksum !== done.checksum || now.byteStart !== done.byteStart || now.byteEnd !== done.byteEnd) {
      throw new InputError('ERR_INPUT_CHANGED',
        `Chunk ${done.chunkIndex} (bytes ${done.byteStart}-${done.byteEnd}) no longer matches what run ${runId} committed: the input changed; refusing to mix data`);
    }
  }
}

class PgScheduler {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #started = performance.now();
  readonly #mine = { chunks: 0, linesRead: 0, blankLines: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0, bytes: 0, handled: 0, retries: 0, conflicts: 0, deferred: 0, parseMs: 0, writeMs: 0 };
  /** This process's worker threads, for the telemetry (and the run report). */
  readonly #workers = new WorkerTimes();
  #pool: Piscina | undefined;
  #failure: Error | undefined;
  #cancelled = false;
  #lastProgress = 0;
  /** The run's committed chunks and bytes (every process's), read every few seconds for progress. */
  #runWide = { chunks: 0, bytes: 0, at: 0 };

  constructor(
    readonly opts: ResolvedPipelineOptions, readonly store: PgStore, readonly fh: FileHandle,
    readonly run0: RunRecord, readonly runSeq: number, readonly plan: ChunkPlan, readonly owner: string, readonly workerFilename: string,
    readonly outage: Outage,
  ) {}

  get #runId(): string {
    return this.run0.runId;
  }

  get #stopping(): boolean {
    return this.#failure !== undefined || this.#cancelled;
  }

  async run(): Promise<RunSummary> {
    if (this.run0.status === 'completed') return this.#summary(this.run0, await this.store.chunkTotals(this.#runId)); // joined a run that is already done
    const onAbort = () => { this.#cancelled = true; };
    this.opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.opts.signal?.aborted) onAbort();
    const renewal = setInterval(() => { this.store.renew(this.#runId, this.owner, this.opts.leaseMs).catch(() => undefined); }, Math.max(100, this.opts.leaseMs / 3));
    renewal.unref();
    try {
      const init: PgWorkerInit = {
        backend: 'postgres', url: this.store.url, label: this.store.label, maxLineBytes: this.opts.maxLineBytes, parseAll: this.opts.parseAll, config: this.opts.config,
        orderWaitMs: this.#orderWaitMs, leaseMs: this.opts.leaseMs,
      };
      this.#pool = createPool(this.workerFilename, this.opts.workers, init, this.opts.workerResourceLimits, (err) => this.#fail(err));
      await this.#claimAndDispatch();
    } catch (err) {
      this.#fail(err);
    } finally {
      await Promise.allSettled([...this.#inFlight]);
      clearInterval(renewal);
      this.opts.signal?.removeEventListener('abort', onAbort);
      await this.#pool?.destroy();
    }
    return this.#finish();
  }

  async #claimAndDispatch(): Promise<void> {
    while (!this.#stopping) {
      const free = this.opts.maxInFlight - this.#inFlight.size;
      if (free > 0) {
        const due = this.#dueParked();
        if (due !== undefined) {
          this.#track(this.#runChunk(due));
          continue;
        }
        const claimed = await this.store.claimChunks(this.#runId, this.owner, free, this.opts.leaseMs);
        for (const i of claimed) this.#track(this.#runChunk(i));
        if (claimed.length > 0) continue;
      }
      if (this.#inFlight.size > 0) {
        await Promise.race(this.#inFlight);
        continue;
      }
      if (this.#parked.size > 0) {
        // Only held-back chunks are left here: try them again once due.
        await sleep(PARK_POLL_MS);
        continue;
      }
      // Nothing to claim and nothing running here: done, or other processes hold the rest.
      const run = await this.store.getRun(this.#runId);
      if (run.status !== 'running') {
        if (run.status !== 'completed') this.#fail(endedElsewhere(run));
        return;
      }
      const p = await this.store.progress(this.#runId, this.owner);
      if (p.open === 0) return;
      // Wait for the others to finish, or for a dead one's lease to run out.
      await sleep(Math.min(500, Math.max(50, p.nextLeaseEndMs)));
    }
  }

  /**
   * Chunks held back (their worker gave up waiting for an earlier chunk with
   * the same items): they stay claimed by this process, but out of the pool,
   * so its workers go on with other chunks (or claim a dead process's) rather
   * than wait again for the same one. One is tried again once a chunk has
   * committed here since it was held back, or after the order wait.
   */
  readonly #parked = new Map<number, { at: number; commits: number }>();

  #dueParked(): number | undefined {
    const now = performance.now();
    for (const [i, p] of this.#parked) {
      if (this.#mine.chunks > p.commits || now - p.at >= this.#orderWaitMs) {
        this.#parked.delete(i);
        return i;
      }
    }
    return undefined;
  }

  get #orderWaitMs(): number {
    return Math.max(1000, this.opts.leaseMs / 3);
  }

  #track(p: Promise<void>): void {
    const tracked: Promise<void> = p.then(
      () => { this.#inFlight.delete(tracked); },
      (err: unknown) => { this.#inFlight.delete(tracked); this.#fail(err); },
    );
    this.#inFlight.add(tracked);
  }

  async #runChunk(chunkIndex: number): Promise<void> {
    const pool = this.#pool as Piscina;
    for (let attempt = 1; ;) {
      if (this.#stopping) {
        await this.store.release(this.#runId, this.owner, [chunkIndex]);
        return;
      }
      // Read again for every attempt: the transfer detaches the buffer.
      const c = await readPlannedChunk(this.fh, this.plan, chunkIndex, this.opts.maxLineBytes);
      const { bytes, ...where } = c;
      const task: ChunkTask = { runId: this.#runId, runSeq: this.runSeq, attempt, bytes, meta: { ...where, firstLineNo: 1 } };
      let reply: ChunkReply;
      try {
        reply = (await pool.run(task, { transferList: bytes.byteLength > 0 ? [bytes.buffer as ArrayBuffer] : [] })) as ChunkReply;
      } catch (err) {
        // A worker died: the chunk rolled back; retry on a fresh thread and connection.
        if (attempt++ < this.opts.maxAttempts) { this.#mine.retries++; continue; }
        throw new WorkerError(`Chunk ${chunkIndex} (bytes ${c.byteStart}-${c.byteEnd}) failed after ${attempt - 1} attempts: ${toError(err).message}`, { cause: err });
      }
      if (!reply.ok) {
        const err = reviveError(reply.error);
        // The server is away (restarting, out of reach): wait it out with back-off, not counted as an attempt.
        if (reply.transient === true && !this.#stopping) {
          this.#mine.retries++;
          if (await this.outage.retry(err)) continue;
          throw this.outage.givenUp(err);
        }
        throw err;
      }
      this.outage.ok();
      if (reply.stats.outcome === 'deferred') {
        this.#mine.deferred++;
        this.#parked.set(chunkIndex, { at: performance.now(), commits: this.#mine.chunks });
        return;
      }
      this.#done(reply.stats, c.byteEnd - c.byteStart);
      if (Number.isFinite(this.opts.maxRejects)) {
        const t = await this.store.chunkTotals(this.#runId);
        if (t.rejected > this.opts.maxRejects) {
          this.#fail(new TooManyRejectsError(`${t.rejected} lines were rejected, more than maxRejects (${this.opts.maxRejects}); see the run's rejects`));
        }
      }
      return;
    }
  }

  #done(s: ChunkStats, bytes: number): void {
    if (s.outcome !== 'committed') return;
    const m = this.#mine;
    m.chunks++;
    m.linesRead += s.lineCount;
    m.blankLines += s.blankLines;
    m.inserted += s.inserted;
    m.updated += s.updated;
    m.unchanged += s.unchanged;
    m.rejected += s.rejected;
    m.bytes += bytes;
    m.handled += s.lineCount - s.blankLines;
    m.conflicts += s.conflicts;
    m.parseMs += s.parseMs;
    m.writeMs += s.writeMs;
    this.#workers.add(s);
    if (this.opts.onProgress !== undefined && performance.now() - this.#runWide.at > RUN_WIDE_REFRESH_MS) {
      this.#runWide.at = performance.now();
      this.store.chunkTotals(this.#runId).then((t) => {
        this.#runWide = { chunks: Math.max(this.#runWide.chunks, t.chunks), bytes: Math.max(this.#runWide.bytes, t.bytes), at: this.#runWide.at };
      }, () => undefined);
    }
    this.#emitProgress(false);
  }

  /**
   * Line counts are this process's, except in the last event (`final`: the
   * run's totals, as in its summary); chunks and bytes done are the whole
   * run's, so that the share of the file done is right when several
   * processes share the run.
   */
  #emitProgress(force: boolean, final?: ChunkTotals): void {
    const cb = this.opts.onProgress;
    if (cb === undefined) return;
    const now = performance.now();
    if (!force && now - this.#lastProgress < this.opts.progressIntervalMs) return;
    this.#lastProgress = now;
    const m = final ?? this.#mine;
    const elapsedMs = Math.round(now - this.#started);
    const event: ProgressEvent = {
      linesRead: m.linesRead, blankLines: m.blankLines, inserted: m.inserted, updated: m.updated, unchanged: m.unchanged, rejected: m.rejected,
      chunksDone: Math.max(m.chunks, this.#runWide.chunks), bytesDone: Math.max(m.bytes, this.#runWide.bytes), totalBytes: this.plan.inputBytes, elapsedMs,
      itemsPerSecond: Math.round(perSecond(this.#mine.handled, elapsedMs)), // this process's rate
    };
    cb(event);
  }

  #fail(err: unknown): void {
    this.#failure ??= toError(err);
  }

  async #finish(): Promise<RunSummary> {
    let recorded: { run: RunRecord; totals: ChunkTotals };
    try {
      recorded = await this.#recordEnd();
    } catch (err) {
      if (!isTransient(err)) throw err;
      // The server is still away: report the first cause with what this process saw; the run stays `running`, resumable.
      const failure = this.#failure ?? this.outage.givenUp(err);
      const m = this.#mine;
      const summary = {
        ...this.#summary({ ...this.run0, status: 'running', finishedAt: null }, m),
        warnings: [`the run's end could not be recorded (${toError(err).message}); the database still says \`running\`, and the counts are this process's`],
      };
      throw Object.assign(asTyped(failure), { summary });
    }
    const { run, totals } = recorded;
    this.#emitProgress(true, totals);
    const summary = this.#summary(run, totals);
    if (this.#failure !== undefined) throw Object.assign(asTyped(this.#failure), { summary });
    return summary;
  }

  /** Records how the run ended, as this process saw it, and reads the run's combined counts. */
  async #recordEnd(): Promise<{ run: RunRecord; totals: ChunkTotals }> {
    const telemetry = this.#telemetry();
    let run: RunRecord;
    if (this.#failure !== undefined) {
      await this.store.release(this.#runId, this.owner).catch(() => undefined);
      run = await this.store.endRun(this.#runId, 'failed', `${codeOf(this.#failure)}: ${this.#failure.message}`, telemetry);
    } else if (this.#cancelled) {
      await this.store.release(this.#runId, this.owner).catch(() => undefined);
      // Other live processes finish the run; alone, this one records it cancelled.
      const p = await this.store.progress(this.#runId, this.owner);
      const failure = cancelledBy(this.opts.signal);
      run = p.open > 0 && p.heldByOthers === 0 ? await this.store.endRun(this.#runId, 'cancelled', `${failure.code}: ${failure.message}`, telemetry) : await this.store.getRun(this.#runId);
      this.#failure = failure;
    } else {
      const totals = await this.store.chunkTotals(this.#runId);
      const tooMany = rejectRatioFailure(totals, this.opts.maxRejectRatio);
      if (tooMany !== undefined) {
        run = await this.store.endRun(this.#runId, 'failed', `${tooMany.code}: ${tooMany.message}`, telemetry);
        this.#failure = tooMany;
      } else {
        run = await this.store.completeRun(this.#runId, telemetry);
        if (run.status === 'failed') this.#failure = endedElsewhere(run);
      }
    }
    return { run, totals: await this.store.chunkTotals(this.#runId) };
  }

  /** The run's combined counts (every process's chunks), with this process's share of the work. */
  #summary(run: RunRecord, counts: ChunkTotals): RunSummary {
    // The committed chunks, not the counts on the run row: a run ended (failed) by another process may get
    // chunks from workers that were committing when it ended.
    return {
      runId: run.runId, status: run.status, linesRead: counts.linesRead, blankLines: counts.blankLines, inserted: counts.inserted,
      updated: counts.updated, unchanged: counts.unchanged, rejected: counts.rejected, chunks: counts.chunks,
      durationMs: Math.round(performance.now() - this.#started), ...runPace(run, counts),
      workers: this.opts.workers, chunkBytes: this.plan.chunkBytes, resumedChunks: counts.chunks - this.#mine.chunks,
    };
  }

  #telemetry(): Record<string, unknown> {
    const m = this.#mine;
    const elapsedMs = performance.now() - this.#started;
    return {
      backend: 'postgres', chunkBytes: this.plan.chunkBytes, workerThreads: this.opts.workers, elapsedMs: Math.round(elapsedMs),
      chunksThisProcess: m.chunks, retries: m.retries, conflicts: m.conflicts, deferred: m.deferred, outageWaits: this.outage.waits,
      poolUtilization: elapsedMs > 0 ? Math.round(((m.parseMs + m.writeMs) / (elapsedMs * this.opts.workers)) * 1000) / 1000 : 0,
      workers: this.#workers.toJSON(),
    };
  }
}

/**
 * The failure of a run another process ended: the cause it recorded in the
 * run's notes (`CODE: message`), so every process of a shared run reports
 * the same code (a reject-ratio failure is `ERR_TOO_MANY_REJECTS` on each).
 */
function endedElsewhere(run: RunRecord): BrandOrchestratorError {
  const m = /^(ERR_[A-Z_]+): ([\s\S]*)$/.exec(run.notes ?? '');
  if (m === null) return new StoreError('ERR_RUN_ACTIVE', `Run ${run.runId} was ended by another process: ${run.status}${run.notes ? ` (${run.notes})` : ''}`);
  return reviveError({ code: m[1] as string, message: `Run ${run.runId} was ended by another process: ${m[2] as string}` });
}

function codeOf(e: Error): string {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : 'ERR_INTERNAL';
}

function asTyped(e: Error): BrandOrchestratorError {
  return e instanceof BrandOrchestratorError ? e : new BrandOrchestratorError('ERR_INTERNAL', e.message, { cause: e });
}
