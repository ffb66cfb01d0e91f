/**
 * The spec's rule (section 2): a run's result equals applying its lines one
 * at a time in input order, whatever the worker count, the backend or the
 * number of processes joined to the run. Every column but `updated_at`,
 * every reject and every counter must be identical.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import type { RunSummary } from '../src/pipeline';
import { generateLines } from '../src/gen/generate';
import { withReadStore } from '../src/backend/open-read-store';
import { parseDbTarget } from '../src/store/target';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(240_000);

const tmp = tempDir('bo-equal-');
const dbs: ScratchDb[] = [];
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  tmp.cleanup();
});

/**
 * 4,000 generated lines, every valid one with a `created_at` (a default is
 * the time of ingest, which no two runs share), then each of 300 ids
 * delivered again later with other content, and 300 again differing only in
 * `created_at`: repeated ids fall in other chunks.
 */
function feedLines(): string[] {
  const base = [...generateLines({ count: 4000, badRatio: 0.02, duplicateRatio: 0.05, seed: 11 })].map((l, i) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (o === null || typeof o !== 'object' || Array.isArray(o) || typeof o.item_id !== 'string') return l;
      o.created_at ??= new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
      return JSON.stringify(o);
    } catch {
      return l;
    }
  });
  const valid = base.map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return undefined; } })
    .filter((o): o is Record<string, unknown> => o !== undefined && o !== null && typeof o === 'object' && typeof o.item_id === 'string' && typeof o.title === 'string');
  const again = valid.slice(0, 300).map((o) => JSON.stringify({ ...o, title: `${String(o.title)} (revised)`, created_at: '2027-06-01T00:00:00.000Z' }));
  const onlyDate = valid.slice(300, 600).map((o) => JSON.stringify({ ...o, created_at: '2027-07-01T00:00:00.000Z' }));
  return [...base.slice(0, 2000), ...again.slice(0, 150), ...base.slice(2000), ...again.slice(150), ...onlyDate];
}

const feed = join(tmp.dir, 'feed.ndjson');
writeFileSync(feed, `${feedLines().join('\n')}\n`);

interface Outcome {
  counts: Pick<RunSummary, 'linesRead' | 'blankLines' | 'inserted' | 'updated' | 'unchanged' | 'rejected'>;
  items: unknown[];
  rejects: unknown[];
}

async function outcome(db: string, summary: RunSummary): Promise<Outcome> {
  const { linesRead, blankLines, inserted, updated, unchanged, rejected } = summary;
  return withReadStore(parseDbTarget(db, 'db'), async (store) => {
    const items: unknown[] = [];
    for await (const i of store.iterateIntelItemsForRun(summary.runId)) items.push({ ...i, updatedAt: undefined, createdAt: new Date(i.createdAt).toISOString() });
    items.sort((a, b) => ((a as { itemId: string }).itemId < (b as { itemId: string }).itemId ? -1 : 1));
    const rejects: unknown[] = [];
    for await (const r of store.iterateRejects(summary.runId)) rejects.push(r);
    return { counts: { linesRead, blankLines, inserted, updated, unchanged, rejected }, items, rejects };
  });
}

async function pgDb(): Promise<string> {
  const d = await scratchDb();
  dbs.push(d);
  return d.url;
}

let reference: Outcome;

beforeAll(async () => {
  const db = join(tmp.dir, 'reference.sqlite');
  reference = await outcome(db, await runPipeline({ input: feed, db, runId: 'nightly', workers: 1, chunkSize: 200 }));
  expect(reference.counts.updated).toBeGreaterThan(300);
  expect(reference.rejects.length).toBeGreaterThan(0);
});

test.each([2, 4])('SQLite with %i workers leaves what one worker leaves', async (workers) => {
  const db = join(tmp.dir, `w${workers}.sqlite`);
  expect(await outcome(db, await runPipeline({ input: feed, db, runId: 'nightly', workers, chunkSize: 200 }))).toEqual(reference);
});

test.each([1, 2, 4])('PostgreSQL with %i workers leaves what SQLite leaves', async (workers) => {
  const db = await pgDb();
  expect(await outcome(db, await runPipeline({ input: feed, db, runId: 'nightly', workers, maxChunkBytes: 32 * 1024 }))).toEqual(reference);
});

test.each([2, 3])('PostgreSQL with %i joined processes leaves what SQLite leaves', async (processes) => {
  const db = await pgDb();
  const runs = Array.from({ length: processes }, () => runPipeline({ input: feed, db, runId: 'nightly', join: true, workers: 2, maxChunkBytes: 32 * 1024 }));
  const summaries = await Promise.all(runs);
  for (const s of summaries) expect(await outcome(db, s)).toEqual(reference);
});

test('every process of a shared run reports a reject-ratio failure as ERR_TOO_MANY_REJECTS, and no summary shows a chunkSize', async () => {
  const db = await pgDb();
  const csv = join(tmp.dir, 'feed.csv');
  writeFileSync(csv, `${Array.from({ length: 3000 }, (_, i) => `${i},title ${i},${'x'.repeat(40)}`).join('\n')}\n`);
  const outcomes = await Promise.all([0, 1].map(() => runPipeline({ input: csv, db, runId: 'csv', join: true, workers: 1, maxChunkBytes: 16 * 1024 })
    .then(() => undefined, (err: unknown) => err as { code: string; summary: RunSummary })));
  for (const e of outcomes) {
    expect(e).toMatchObject({ code: 'ERR_TOO_MANY_REJECTS', summary: { status: 'failed', rejected: 3000 } });
    expect(e?.summary.chunkSize).toBeUndefined();
    expect(e?.summary.chunkBytes).toBe(16 * 1024);
  }
});
