import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNK_BYTES } from '../src/pipeline/options';
import { StateStore } from '../src/sqlite';
import { runCli } from './helpers/cli';
import { tempDir } from './helpers/tmp';

/**
 * Preloaded into the CLI's process: at exit, its main thread writes the
 * process's peak RSS (getrusage's maxRSS, in KiB, counts every thread, the
 * workers included) to the file `BO_TEST_PEAK_RSS` names.
 */
const PEAK_RSS_PRELOAD = `
const { isMainThread } = require('node:worker_threads');
const { writeFileSync } = require('node:fs');
if (isMainThread) process.on('exit', () => writeFileSync(process.env.BO_TEST_PEAK_RSS, String(process.resourceUsage().maxRSS)));
`;

/**
 * Far below what these feeds reach when a chunk takes all their lines, as it
 * does without the byte bound (~730 MB, and then a worker runs out of heap),
 * and far above what they need in 16 MiB chunks (~290 MB):
 * docs/performance.md#long-lines.
 */
const PEAK_RSS_LIMIT_MB = 400;

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-long-'); });
afterEach(() => t.cleanup());

/** Generates the feed and ingests it with the CLI; the run's summary and the process's peak RSS. */
function ingestMeasured(lines: number, lineBytes: number): { summary: { run_id: string }; peakRssMb: number } {
  const feed = join(t.dir, 'long.ndjson');
  const gen = runCli(['generate', '--count', String(lines), '--line-bytes', String(lineBytes), '--seed', '3', '-o', feed], { cwd: t.dir });
  expect(gen.stderr).toBe('');
  const preload = join(t.dir, 'peak-rss.js');
  const rssFile = join(t.dir, 'peak-rss');
  writeFileSync(preload, PEAK_RSS_PRELOAD);
  // Two workers, the default on the 2-core machines, whatever this machine has: the bound is per worker.
  const run = runCli(['ingest', feed, '--db', t.db, '--workers', '2', '--json'], {
    cwd: t.dir, env: { NODE_OPTIONS: `--require ${JSON.stringify(preload)}`, BO_TEST_PEAK_RSS: rssFile },
  });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  return { summary: JSON.parse(run.stdout) as { run_id: string }, peakRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

describe('ingest of a feed of long lines', () => {
  // Fewer lines than DEFAULT_CHUNK_SIZE: a chunk bounded by lines only would hold the whole ~160 MB feed.
  it.each([
    { lines: 800, lineBytes: 200_000 },
    { lines: 160, lineBytes: 1_000_000 },
  ])('stores all $lines lines of $lineBytes bytes, in chunks cut at 16 MiB, under 400 MB peak RSS', ({ lines, lineBytes }) => {
    expect(lines).toBeLessThan(DEFAULT_CHUNK_SIZE);
    const { summary, peakRssMb } = ingestMeasured(lines, lineBytes);
    expect(summary).toMatchObject({ status: 'completed', lines_read: lines, inserted: lines, rejected: 0 });

    using store = StateStore.open(t.db);
    expect(store.countItems()).toBe(lines);
    // A chunk ends at the first line end at or past 16 MiB.
    const perChunk = Math.ceil(DEFAULT_MAX_CHUNK_BYTES / (lineBytes + 1));
    const chunks = store.listChunks(summary.run_id);
    expect(chunks.map((c) => c.lineCount)).toEqual(
      Array.from({ length: Math.ceil(lines / perChunk) }, (_, i) => Math.min(perChunk, lines - i * perChunk)),
    );
    expect(Math.max(...chunks.map((c) => c.byteEnd - c.byteStart))).toBeLessThan(DEFAULT_MAX_CHUNK_BYTES + lineBytes + 1);
    expect(peakRssMb).toBeLessThan(PEAK_RSS_LIMIT_MB);
  });
});
