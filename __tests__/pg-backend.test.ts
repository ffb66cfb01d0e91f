/**
 * The PostgreSQL backend against the real local server: the same feed gives
 * the same items, scores, decisions, rejects and counts as SQLite.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import { generateLines } from '../src/gen/generate';
import { PgStore } from '../src/pg/pg-store';
import { StateStore } from '../src/sqlite';
import type { IntelItem, RejectRecord } from '../src/store/types';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(120_000);

let db: ScratchDb;
const tmp = tempDir('bo-pg-');
const feed = join(tmp.dir, 'feed.ndjson');
/** Small chunks, so that repeated ids fall in different chunks. */
const CHUNK_BYTES = 64 * 1024;

beforeAll(async () => {
  db = await scratchDb();
  writeFileSync(feed, `${[...generateLines({ count: 3000, badRatio: 0.02, duplicateRatio: 0.1, seed: 7 })].join('\n')}\n`);
});
afterAll(async () => {
  await db?.drop();
  tmp.cleanup();
});

const target = () => ({ url: db.url, label: db.name });

/** An item without what differs between two ingests of the same line: its run and the times of ingest. */
function comparable(i: IntelItem): Partial<IntelItem> {
  return { ...i, runId: undefined, createdAt: undefined, updatedAt: undefined };
}

async function pgItems(runId: string): Promise<Map<string, IntelItem>> {
  const store = await PgStore.openForRead(target());
  try {
    const out = new Map<string, IntelItem>();
    for await (const i of store.iterateIntelItemsForRun(runId)) out.set(i.itemId, i);
    return out;
  } finally {
    await store.close();
  }
}

async function pgRejects(runId: string): Promise<RejectRecord[]> {
  const store = await PgStore.openForRead(target());
  try {
    const out: RejectRecord[] = [];
    for await (const r of store.iterateRejects(runId)) out.push(r);
    return out;
  } finally {
    await store.close();
  }
}

test('one worker: the same items, rejects and exact counts as SQLite, first ingest and re-ingest', async () => {
  const sqlite = await runPipeline({ input: feed, dbPath: tmp.db, workers: 1, runId: 's1', chunkSize: 80 });
  const pg1 = await runPipeline({ input: feed, workers: 1, runId: 'p1', maxChunkBytes: CHUNK_BYTES, db: db.url });
  const pick = (s: typeof sqlite) => [s.status, s.linesRead, s.blankLines, s.inserted, s.updated, s.unchanged, s.rejected];
  expect(pick(pg1)).toEqual(pick(sqlite));
  expect(sqlite.updated).toBeGreaterThan(0); // the feed repeats ids, across chunks too
  expect(pg1.chunks).toBeGreaterThan(10);

  using store = StateStore.open(tmp.db, { readonly: true });
  const want = new Map(store.listIntelItemsForRun('s1').map((i) => [i.itemId, comparable(i)]));
  const got = await pgItems('p1');
  expect(new Map([...got].map(([k, v]) => [k, comparable(v)]))).toEqual(want);
  expect(await pgRejects('p1')).toEqual(store.listRejects('s1'));

  // Again: every line unchanged, most of them recognised without parsing.
  const sqlite2 = await runPipeline({ input: feed, dbPath: tmp.db, workers: 1, runId: 's2', chunkSize: 80 });
  const pg2 = await runPipeline({ input: feed, workers: 1, runId: 'p2', maxChunkBytes: CHUNK_BYTES, db: db.url });
  expect(pick(pg2)).toEqual(pick(sqlite2));
  expect(pg2.unchanged).toBeGreaterThan(pg2.updated); // repeated ids are rewritten in line order again
});

test('four workers committing in any order: the last line of each item still wins', async () => {
  const s = await runPipeline({ input: feed, workers: 4, runId: 'p4', maxChunkBytes: CHUNK_BYTES / 4, db: db.url });
  const one = await runPipeline({ input: feed, workers: 1, runId: 'p1b', maxChunkBytes: CHUNK_BYTES / 4, db: db.url });
  expect(s.status).toBe('completed');
  expect(s.unchanged + s.updated + s.inserted).toBe(one.unchanged + one.updated + one.inserted);
  const rows = await db.query<{ item_id: string; content_hash: string }>('SELECT item_id, content_hash FROM intel_items ORDER BY item_id');
  using store = StateStore.open(tmp.db, { readonly: true });
  const want = [...store.listIntelItemsForRun('s1'), ...store.listIntelItemsForRun('s2')].map((i) => [i.itemId, i.contentHash]);
  // Every item as SQLite has it (the PostgreSQL content hash is over the same fields as IntelItem.contentHash).
  const got = new Map(rows.map((r) => [r.item_id, r.content_hash]));
  for (const [id, hash] of want) expect([id, got.get(id as string)]).toEqual([id, hash]);
  expect(got.size).toBe(want.length);
});
