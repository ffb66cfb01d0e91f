/**
 * Resume on PostgreSQL, against the real local server: a cancelled run is
 * resumed on the same file and ends with the tables and counts of one clean
 * ingest; a resume on another file is refused.
 */
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import type { RunSummary } from '../src/pipeline/types';
import { generateLines } from '../src/gen/generate';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(60_000);

let resumed: ScratchDb;
let clean: ScratchDb;
const tmp = tempDir('bo-pg-resume-');
beforeAll(async () => {
  [resumed, clean] = await Promise.all([scratchDb(), scratchDb()]);
});
afterAll(async () => {
  await Promise.all([resumed?.drop(), clean?.drop()]);
  tmp.cleanup();
});

const ITEMS = `SELECT item_id, title, summary, trend_score, decision, decision_reason, claims_json::text AS claims, line_hash
  FROM intel_items ORDER BY item_id`;

test('a cancelled run resumed on the same file ends as one clean ingest; another file is refused', async () => {
  const feed = join(tmp.dir, 'feed.ndjson');
  writeFileSync(feed, `${[...generateLines({ count: 6000, badRatio: 0.02, duplicateRatio: 0.05, seed: 13 })].join('\n')}\n`);
  const opts = { input: feed, workers: 1, maxChunkBytes: 32 * 1024 };

  const ac = new AbortController();
  const first = await runPipeline({ ...opts, db: resumed.url, runId: 'night', signal: ac.signal, progressIntervalMs: 1,
    onProgress: (e) => { if (e.chunksDone >= 5) ac.abort('enough'); } }).then(() => undefined, (err: unknown) => err);
  expect(first).toMatchObject({ code: 'ERR_CANCELLED', summary: { status: 'cancelled' } });
  const partial = (first as { summary: RunSummary }).summary;
  expect(partial.linesRead).toBeGreaterThan(0);
  expect(partial.linesRead).toBeLessThan(6000);

  const other = join(tmp.dir, 'other.ndjson');
  copyFileSync(feed, other);
  appendFileSync(other, `${[...generateLines({ count: 1, badRatio: 0, duplicateRatio: 0, seed: 14 })][0]}\n`);
  await expect(runPipeline({ ...opts, input: other, db: resumed.url, resume: 'night' })).rejects.toMatchObject({ code: 'ERR_INPUT_CHANGED' });
  // One byte changed inside a committed chunk, the size the same: refused too, as on SQLite.
  const edited = join(tmp.dir, 'edited.ndjson');
  const bytes = readFileSync(feed);
  const at = bytes.indexOf('"title":"', 70_000) + 9; // inside chunk 2 (32 KiB chunks), committed before the cancel
  expect(at).toBeGreaterThan(9);
  bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
  writeFileSync(edited, bytes);
  await expect(runPipeline({ ...opts, input: edited, db: resumed.url, resume: 'night' })).rejects.toMatchObject({
    code: 'ERR_INPUT_CHANGED', message: expect.stringMatching(/^Chunk 2 \(bytes \d+-\d+\) no longer matches what run night committed/),
  });

  const done = await runPipeline({ ...opts, db: resumed.url, resume: 'night' });
  const reference = await runPipeline({ ...opts, db: clean.url, runId: 'night' });
  expect(done.status).toBe('completed');
  expect(done.resumedChunks).toBe(partial.chunks);
  for (const k of ['linesRead', 'blankLines', 'inserted', 'updated', 'unchanged', 'rejected', 'chunks'] as const) expect(done[k]).toBe(reference[k]);
  expect(await resumed.query(ITEMS)).toEqual(await clean.query(ITEMS));
  expect(await resumed.query('SELECT code, count(*)::int AS n FROM run_rejects GROUP BY code ORDER BY code'))
    .toEqual(await clean.query('SELECT code, count(*)::int AS n FROM run_rejects GROUP BY code ORDER BY code'));
});
