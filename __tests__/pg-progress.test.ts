/**
 * Progress of a run shared by two callers (`join`) on the real local server:
 * each one's last event shows the whole run done (bytes, chunks and the
 * run's line counts, as in its summary), not its own share of the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import type { ProgressEvent } from '../src/pipeline/types';
import { generateLines } from '../src/gen/generate';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(60_000);

let db: ScratchDb;
const tmp = tempDir('bo-pg-progress-');
beforeAll(async () => {
  db = await scratchDb();
});
afterAll(async () => {
  await db?.drop();
  tmp.cleanup();
});

test('each process of a shared run ends its progress with the whole run done', async () => {
  const feed = join(tmp.dir, 'feed.ndjson');
  writeFileSync(feed, `${[...generateLines({ count: 8000, badRatio: 0.01, duplicateRatio: 0.02, seed: 9 })].join('\n')}\n`);
  const events: ProgressEvent[][] = [[], []];
  const [a, b] = await Promise.all(events.map((out) => runPipeline({
    input: feed, db: db.url, runId: 'shared', join: true, workers: 1, maxChunkBytes: 64 * 1024, progressIntervalMs: 1,
    onProgress: (e) => out.push(e),
  })));
  expect(a?.status).toBe('completed');
  expect(b?.status).toBe('completed');
  // Both did part of the work.
  expect(a?.resumedChunks).toBeGreaterThan(0);
  expect(b?.resumedChunks).toBeGreaterThan(0);
  for (const [i, summary] of [a, b].entries()) {
    const mine = events[i] as ProgressEvent[];
    const last = mine[mine.length - 1] as ProgressEvent;
    expect(last.bytesDone).toBe(last.totalBytes);
    expect(last).toMatchObject({
      chunksDone: summary?.chunks, linesRead: 8000, inserted: summary?.inserted, updated: summary?.updated, rejected: summary?.rejected,
    });
    for (let k = 1; k < mine.length; k++) expect((mine[k] as ProgressEvent).bytesDone).toBeGreaterThanOrEqual((mine[k - 1] as ProgressEvent).bytesDone);
  }
});
