/**
 * A run into PostgreSQL, as the one scheduler sees it. The chunk source
 * claims chunks of the run's plan (`FOR UPDATE SKIP LOCKED`, under a lease
 * the run record renews) and reads each by seeking in the file; a worker
 * commits it on its own connection with its done-mark. Several processes,
 * on several machines, may work on one run (`join`): each claims what is
 * left, takes over the chunks of a process whose lease ran out, and the
 * first to see every chunk done records the run's end. Each prints the
 * run's combined summary.
 */
import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { BrandOrchestratorError, InputError, InvalidOptionError, StoreError, reviveError, toError } from '../errors';
import type { ResolvedPipelineOptions } from '../pipeline/options';
import type { Outage } from '../pipeline/outage';
import { runPace } from '../pipeline/run-pace';
import { Scheduler, type ChunkSource, type NextChunk, type ReadChunk, type RunRecorder, type SchedulerEnd } from '../pipeline/scheduler';
import type { RunStats } from '../pipeline/stats';
import type { ProgressEvent, RunSummary } from '../pipeline/types';
import type { PgWorkerInit } from '../protocol/messages';
import type { LineCounts, RunRecord } from '../store/types';
import { PgStore, newOwnerToken, type ChunkPlan, type ChunkTotals, type PgTarget } from './pg-store';
import { openInput, planFile, readPlannedChunk } from './plan';
import { isTransient, pgOutage } from './outage';

/** Opens the run (new, resumed or joined) in the PostgreSQL database `opts.db` names and runs this process's part of it. */
export async function runShared(opts: ResolvedPipelineOptions, workerFile: string): Promise<RunSummary> {
  if (opts.db.kind !== 'postgres') throw new InvalidOptionError('runShared needs a postgres:// target');
  const target: PgTarget = { url: opts.db.url, label: opts.db.label };
  if (typeof opts.input !== 'string') {
    throw new InvalidOptionError('A PostgreSQL run reads a plain file (each process seeks to its chunks): give `input` as a file path; stdin, streams and iterables are for SQLite');
  }
  const plan = await planFile(opts.input, opts.maxChunkBytes);
  const fh = await openInput(opts.input);
  const outage = pgOutage(opts.maxOutageMs);
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
    const shared: SharedRun = { opts, store, fh, runId, runSeq: prep.runSeq, plan: prep.plan, owner, outage };
    const record = new SharedRunRecord(shared, prep.run, workerFile);
    if (prep.run.status === 'completed') return record.summary(prep.run, await store.chunkTotals(runId), 0, 0); // joined a run that is already done
    return await new Scheduler(opts, new ClaimSource(shared), record).run();
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

/** What the chunk source and the run record of one process share. */
interface SharedRun {
  opts: ResolvedPipelineOptions;
  store: PgStore;
  fh: FileHandle;
  runId: string;
  runSeq: number;
  plan: ChunkPlan;
  owner: string;
  outage: Outage;
}

/** A claimed chunk: its place in the plan, and where it was found to lie when last read. */
interface Claimed {
  index: number;
  where?: string;
}

/** How often a scheduler left with only held-back chunks looks whether one is due. */
const PARK_POLL_MS = 100;
/** How often progress reads the run's committed chunks (other processes' too). */
const RUN_WIDE_REFRESH_MS = 2000;

/**
 * Leased claims on the run's plan. A chunk deferred by its worker (it gave up
 * waiting for an earlier chunk with the same items) stays claimed by this
 * process but out of the pool, so the workers go on with other chunks (or
 * claim a dead process's) rather than all wait for the same one; it is
 * handed out again once a chunk has committed here since, or after the
 * order wait.
 */
class ClaimSource implements ChunkSource<Claimed> {
  readonly ordered = false;
  readonly #r: SharedRun;
  readonly #claimed: number[] = [];
  readonly #parked = new Map<number, { at: number; commits: number }>();
  /** The chunks this process holds: claimed and not yet committed or given back (in flight, set aside, or claimed and not handed out). */
  readonly #held = new Set<number>();
  #commits = 0;

  constructor(r: SharedRun) {
    this.#r = r;
  }

  async next(inFlight: number, free: number): Promise<NextChunk<Claimed>> {
    const r = this.#r;
    const due = this.#dueParked() ?? this.#claimed.shift();
    if (due !== undefined) return { kind: 'chunk', chunk: { index: due } };
    const claimed = await r.store.claimChunks(r.runId, r.owner, free, r.opts.leaseMs, [...this.#held]);
    for (const i of claimed) this.#held.add(i);
    const [first, ...rest] = claimed;
    if (first !== undefined) {
      this.#claimed.push(...rest);
      return { kind: 'chunk', chunk: { index: first } };
    }
    if (inFlight > 0) return { kind: 'idle', ms: 0 };
    // Only held-back chunks are left here: try them again once due.
    if (this.#parked.size > 0) return { kind: 'idle', ms: PARK_POLL_MS };
    // Nothing to claim and nothing running here: done, or other processes hold the rest.
    const run = await r.store.getRun(r.runId);
    if (run.status !== 'running') {
      if (run.status !== 'completed') throw endedElsewhere(run);
      return { kind: 'end' };
    }
    const p = await r.store.progress(r.runId, r.owner);
    if (p.open === 0) return { kind: 'end' };
    // Wait for the others to finish, or for a dead one's lease to run out.
    return { kind: 'idle', ms: Math.min(500, Math.max(50, p.nextLeaseEndMs)) };
  }

  #dueParked(): number | undefined {
    const now = performance.now();
    for (const [i, p] of this.#parked) {
      if (this.#commits > p.commits || now - p.at >= orderWaitMs(this.#r.opts)) {
        this.#parked.delete(i);
        return i;
      }
    }
    return undefined;
  }

  /** Read again for every try: the transfer detaches the buffer. */
  async read(chunk: Claimed): Promise<ReadChunk> {
    const { bytes, ...where } = await readPlannedChunk(this.#r.fh, this.#r.plan, chunk.index, this.#r.opts.maxLineBytes);
    chunk.where = `bytes ${where.byteStart}-${where.byteEnd}`;
    return { meta: { ...where, firstLineNo: 1 }, bytes };
  }

  describe(chunk: Claimed): string {
    return chunk.where ?? `chunk ${chunk.index}`;
  }

  reuse(): void {
    // Each try reads its own buffer.
  }

  async dropped(chunk: Claimed): Promise<void> {
    await this.#r.store.release(this.#r.runId, this.#r.owner, [chunk.index]);
    this.#held.delete(chunk.index);
  }

  deferred(chunk: Claimed): void {
    this.#parked.set(chunk.index, { at: performance.now(), commits: this.#commits });
  }

  committed(chunk: Claimed): void {
    this.#commits++;
    this.#held.delete(chunk.index);
  }

  stop(): void {
    // Nothing pending for long: a claim is one statement.
  }

  finished(): void {
    // Every process checked the committed chunks it resumed or joined against the input before it started.
  }

  close(): void {
    // The file handle and the store are closed by runShared.
  }

  totalBytes(): number {
    return this.#r.plan.inputBytes;
  }
}

function orderWaitMs(opts: ResolvedPipelineOptions): number {
  return Math.max(1000, opts.leaseMs / 3);
}

/**
 * The `runs` row and the chunk leases of a shared run: renewed while this
 * process works; its rejects and counts are the whole run's (every
 * process's committed chunks); the end is recorded by whichever process
 * sees every chunk done, or by one that fails.
 */
class SharedRunRecord implements RunRecorder {
  readonly runId: string;
  readonly runSeq: number;
  readonly outage: Outage;
  readonly heartbeatMs: number;
  readonly #r: SharedRun;
  readonly #run0: RunRecord;
  /** The run's committed chunks and bytes (every process's), read every few seconds for progress. */
  #runWide = { chunks: 0, bytes: 0, at: 0 };
  /** The run's totals once its end is recorded: the last progress event shows them. */
  #final: ChunkTotals | undefined;

  constructor(r: SharedRun, run0: RunRecord, readonly workerFile: string) {
    this.#r = r;
    this.#run0 = run0;
    this.runId = r.runId;
    this.runSeq = r.runSeq;
    this.outage = r.outage;
    this.heartbeatMs = Math.max(100, r.opts.leaseMs / 3);
  }

  workerInit(): PgWorkerInit {
    const { opts, store } = this.#r;
    return {
      backend: 'postgres', url: store.url, label: store.label, maxLineBytes: opts.maxLineBytes, parseAll: opts.parseAll, config: opts.config,
      orderWaitMs: orderWaitMs(opts), leaseMs: opts.leaseMs,
    };
  }

  beat(): Promise<void> {
    return this.#r.store.renew(this.runId, this.#r.owner, this.#r.opts.leaseMs);
  }

  async rejected(): Promise<number> {
    return (await this.#r.store.chunkTotals(this.runId)).rejected;
  }

  totals(): Promise<LineCounts> {
    return this.#r.store.chunkTotals(this.runId);
  }

  /**
   * Line counts are this process's, except in the last event (the run's
   * totals, as in its summary); chunks and bytes done are the whole run's,
   * so that the share of the file done is right when several processes
   * share the run. The rate is this process's.
   */
  progress(e: ProgressEvent): ProgressEvent {
    const now = performance.now();
    if (this.#final === undefined && now - this.#runWide.at > RUN_WIDE_REFRESH_MS) {
      this.#runWide.at = now;
      this.#r.store.chunkTotals(this.runId).then((t) => {
        this.#runWide = { chunks: Math.max(this.#runWide.chunks, t.chunks), bytes: Math.max(this.#runWide.bytes, t.bytes), at: this.#runWide.at };
      }, () => undefined);
    }
    const f = this.#final;
    const counts = f === undefined ? {} : {
      linesRead: f.linesRead, blankLines: f.blankLines, inserted: f.inserted, updated: f.updated, unchanged: f.unchanged, rejected: f.rejected,
    };
    return {
      ...e, ...counts, chunksDone: Math.max(e.chunksDone, this.#runWide.chunks, f?.chunks ?? 0), bytesDone: Math.max(e.bytesDone, this.#runWide.bytes, f?.bytes ?? 0),
      totalBytes: this.#r.plan.inputBytes,
    };
  }

  telemetry(): Record<string, unknown> {
    return { backend: 'postgres', chunkBytes: this.#r.plan.chunkBytes };
  }

  async finish(end: SchedulerEnd): Promise<RunSummary> {
    let recorded: { run: RunRecord; totals: ChunkTotals; failure: Error | undefined };
    const telemetry = { ...end.telemetry, chunksThisProcess: end.stats.chunksDone };
    try {
      recorded = await this.#recordEnd(end, telemetry);
    } catch (err) {
      if (!isTransient(err)) throw err;
      // The server is still away: report the first cause with what this process saw; the run stays `running`, resumable.
      const failure = end.failure ?? this.outage.givenUp(err);
      const s = end.stats;
      const summary = {
        ...this.summary({ ...this.#run0, status: 'running', finishedAt: null }, { ...pickCounts(s), chunks: s.chunksDone }, s.elapsedMs, s.chunksDone),
        warnings: [`the run's end could not be recorded (${toError(err).message}); the database still says \`running\`, and the counts are this process's`],
      };
      throw Object.assign(asTyped(failure), { summary });
    }
    const { run, totals, failure } = recorded;
    this.#final = totals;
    const summary = this.summary(run, totals, end.stats.elapsedMs, end.stats.chunksDone);
    if (failure !== undefined) throw Object.assign(asTyped(failure), { summary });
    return summary;
  }

  /** Records how the run ended, as this process saw it, and reads the run's combined counts. */
  async #recordEnd(end: SchedulerEnd, telemetry: Record<string, unknown>): Promise<{ run: RunRecord; totals: ChunkTotals; failure: Error | undefined }> {
    const { store, owner } = this.#r;
    let run: RunRecord;
    let failure = end.failure;
    if (end.status === 'failed' && failure !== undefined) {
      await store.release(this.runId, owner).catch(() => undefined);
      run = await store.endRun(this.runId, 'failed', `${codeOf(failure)}: ${failure.message}`, telemetry);
    } else if (end.status === 'cancelled' && failure !== undefined) {
      await store.release(this.runId, owner).catch(() => undefined);
      // Other live processes finish the run; alone, this one records it cancelled.
      const p = await store.progress(this.runId, owner);
      run = p.open > 0 && p.heldByOthers === 0 ? await store.endRun(this.runId, 'cancelled', `${codeOf(failure)}: ${failure.message}`, telemetry) : await store.getRun(this.runId);
    } else {
      run = await store.completeRun(this.runId, telemetry);
      if (run.status === 'failed') failure = endedElsewhere(run);
    }
    return { run, totals: await store.chunkTotals(this.runId), failure };
  }

  /** The run's combined counts (every process's chunks), with this process's share of the work. */
  summary(run: RunRecord, counts: LineCounts & { chunks: number }, elapsedMs: number, chunksHere: number): RunSummary {
    // The committed chunks, not the counts on the run row: a run ended (failed) by another process may get
    // chunks from workers that were committing when it ended.
    return {
      runId: run.runId, status: run.status, linesRead: counts.linesRead, blankLines: counts.blankLines, inserted: counts.inserted,
      updated: counts.updated, unchanged: counts.unchanged, rejected: counts.rejected, chunks: counts.chunks,
      durationMs: Math.round(elapsedMs), ...runPace(run, counts),
      workers: this.#r.opts.workers, chunkBytes: this.#r.plan.chunkBytes, resumedChunks: counts.chunks - chunksHere,
    };
  }
}

function pickCounts(s: RunStats): LineCounts {
  return { linesRead: s.linesRead, blankLines: s.blankLines, inserted: s.inserted, updated: s.updated, unchanged: s.unchanged, rejected: s.rejected };
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
