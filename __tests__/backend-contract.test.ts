/**
 * The behaviour both backends promise, with the same assertions on each
 * (issue "one pipeline, two backends"): the last line of an item wins and an
 * item keeps the date of the first line that delivered it; the counters
 * reconcile; every bad line is a reject with its line number; a re-ingest
 * inserts nothing; a failed run resumed, and a run killed -9 and
 * resumed, end as one clean ingest; a resume on a changed feed is refused.
 * Only how a test makes a run stop differs: the SQLite worker parks at a
 * chunk through the fault fixture; on PostgreSQL the test holds a row lock
 * that a chunk's merge waits for. Both are events, not timing.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { generateLines } from '../src/gen/generate';
import { runPipeline } from '../src/backend';
import type { PipelineFailure, RunPipelineOptions, RunSummary } from '../src/pipeline';
import { withReadStore } from '../src/backend/open-read-store';
import { parseDbTarget } from '../src/store/target';
import { CLI, cliEnv } from './helpers/cli';
import { startFaultyCli } from './helpers/faults';
import { scratchDb, until, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(180_000);

const tmp = tempDir('bo-contract-');
const scratch: ScratchDb[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => d.drop()));
  tmp.cleanup();
});

interface Backend {
  name: string;
  /** A new, empty database: its `--db` value. */
  fresh(): Promise<string>;
  /** Options that cut a small feed into several chunks. */
  chunking: Pick<RunPipelineOptions, 'chunkSize' | 'maxChunkBytes'>;
  chunkFlags: string[];
  /** The chunk indexes run `runId` has committed. */
  committed(db: string, runId: string): Promise<number[]>;
  /**
   * Starts `ingest` with `args` on `db` and stops it for good (SIGKILL) once
   * some but not all chunks are committed, and the next one is under way.
   */
  killMidRun(db: string, args: string[]): Promise<void>;
}

let n = 0;
const sqlite: Backend = {
  name: 'SQLite',
  fresh: () => Promise.resolve(join(tmp.dir, `db-${++n}.sqlite`)),
  chunking: { chunkSize: 250 },
  chunkFlags: ['--chunk-size', '250'],
  committed: (db, runId) => {
    const d = new Database(db, { fileMustExist: true });
    try {
      return Promise.resolve(d.prepare('SELECT chunk_index FROM run_chunks WHERE run_id = ? ORDER BY chunk_index').pluck().all(runId) as number[]);
    } finally {
      d.close();
    }
  },
  killMidRun: async (db, args) => {
    // One worker, parked before reading chunk 3: chunks 0-2 commit, nothing after.
    const run = startFaultyCli([...args, '--workers', '1'], db, { chunkIndex: 3, kind: 'park' }, tmp.dir);
    await run.parked(3);
    run.child.kill('SIGKILL');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
  },
};

const postgres: Backend = {
  name: 'PostgreSQL',
  fresh: async () => {
    const d = await scratchDb('bo_contract');
    scratch.push(d);
    return d.url;
  },
  chunking: { maxChunkBytes: 64 * 1024 },
  chunkFlags: ['--chunk-bytes', String(64 * 1024)],
  committed: async (db, runId) => {
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    try {
      const { rows } = await c.query<{ i: number }>("SELECT chunk_index AS i FROM run_chunks WHERE run_id = $1 AND state = 'done' ORDER BY chunk_index", [runId]);
      return rows.map((r) => r.i);
    } finally {
      await c.end();
    }
  },
  killMidRun: async (db, args) => {
    // The test locks the stored row of an item the feed delivers in a later chunk: that chunk's merge waits for it.
    const held = lastChunkItem();
    const seed = join(tmp.dir, `seed-${++n}.ndjson`);
    writeFileSync(seed, `${JSON.stringify({ ...(JSON.parse(held.line) as object), title: 'seeded by an earlier run' })}\n`);
    await runPipeline({ input: seed, db, workers: 1 });
    const lock = new pg.Client({ connectionString: db });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('SELECT 1 FROM intel_items WHERE item_id = $1 FOR UPDATE', [held.itemId]);
      const child = spawn(process.execPath, [CLI, ...args, '--workers', '1', '--lease-ms', '1000'], { env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      let ended = false;
      const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => { ended = true; res(signal); }));
      const name = new URL(db).pathname.slice(1);
      // Watched from another connection: inside the locking transaction, pg_stat_activity is a snapshot.
      await until(async () => ended || (await scratch.find((d) => d.url === db)?.query(
        "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", [name]) ?? []).length > 0, 'a chunk to wait for the held row');
      if (ended) throw new Error(`the run ended before a chunk waited for the held row: ${stderr}`);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end();
    }
  },
};

/**
 * 3,000 generated lines (2% bad, some blank ones, repeated ids) each with a
 * `created_at`; then 100 ids again with other content and 100 again with
 * only another `created_at`, in later chunks.
 */
function feedLines(): string[] {
  const base = [...generateLines({ count: 3000, badRatio: 0.02, duplicateRatio: 0.05, seed: 23 })].map((l, i) => {
    if (i % 700 === 350) return '';
    const o = parsed(l);
    if (o === undefined) return l;
    return JSON.stringify({ ...o, created_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString() });
  });
  const valid = base.map(parsed).filter((o): o is Record<string, unknown> => o !== undefined && typeof o.title === 'string');
  const revised = valid.slice(0, 100).map((o) => JSON.stringify({ ...o, title: `${String(o.title)} (revised)`, created_at: '2027-06-01T00:00:00.000Z' }));
  const redated = valid.slice(100, 200).map((o) => JSON.stringify({ ...o, created_at: '2027-07-01T00:00:00.000Z' }));
  return [...base, ...revised, ...redated];
}

function parsed(line: string): Record<string, unknown> | undefined {
  try {
    const o = JSON.parse(line) as unknown;
    return o !== null && typeof o === 'object' && !Array.isArray(o) && typeof (o as { item_id?: unknown }).item_id === 'string' ? o as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

const lines = feedLines();
const feed = join(tmp.dir, 'feed.ndjson');
writeFileSync(feed, `${lines.join('\n')}\n`);

/** An item delivered once, near the end of the feed: its chunk comes after the first ones. */
function lastChunkItem(): { itemId: string; line: string } {
  const counts = new Map<string, number>();
  for (const l of lines) { const id = parsed(l)?.item_id as string | undefined; if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1); }
  for (let i = 2900; i > 0; i--) {
    const o = parsed(lines[i] as string);
    if (o !== undefined && typeof o.title === 'string' && counts.get(o.item_id as string) === 1) return { itemId: o.item_id as string, line: lines[i] as string };
  }
  throw new Error('no item delivered once');
}

interface Outcome { items: unknown[]; rejects: unknown[] }

/** Every column of every item but `updatedAt` and `runId`, and the run's rejects. */
async function outcome(db: string, runId: string): Promise<Outcome> {
  return withReadStore(parseDbTarget(db, 'db'), async (store) => {
    const items: Record<string, unknown>[] = [];
    for await (const i of store.iterateIntelItemsForRun(runId)) items.push({ ...i, updatedAt: undefined, runId: undefined, createdAt: new Date(i.createdAt).toISOString() });
    items.sort((a, b) => ((a.itemId as string) < (b.itemId as string) ? -1 : 1));
    const rejects: unknown[] = [];
    for await (const r of store.iterateRejects(runId)) rejects.push(r);
    return { items, rejects };
  });
}

async function failure(p: Promise<RunSummary>): Promise<PipelineFailure> {
  try {
    await p;
  } catch (err) {
    return err as PipelineFailure;
  }
  throw new Error('expected the run to fail');
}

const counts = (s: RunSummary) => ({ linesRead: s.linesRead, blankLines: s.blankLines, inserted: s.inserted, updated: s.updated, unchanged: s.unchanged, rejected: s.rejected });

describe.each([sqlite, postgres])('$name', (b) => {
  let clean: { summary: RunSummary; outcome: Outcome };
  beforeAll(async () => {
    const db = await b.fresh();
    const summary = await runPipeline({ input: feed, db, runId: 'clean', workers: 2, ...b.chunking });
    clean = { summary, outcome: await outcome(db, 'clean') };
  });

  it('the last line of an item wins; an item new in the run keeps the date of the first line that delivered it', async () => {
    const db = await b.fresh();
    const item = (id: string, title: string, createdAt: string) => JSON.stringify({ item_id: id, item_type: 'article', title, summary: 's', created_at: createdAt });
    const four = join(tmp.dir, `four-${++n}.ndjson`);
    writeFileSync(four, `${[item('c1', 'first', '2026-01-01T00:00:00.000Z'), item('c2', 'same', '2026-02-01T00:00:00.000Z'),
      item('c1', 'second', '2026-03-01T00:00:00.000Z'), item('c2', 'same', '2026-04-01T00:00:00.000Z')].join('\n')}\n`);
    const s = await runPipeline({ input: four, db, runId: 'four', workers: 2 });
    expect(counts(s)).toEqual({ linesRead: 4, blankLines: 0, inserted: 2, updated: 1, unchanged: 1, rejected: 0 });
    const { items } = await outcome(db, 'four');
    expect(items).toMatchObject([
      { itemId: 'c1', title: 'second', createdAt: '2026-01-01T00:00:00.000Z' },
      { itemId: 'c2', title: 'same', createdAt: '2026-02-01T00:00:00.000Z' },
    ]);
  });

  it('counters reconcile, every bad line is a reject with its line number, and a re-ingest inserts nothing', async () => {
    const s = clean.summary;
    expect(s.linesRead).toBe(lines.length);
    expect(s.blankLines + s.inserted + s.updated + s.unchanged + s.rejected).toBe(s.linesRead);
    const bad = lines.flatMap((l, i) => (l !== '' && parsed(l) === undefined ? [i + 1] : []));
    const rejectedLines = (clean.outcome.rejects as { lineNo: number }[]).map((r) => r.lineNo);
    expect(rejectedLines).toEqual(expect.arrayContaining(bad));
    expect(s.rejected).toBe(rejectedLines.length);
    expect(s.blankLines).toBe(lines.filter((l) => l === '').length);
    const db = await b.fresh();
    await runPipeline({ input: feed, db, runId: 'once', ...b.chunking });
    const again = await runPipeline({ input: feed, db, runId: 'again', ...b.chunking });
    // Nothing is new; only an item the feed delivers more than once can change (its first line sets it back, a later one forward).
    expect(counts(again)).toMatchObject({ linesRead: s.linesRead, blankLines: s.blankLines, rejected: s.rejected, inserted: 0 });
    expect(again.updated + again.unchanged).toBe(s.inserted + s.updated + s.unchanged);
    const deliveries = new Map<string, number>();
    for (const l of lines) { const id = parsed(l)?.item_id as string | undefined; if (id !== undefined) deliveries.set(id, (deliveries.get(id) ?? 0) + 1); }
    const repeatedLines = [...deliveries.values()].filter((c) => c > 1).reduce((a, c) => a + c, 0);
    expect(again.updated).toBeGreaterThan(0);
    expect(again.updated).toBeLessThanOrEqual(repeatedLines);
  });

  it('a failed run, resumed, ends as one clean ingest', async () => {
    const db = await b.fresh();
    const e = await failure(runPipeline({ input: feed, db, runId: 'r', workers: 2, maxRejects: 10, ...b.chunking }));
    expect(e.code).toBe('ERR_TOO_MANY_REJECTS');
    expect(e.summary?.status).toBe('failed');
    const resumed = await runPipeline({ input: feed, db, resume: 'r', workers: 2, ...b.chunking });
    expect(counts(resumed)).toEqual(counts(clean.summary));
    expect(await outcome(db, 'r')).toEqual(clean.outcome);
  });

  it('a resume on a feed changed inside a committed chunk is ERR_INPUT_CHANGED, and changes nothing', async () => {
    const db = await b.fresh();
    const copy = join(tmp.dir, `changed-${++n}.ndjson`);
    writeFileSync(copy, readFileSync(feed));
    await failure(runPipeline({ input: copy, db, runId: 'r', workers: 1, maxRejects: 10, ...b.chunking }));
    const done = await b.committed(db, 'r');
    expect(done).toContain(0);
    const before = await outcome(db, 'r');
    // One byte inside chunk 0, same size: a title's first letter.
    const text = readFileSync(copy, 'latin1');
    const at = text.indexOf('"title":"') + '"title":"'.length;
    writeFileSync(copy, text.slice(0, at) + (text[at] === 'Q' ? 'R' : 'Q') + text.slice(at + 1), 'latin1');
    const e = await failure(runPipeline({ input: copy, db, resume: 'r', workers: 1, ...b.chunking }));
    expect(e.code).toBe('ERR_INPUT_CHANGED');
    expect((await outcome(db, 'r')).items).toEqual(before.items);
  });

  it('a run killed -9 mid-run, resumed, ends as one clean ingest', async () => {
    const db = await b.fresh();
    const args = ['ingest', feed, '--db', db, '--run-id', 'k', ...b.chunkFlags];
    await b.killMidRun(db, args);
    const done = await b.committed(db, 'k');
    expect(done.length).toBeGreaterThan(0);
    const total = clean.summary.chunks;
    expect(done.length).toBeLessThan(total);
    const resume = spawn(process.execPath, [CLI, 'ingest', feed, '--db', db, '--resume', 'k', '--json', '--workers', '2', ...b.chunkFlags], { env: cliEnv() });
    let out = '';
    resume.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    expect(await new Promise<number | null>((res) => resume.on('exit', res))).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ status: 'completed', lines_read: lines.length, rejected: clean.summary.rejected });
    expect(await b.committed(db, 'k')).toHaveLength(total);
    const after = await outcome(db, 'k');
    // On PostgreSQL the seeded item was stored by an earlier run: it keeps that run's date, as the rule says; the rest equals a clean ingest.
    expect(after.rejects).toEqual(clean.outcome.rejects);
    const seeded = lastChunkItem().itemId;
    const withoutSeeded = (o: Outcome) => (o.items as { itemId: string }[]).filter((i) => i.itemId !== seeded);
    expect(withoutSeeded(after)).toEqual(withoutSeeded(clean.outcome));
  });
});
