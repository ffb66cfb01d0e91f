import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import type { PipelineFailure } from '../src/pipeline';
import { StateStore } from '../src/sqlite';
import { mixedFeed, itemLine } from './helpers/lines';
import { isHandled, isParked, release, runWithFaults, waitUntil } from './helpers/faults';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-rel-'); });
afterEach(() => t.cleanup());

function feed(n: number, badEvery = 0, name = 'feed.ndjson'): string {
  const p = join(t.dir, name);
  writeFileSync(p, `${mixedFeed(n, badEvery).lines.join('\n')}\n`);
  return p;
}

function itemsDump(dbPath: string): unknown[] {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare('SELECT item_id, title, scores_json, decision, decision_reason FROM intel_items ORDER BY item_id').all();
  db.close();
  return rows;
}

async function failed(p: Promise<unknown>): Promise<PipelineFailure> {
  const e = await p.then(() => undefined, (err: unknown) => err as PipelineFailure);
  if (e === undefined) throw new Error('expected the run to fail');
  return e;
}

describe('runPipeline({resume})', () => {
  it('resumes a failed run: skips committed chunks, finishes the same run, same table as a clean ingest', async () => {
    const input = feed(1000, 37);
    const err = await failed(runWithFaults({
      input, dbPath: t.db, workers: 2, chunkSize: 100, runId: 'r', maxAttempts: 1,
      faultInjection: { chunkIndex: 6, kind: 'throw', failAttempts: 1 },
    }));
    expect(err.summary?.status).toBe('failed');
    const committedBefore = err.summary!.chunks;
    expect(committedBefore).toBe(6); // ordered commits: chunks 0-5 only
    const resumed = await runPipeline({ input, dbPath: t.db, workers: 2, resume: 'r', chunkSize: 7 /* ignored: the run's own wins */ });
    expect(resumed).toMatchObject({ runId: 'r', status: 'completed', chunks: 10, chunkSize: 100, resumedChunks: 6, linesRead: 1000 });
    const clean = join(t.dir, 'clean.sqlite');
    const once = await runPipeline({ input, dbPath: clean, workers: 1, chunkSize: 100 });
    expect(itemsDump(t.db)).toEqual(itemsDump(clean));
    const timeless = { runId: '', durationMs: 0, workingMs: 0, elapsedMs: 0, itemsPerSecond: 0, resumedChunks: 0, workers: 0 };
    expect({ ...resumed, ...timeless }).toEqual({ ...once, ...timeless });
    using store = StateStore.open(t.db);
    expect(store.getRun('r')).toMatchObject({ status: 'completed', linesRead: 1000 });
    using cleanStore = StateStore.open(clean);
    expect(store.listRejects('r')).toEqual(cleanStore.listRejects(once.runId));
    expect(store.listRejects('r')).toHaveLength(27);
  });

  it('refuses to resume on changed input, and refuses a completed run', async () => {
    const input = feed(400);
    await failed(runWithFaults({ input, dbPath: t.db, workers: 1, chunkSize: 100, runId: 'r', maxAttempts: 1, faultInjection: { chunkIndex: 2, kind: 'throw' } }));
    const changed = join(t.dir, 'changed.ndjson');
    const lines = mixedFeed(400).lines;
    lines[5] = itemLine('item-6', { title: 'edited' });
    writeFileSync(changed, `${lines.join('\n')}\n`);
    const e = await failed(runPipeline({ input: changed, dbPath: t.db, workers: 1, resume: 'r' }));
    expect(e.code).toBe('ERR_INPUT_CHANGED');
    expect(e.message).toMatch(/Chunk 0 \(lines 1-100\) no longer matches/);
    const done = await runPipeline({ input, dbPath: t.db, workers: 1, resume: 'r' });
    expect(done.status).toBe('completed');
    await expect(runPipeline({ input, dbPath: t.db, resume: 'r' })).rejects.toThrow(/already completed/);
    await expect(runPipeline({ input, dbPath: t.db, resume: 'nope' })).rejects.toMatchObject({ code: 'ERR_RUN_NOT_FOUND' });
  });
});

describe('items/s of a resumed run', () => {
  it('is the run\'s lines over its working time in the summary; progress and telemetry count only this process\'s lines', async () => {
    const lines = mixedFeed(400).lines;
    lines[399] = '[1]'; // a reject in the last chunk: past maxRejects 0 after every chunk has committed
    const input = join(t.dir, 'last-bad.ndjson');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const e = await failed(runPipeline({ input, dbPath: t.db, workers: 1, chunkSize: 100, runId: 'r', maxRejects: 0 }));
    expect(e.summary).toMatchObject({ status: 'failed', chunks: 4 });
    const progress: number[] = [];
    const s = await runPipeline({ input, dbPath: t.db, workers: 1, resume: 'r', progressIntervalMs: 0, onProgress: (p) => progress.push(p.itemsPerSecond) });
    expect(s).toMatchObject({ status: 'completed', linesRead: 400, resumedChunks: 4 });
    // The earlier attempt's working time is in the denominator: not 400 lines over this call's few milliseconds.
    expect(s.workingMs).toBeGreaterThan(s.durationMs);
    expect(s.itemsPerSecond).toBe(Math.round(((s.linesRead - s.blankLines) * 1000) / s.workingMs));
    expect(progress).toEqual([0]);
    using store = StateStore.open(t.db);
    expect(store.readTelemetry('r')).toMatchObject({ itemsPerSecond: 0 });
  });
});

describe('failure ordering', () => {
  it('settles when an earlier chunk fails after a later one already did (no chunk waits forever)', async () => {
    const input = feed(6000);
    const e = await failed(runWithFaults({
      input, dbPath: t.db, workers: 3, chunkSize: 2000, maxAttempts: 1,
      faultInjection: [{ chunkIndex: 2, kind: 'throw', failAttempts: 9 }, { chunkIndex: 0, kind: 'disk-full' }],
    }));
    expect(['ERR_WORKER', 'ERR_DB_FULL']).toContain(e.code);
    expect(e.summary).toMatchObject({ status: 'failed', chunks: 0, inserted: 0 });
  });

  it('still retries an earlier chunk after a later one failed the run: everything before the failure commits', async () => {
    const input = feed(6000);
    const e = await failed(runWithFaults({
      input, dbPath: t.db, workers: 3, chunkSize: 2000, maxAttempts: 3,
      // Chunk 2 spends its attempts at once; chunk 0's thread exits twice (slow: a new thread each time) first.
      faultInjection: [{ chunkIndex: 2, kind: 'throw', failAttempts: 9 }, { chunkIndex: 0, kind: 'exit', failAttempts: 2 }],
    }));
    expect(e.code).toBe('ERR_WORKER');
    expect(e.message).toContain('Chunk 2 ');
    expect(e.summary).toMatchObject({ status: 'failed', chunks: 2, inserted: 4000 });
  });

  it('past maxRejects commits exactly the same chunks whatever the worker count', async () => {
    const lines = mixedFeed(800).lines;
    lines[150] = '[1]'; // one reject, in chunk 1
    const input = join(t.dir, 'one-bad.ndjson');
    writeFileSync(input, `${lines.join('\n')}\n`);
    for (const workers of [1, 2, 4, 4, 4]) {
      const e = await failed(runPipeline({ input, dbPath: join(t.dir, `mr-${workers}-${Math.random()}.sqlite`), workers, chunkSize: 100, maxRejects: 0 }));
      expect(e.code).toBe('ERR_TOO_MANY_REJECTS');
      expect(e.summary).toMatchObject({ chunks: 2, inserted: 199, rejected: 1 });
    }
  });

  it('a resume counts the rejects already committed: past maxRejects it commits no further chunk', async () => {
    const lines = mixedFeed(800).lines;
    lines[150] = '[1]'; // one reject, in chunk 1
    const input = join(t.dir, 'one-bad.ndjson');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const first = await failed(runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 100, maxRejects: 0, runId: 'mr' }));
    expect(first.summary).toMatchObject({ chunks: 2, rejected: 1 });
    // A cron job that resumes with the same limit must not creep on a chunk per try.
    for (let i = 0; i < 2; i++) {
      const again = await failed(runPipeline({ input, dbPath: t.db, workers: 2, resume: 'mr', maxRejects: 0 }));
      expect(again.code).toBe('ERR_TOO_MANY_REJECTS');
      expect(again.summary).toMatchObject({ chunks: 2, inserted: 199, rejected: 1, resumedChunks: 2 });
    }
    const done = await runPipeline({ input, dbPath: t.db, workers: 2, resume: 'mr', maxRejects: 1 });
    expect(done).toMatchObject({ status: 'completed', chunks: 8, rejected: 1 });
  });

  it('stops at once on abort even when the input stream has not ended', async () => {
    const { Readable } = await import('node:stream');
    const lines = mixedFeed(300).lines;
    const endless = new Readable({ read() { /* pushes below, then never ends */ } });
    endless.push(`${lines.join('\n')}\n`);
    const ac = new AbortController();
    const e = await failed(runPipeline({
      input: endless, dbPath: t.db, workers: 2, chunkSize: 100, signal: ac.signal, progressIntervalMs: 0,
      onProgress: (p) => { if (p.chunksDone >= 3) ac.abort(); },
    }));
    expect(e).toMatchObject({ name: 'AbortError', code: 'ERR_CANCELLED' });
    expect(e.summary).toMatchObject({ status: 'cancelled', linesRead: 300, inserted: 300 });
    expect(endless.destroyed).toBe(true);
  });

  it('refuses to resume a run whose owner is still alive (its heartbeat is fresh)', async () => {
    using store = StateStore.open(t.db);
    store.startRun({ runId: 'live', runType: 'batch', settings: { chunkSize: 100 } }); // owned by this (living) process
    await expect(runPipeline({ input: feed(100), dbPath: t.db, resume: 'live' })).rejects.toMatchObject({
      code: 'ERR_RUN_ACTIVE', message: expect.stringMatching(/^Run live is still running: its owner \(pid \d+ on .+\) sent a heartbeat/),
    });
  });
});

describe('contention', () => {
  it('waits when opening a rollback-journal database that another connection holds exclusively, then runs', async () => {
    const holder = new Database(t.db);
    holder.pragma('journal_mode = DELETE');
    holder.exec('CREATE TABLE IF NOT EXISTS x (a); BEGIN EXCLUSIVE; INSERT INTO x VALUES (1)');
    setTimeout(() => { holder.exec('ROLLBACK'); holder.close(); }, 400);
    const s = await runPipeline({ input: feed(200), dbPath: t.db, workers: 1, chunkSize: 100 });
    expect(s).toMatchObject({ status: 'completed', inserted: 200 });
  });

  /** Another process takes an EXCLUSIVE lock on "go" (`locked` then resolves) and holds it until `release()`. */
  function locker(): { ready: Promise<void>; go: () => void; locked: Promise<void>; release: () => void; done: Promise<void> } {
    const script = `
      const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      process.stdout.write('ready\\n');
      let db;
      process.stdin.on('data', () => {
        if (db === undefined) {
          db = new Database(${JSON.stringify(t.db)});
          db.exec('BEGIN EXCLUSIVE');
          process.stdout.write('locked\\n');
        } else {
          db.exec('COMMIT');
          db.close();
          process.exit(0);
        }
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const seen = (word: string) => new Promise<void>((res) => {
      const check = () => { if (out.includes(word)) res(); };
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); check(); });
      check();
    });
    const done = new Promise<void>((res) => child.on('exit', () => res()));
    return { ready: seen('ready'), go: () => { child.stdin.write('go\n'); }, locked: seen('locked'), release: () => { child.stdin.write('release\n'); }, done };
  }

  it('waits for a lock held by another connection and completes', async () => {
    StateStore.open(t.db).close();
    const l = locker();
    const input = feed(2000);
    await l.ready;
    l.go();
    await l.locked; // the lock is held before the run starts writing
    const run = runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 500, busyTimeoutMs: 100, maxBusyWaitMs: 60_000 });
    // However late this timer fires, the run only waits longer: its wait is bounded by maxBusyWaitMs, not by this delay.
    setTimeout(() => l.release(), 300);
    await l.done;
    expect(await run).toMatchObject({ status: 'completed', inserted: 2000 });
  });

  it('fails with ERR_DB_BUSY when the lock outlasts maxBusyWaitMs, committed chunks intact', async () => {
    StateStore.open(t.db).close();
    const input = feed(8000);
    const l = locker();
    await l.ready;
    // The worker stops before chunk 2 until the other process holds the lock: chunks 0 and 1 are committed, chunk 2 meets the lock.
    const run = runWithFaults({
      input, dbPath: t.db, workers: 1, chunkSize: 200, busyTimeoutMs: 50, maxBusyWaitMs: 600, faultInjection: { chunkIndex: 2, kind: 'park' },
    });
    void run.catch(() => undefined);
    await waitUntil(() => isParked(t.db, 2), 'the worker to park at chunk 2');
    l.go();
    await l.locked;
    release(t.db, 2);
    // Released once the worker has given chunk 2 up, so the run can record its end.
    await waitUntil(() => isHandled(t.db, 2), 'the worker to give chunk 2 up');
    l.release();
    const e = await failed(run);
    await l.done;
    expect(e.code).toBe('ERR_DB_BUSY');
    expect(e.message).toMatch(/Chunk \d+ \(lines \d+-\d+\), committing: the database stayed locked/);
    using store = StateStore.open(t.db);
    expect(store.checkIntegrity()).toEqual([]);
    const committed = store.chunkTotals(e.summary!.runId);
    expect(committed.chunks).toBeGreaterThanOrEqual(2);
    expect(store.countItems()).toBe(committed.inserted);
    expect(committed.inserted % 200).toBe(0);
  });
});

describe('disk full', () => {
  it('fails with ERR_DB_FULL keeping committed chunks, and the run resumes once space is back', async () => {
    const input = feed(1000);
    const e = await failed(runWithFaults({ input, dbPath: t.db, workers: 2, chunkSize: 100, runId: 'full', faultInjection: { chunkIndex: 4, kind: 'disk-full' } }));
    expect(e.code).toBe('ERR_DB_FULL');
    expect(e.message).toMatch(/Chunk 4 \(lines 401-500\): the database or disk is full/);
    expect(e.summary).toMatchObject({ status: 'failed', chunks: 4, inserted: 400 });
    const s = await runPipeline({ input, dbPath: t.db, workers: 2, resume: 'full' });
    expect(s).toMatchObject({ status: 'completed', inserted: 1000, resumedChunks: 4 });
  });
});

describe('worker faults', () => {
  it('replaces a worker that exceeds its resourceLimits and retries the chunk', async () => {
    const input = feed(300);
    const s = await runWithFaults({
      input, dbPath: t.db, workers: 2, chunkSize: 100, workerResourceLimits: { maxOldGenerationSizeMb: 48 },
      faultInjection: { chunkIndex: 1, kind: 'oom' },
    });
    expect(s).toMatchObject({ status: 'completed', inserted: 300, chunks: 3 });
  });

  it('retries a chunk of a stream input from a kept copy, and of a file by re-reading it', async () => {
    const lines = mixedFeed(300).lines;
    const fromStream = await runWithFaults({
      input: lines, dbPath: join(t.dir, 's.sqlite'), workers: 2, chunkSize: 100, faultInjection: { chunkIndex: 1, kind: 'throw', failAttempts: 2 },
    });
    expect(fromStream).toMatchObject({ status: 'completed', inserted: 300 });
    const fromFile = await runWithFaults({
      input: feed(300), dbPath: join(t.dir, 'f.sqlite'), workers: 2, chunkSize: 100, faultInjection: { chunkIndex: 1, kind: 'throw', failAttempts: 2 },
    });
    expect(fromFile).toMatchObject({ status: 'completed', inserted: 300 });
  });

  it('keeps the pool healthy after a thrown error: later chunks of the run still commit', async () => {
    const input = feed(600);
    const s = await runWithFaults({ input, dbPath: t.db, workers: 2, chunkSize: 100, faultInjection: { chunkIndex: 0, kind: 'throw', failAttempts: 2 } });
    expect(s).toMatchObject({ status: 'completed', inserted: 600, chunks: 6 });
    using store = StateStore.open(t.db);
    expect((store.readTelemetry(s.runId) as { retries: number }).retries).toBe(2);
  });
});
