/**
 * Unchanged ("kept") lines on PostgreSQL: a kept line writes nothing and its
 * row keeps its older position, unless a line at an earlier position could
 * still write that row after it (an earlier chunk of the run not done yet);
 * then its row's position moves, and the earlier line cannot overwrite it.
 * On the real local server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { runPipeline } from '../src/backend';
import { generateLines } from '../src/gen/generate';
import { scratchDb, until, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(60_000);

let db: ScratchDb;
const tmp = tempDir('bo-pg-kept-');

beforeEach(async () => {
  db = await scratchDb();
});
afterEach(async () => {
  await db?.drop();
});
afterAll(() => tmp.cleanup());

function feed(name: string, lines: readonly string[]): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** A generated line with its item_id and title replaced. */
/** `l` with its summary padded so that the line and its newline take `bytes` bytes. */
function sized(l: string, bytes: number): string {
  const o = JSON.parse(l) as { summary: string };
  const pad = bytes - 1 - Buffer.byteLength(JSON.stringify({ ...o, summary: '' }));
  if (pad < 0) throw new Error(`a line of ${bytes} bytes cannot hold ${l}`);
  return JSON.stringify({ ...o, summary: 's'.repeat(pad) });
}

function line(seed: number, itemId: string, title: string): string {
  const o = JSON.parse([...generateLines({ count: 1, badRatio: 0, duplicateRatio: 0, seed })][0] as string) as Record<string, unknown>;
  return JSON.stringify({ ...o, item_id: itemId, title });
}

test('a re-ingest whose chunks commit in order leaves unchanged rows untouched, at their first position', async () => {
  const lines = [...generateLines({ count: 60, badRatio: 0, duplicateRatio: 0, seed: 21 })];
  const f = feed('same.ndjson', lines);
  await runPipeline({ input: f, db: db.url, runId: 'first', workers: 1, maxChunkBytes: 4096 });
  const before = await db.query<{ item_id: string; xmin: string }>('SELECT item_id, xmin::text FROM intel_items ORDER BY item_id');
  const again = await runPipeline({ input: f, db: db.url, runId: 'second', workers: 1, maxChunkBytes: 4096 });

  expect(again).toMatchObject({ status: 'completed', linesRead: 60, inserted: 0, updated: 0, unchanged: 60 });
  expect(again.chunks).toBeGreaterThan(5);
  // Not rewritten: the same row versions, still at the first run's position and run.
  expect(await db.query('SELECT item_id, xmin::text FROM intel_items ORDER BY item_id')).toEqual(before);
  expect(await db.query(`SELECT count(*)::int AS n FROM intel_items i JOIN runs r ON r.run_seq = i.pos_run
    WHERE r.run_id = 'first' AND i.run_id = 'first'`)).toEqual([{ n: 60 }]);
});

test('a later chunk with an item of an earlier chunk that is not done waits for it; a chunk with no item in common commits meanwhile', async () => {
  // Item z-item is stored as B. In the second feed, chunk 0 changes it to A (and changes a-item), chunk 1
  // holds another item, chunk 2 holds B again. Chunk 0 waits for a-item's row (held by another writer):
  // chunk 1 commits, chunk 2 waits for chunk 0, so its line meets A, as applying the lines in order would.
  const b = line(31, 'z-item', 'B: the last word');
  await runPipeline({ input: feed('one.ndjson', [line(32, 'a-item', 'first a'), b]), db: db.url, runId: 'one', workers: 1 });

  // Lines of 500, 600, 1000 and 1000 bytes with 1 KiB chunks: chunk 0 holds the first two, chunks 1 and 2 one each.
  const second = feed('two.ndjson', [
    sized(line(33, 'a-item', 'second a'), 500), sized(line(34, 'z-item', 'A: an earlier word'), 600),
    sized(line(35, 'm-item', 'filler'), 1000), sized(b, 1000),
  ]);
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  let summary;
  try {
    await other.query('BEGIN');
    await other.query("SELECT 1 FROM intel_items WHERE item_id = 'a-item' FOR UPDATE");
    const run = runPipeline({ input: second, db: db.url, runId: 'two', workers: 2, maxChunkBytes: 1024 });
    await until(async () => (await db.query(
      "SELECT 1 FROM run_chunks WHERE run_id = 'two' AND chunk_index = 1 AND state = 'done'")).length > 0
      && (await db.query("SELECT 1 FROM run_chunks WHERE run_id = 'two' AND chunk_index = 2 AND item_ids IS NOT NULL")).length > 0,
    'chunk 1 to commit and chunk 2 to publish its items');
    expect(await db.query("SELECT chunk_index, state = 'done' AS done FROM run_chunks WHERE run_id = 'two' AND chunk_index <= 2 ORDER BY chunk_index"))
      .toEqual([{ chunk_index: 0, done: false }, { chunk_index: 1, done: true }, { chunk_index: 2, done: false }]);
    await other.query('COMMIT');
    summary = await run;
  } finally {
    await other.end();
  }
  // In order: a-item updated, z-item updated to A, m-item inserted, z-item updated back to B.
  expect(summary).toMatchObject({ status: 'completed', linesRead: 4, inserted: 1, updated: 3, unchanged: 0 });
  expect(await db.query("SELECT item_id, title FROM intel_items WHERE item_id IN ('a-item', 'z-item') ORDER BY item_id")).toEqual([
    { item_id: 'a-item', title: 'second a' },
    { item_id: 'z-item', title: 'B: the last word' },
  ]);
});

test('an unchanged line whose row an earlier chunk changed after the lookup is parsed and written after all', async () => {
  // As above, but the later chunk commits after chunk 0: no earlier chunk is left, so its kept line is not
  // locked; its row no longer holds its line (chunk 0 wrote A), so it is parsed and written, and B wins.
  const b = line(41, 'z-item', 'B: the last word');
  await runPipeline({ input: feed('one.ndjson', [line(42, 'a-item', 'first a'), line(46, 'f-item', 'first f'), b]), db: db.url, runId: 'one', workers: 1 });

  const second = feed('two.ndjson', [line(43, 'a-item', 'second a'), line(44, 'z-item', 'A: an earlier word'), line(45, 'f-item', 'second f'), b]);
  const [lockA, lockF, lockChunk] = [0, 1, 2].map(() => new pg.Client({ connectionString: db.url })) as [pg.Client, pg.Client, pg.Client];
  const state = async (chunk: number, where: string) => (await db.query(`SELECT 1 FROM run_chunks WHERE run_id = 'two' AND chunk_index = $1 AND ${where}`, [chunk])).length > 0;
  try {
    for (const c of [lockA, lockF, lockChunk]) {
      await c.connect();
      await c.query('BEGIN');
    }
    // Chunks 0 and 1 (both workers) wait for a-item's and f-item's rows.
    await lockA.query("SELECT 1 FROM intel_items WHERE item_id = 'a-item' FOR UPDATE");
    await lockF.query("SELECT 1 FROM intel_items WHERE item_id = 'f-item' FOR UPDATE");
    const run = runPipeline({ input: second, db: db.url, runId: 'two', workers: 2, maxChunkBytes: 1024 });
    await until(() => state(1, "state = 'claimed'"), 'chunks 0 and 1 to be claimed');
    // Chunk 2's commit will wait for its chunk row (a claim does not: it takes a weaker lock).
    await lockChunk.query("SELECT 1 FROM run_chunks WHERE run_id = 'two' AND chunk_index = 2 FOR KEY SHARE");
    await lockF.query('COMMIT');
    await until(() => state(2, 'item_ids IS NOT NULL'), 'chunk 2 to look up its lines and reach its commit');
    await lockA.query('COMMIT');
    await until(() => state(0, "state = 'done'"), 'chunk 0 to commit');
    expect(await db.query("SELECT title FROM intel_items WHERE item_id = 'z-item'")).toEqual([{ title: 'A: an earlier word' }]);
    await lockChunk.query('COMMIT');
    expect(await run).toMatchObject({ status: 'completed', linesRead: 4 });
  } finally {
    await Promise.all([lockA, lockF, lockChunk].map((c) => c.end()));
  }
  expect(await db.query("SELECT item_id, title FROM intel_items WHERE item_id IN ('a-item', 'z-item') ORDER BY item_id")).toEqual([
    { item_id: 'a-item', title: 'second a' },
    { item_id: 'z-item', title: 'B: the last word' },
  ]);
});
