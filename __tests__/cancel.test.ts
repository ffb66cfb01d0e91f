import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError } from '../src/errors';
import { runPipeline } from '../src/backend';
import type { RunPipelineOptions } from '../src/pipeline';
import { StateStore } from '../src/sqlite';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
let input: string;
beforeEach(() => {
  t = tempDir('bo-cancel-');
  input = join(t.dir, 'feed.ndjson');
  writeFileSync(input, `${mixedFeed(2000).lines.join('\n')}\n`);
});
afterEach(() => t.cleanup());

/** A run on 100-line chunks that calls `abort` once 2 chunks are committed; resolves with what it rejected with. */
async function cancelledRun(abort: (ac: AbortController) => void, more: Partial<RunPipelineOptions> = {}): Promise<CancelledError> {
  const ac = new AbortController();
  const err = await runPipeline({
    input, dbPath: t.db, workers: 2, chunkSize: 100, signal: ac.signal, progressIntervalMs: 0,
    onProgress: (p) => { if (p.chunksDone >= 2 && !ac.signal.aborted) abort(ac); }, ...more,
  }).then(() => undefined, (e: unknown) => e);
  if (!(err instanceof CancelledError)) throw new Error(`expected a CancelledError, got ${String(err)}`);
  return err;
}

function notesOf(runId: string): string | null {
  using store = StateStore.open(t.db, { readonly: true });
  return store.getRun(runId).notes;
}

describe('runPipeline({signal})', () => {
  it('rejects an already-aborted signal before opening the input or the database', async () => {
    const reason = new Error('shutting down');
    const err = await runPipeline({ input: join(t.dir, 'missing.ndjson'), dbPath: t.db, signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ERR_CANCELLED', message: 'The run was not started: its signal was already aborted: shutting down' });
    expect((err as CancelledError).cause).toBe(reason);
    expect((err as CancelledError).summary).toBeUndefined();
    expect(existsSync(t.db)).toBe(false); // and the missing input was not even looked at
  });

  it('writes no run row for an already-aborted signal on an existing database', async () => {
    StateStore.open(t.db).close();
    await expect(runPipeline({ input, dbPath: t.db, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    using store = StateStore.open(t.db, { readonly: true });
    expect(store.listRuns()).toEqual([]);
  });

  it('rejects without a summary or a run row when aborted while another connection holds the write lock', async () => {
    StateStore.open(t.db).close();
    const holder = new Database(t.db);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const ac = new AbortController();
      const run = runPipeline({ input, dbPath: t.db, signal: ac.signal, maxBusyWaitMs: 60_000 });
      ac.abort('operator');
      const err = await run.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CancelledError);
      expect(err).toMatchObject({ name: 'AbortError', code: 'ERR_CANCELLED', cause: 'operator', message: expect.stringMatching(/cancelled while waiting for the database lock/) as unknown });
      expect((err as CancelledError).summary).toBeUndefined();
    } finally {
      holder.exec('COMMIT');
      holder.close();
    }
    using store = StateStore.open(t.db, { readonly: true });
    expect(store.listRuns()).toEqual([]);
  });

  it('rejects with a summary of the committed chunks, and the run is recorded cancelled', async () => {
    const err = await cancelledRun((ac) => ac.abort());
    const s = err.summary;
    if (s === undefined) throw new Error('a cancelled run must carry its summary');
    expect(s.status).toBe('cancelled');
    expect(s.linesRead % 100).toBe(0);
    expect(s.linesRead).toBeLessThan(2000);
    using store = StateStore.open(t.db, { readonly: true });
    expect(store.getRun(s.runId)).toMatchObject({ status: 'cancelled', linesRead: s.linesRead, inserted: s.inserted });
    expect(store.countItems()).toBe(s.inserted);
  });

  it.each([
    ['a string', 'nightly window closed', 'ERR_CANCELLED: The run was cancelled: nightly window closed'],
    ['an Error', new Error('disk maintenance'), 'ERR_CANCELLED: The run was cancelled: disk maintenance'],
    ['a named error', new RangeError('too late'), 'ERR_CANCELLED: The run was cancelled: RangeError: too late'],
    ['a plain object', { by: 'operator' }, 'ERR_CANCELLED: The run was cancelled: {"by":"operator"}'],
    ['nothing (the default reason)', undefined, 'ERR_CANCELLED: The run was cancelled'],
  ])('stores the signal reason given as %s in the run notes and keeps it as the cause', async (_kind, reason, notes) => {
    const err = await cancelledRun((ac) => (reason === undefined ? ac.abort() : ac.abort(reason)));
    expect(notesOf(err.summary!.runId)).toBe(notes);
    expect(`ERR_CANCELLED: ${err.message}`).toBe(notes);
    if (reason === undefined) expect((err.cause as DOMException).name).toBe('AbortError');
    else expect(err.cause).toBe(reason);
  });

  it('cuts a very long reason in the notes', async () => {
    const err = await cancelledRun((ac) => ac.abort('x'.repeat(10_000)));
    expect(notesOf(err.summary!.runId)).toBe(`ERR_CANCELLED: The run was cancelled: ${'x'.repeat(500)}…`);
  });

  it('lets the cancelled run be resumed from its summary to a complete ingest', async () => {
    const err = await cancelledRun((ac) => ac.abort());
    const resumed = await runPipeline({ input, dbPath: t.db, workers: 2, resume: err.summary!.runId });
    expect(resumed).toMatchObject({ runId: err.summary!.runId, status: 'completed', linesRead: 2000, inserted: 2000 });
    expect(resumed.resumedChunks).toBe(err.summary!.chunks);
  });
});
