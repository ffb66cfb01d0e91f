/**
 * Peak RSS of ingesting a small and a large generated feed, each run in its
 * own child process (so one cannot inflate the other's peak), medians of
 * `--iterations` runs per size; `--long-lines` measures feeds of long lines
 * instead (issue 15's ~2 GB feeds, not part of the CI check):
 *   node dist/bench/memory.bench.js [--quick] [--long-lines] [--iterations 3] [--help]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFeed } from '../src/gen/generate';
import { benchArgs, intOption } from './lib/args';
import { writeResults, type BenchResult } from './lib/results';
import { median } from './lib/stats';

const args = benchArgs({
  usage: 'node dist/bench/memory.bench.js [--quick] [--long-lines] [--iterations <n>]',
  about: 'Peak RSS of ingesting a small and a 10x larger generated feed (2 workers), each run in its own process;\n'
    + 'medians per size and the flatness ratio, written to bench/results. With --long-lines, feeds of long lines\n'
    + 'instead (not part of bench:check): peak RSS and wall time, written to bench/results/memory-long-lines.json.',
  options: {
    quick: { type: 'boolean', help: '20,000 and 100,000 lines (default: 100,000 and 1,000,000)' },
    'long-lines': { type: 'boolean', help: '10,000 lines of 200 KB, then 2,000 of 1 MB: 2 GB each, made in the temp folder and deleted (--quick: 800 and 160)' },
    iterations: { type: 'string', value: '<n>', help: 'runs per feed; the median is reported (default 3, 1 with --long-lines)' },
  },
});

interface Feed { label: string; count: number; lineBytes: number }
interface Measured { maxRssMb: number; seconds: number }

const LONG = args['long-lines'];
const ITERATIONS = intOption('iterations', args.iterations, LONG ? 1 : 3);
const SIZES = args.quick ? [20_000, 100_000] : [100_000, 1_000_000];
const LONG_FEEDS: Feed[] = [
  { label: `${args.quick ? 800 : 10_000} lines of 200 KB`, count: args.quick ? 800 : 10_000, lineBytes: 200_000 },
  { label: `${args.quick ? 160 : 2_000} lines of 1 MB`, count: args.quick ? 160 : 2_000, lineBytes: 1_000_000 },
];

/** Ingests `feed` into a fresh database in a child process. */
function measure(feed: string, db: string, count: number): Measured {
  const out = execFileSync(process.execPath, [join(__dirname, 'lib', 'memory-child.js'), feed, db], { encoding: 'utf8' });
  const { maxRssMb, linesRead, seconds } = JSON.parse(out) as Measured & { linesRead: number };
  if (linesRead !== count) throw new Error(`expected ${count} lines ingested, got ${linesRead}`);
  rmSync(db, { force: true });
  return { maxRssMb, seconds };
}

async function lineCounts(work: string): Promise<BenchResult[]> {
  const dataDir = resolve(__dirname, '../../bench/.data');
  mkdirSync(dataDir, { recursive: true });
  const runs = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  for (const n of SIZES) {
    const feed = join(dataDir, `feed-${n}.ndjson`);
    if (!existsSync(feed)) await writeFeed(feed, { count: n, badRatio: 0.001, seed: 11 });
  }
  // Sizes alternate, so a noisy stretch of the machine hits both alike.
  for (let i = 0; i < ITERATIONS; i++) {
    for (const n of SIZES) runs.get(n)?.push(measure(join(dataDir, `feed-${n}.ndjson`), join(work, `m-${n}-${i}.sqlite`), n).maxRssMb);
  }
  const [small, large] = SIZES.map((n) => median(runs.get(n) ?? [])) as [number, number];
  return [
    { name: `peak RSS, ${SIZES[0]} lines`, unit: 'MB', value: small, range: '', extra: `2 workers, default chunk size, median of ${ITERATIONS}` },
    { name: `peak RSS, ${SIZES[1]} lines`, unit: 'MB', value: large, range: '', extra: `2 workers, default chunk size, median of ${ITERATIONS}` },
    // Bigger is better: how flat memory stays as the feed grows 10x (1.0 = perfectly flat).
    { name: 'ratio: memory flatness (small / large peak RSS)', unit: 'x', value: Math.round((small / large) * 100) / 100, range: '', extra: 'target >= 0.77 (large <= 1.3x small)' },
  ];
}

/** Each feed is generated, measured and deleted before the next: together they would take 4 GB. */
async function longLines(work: string): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const f of LONG_FEEDS) {
    const feed = join(work, 'long.ndjson');
    await writeFeed(feed, { count: f.count, lineBytes: f.lineBytes, seed: 11 });
    const runs = Array.from({ length: ITERATIONS }, (_, i) => measure(feed, join(work, `long-${i}.sqlite`), f.count));
    rmSync(feed, { force: true });
    const extra = `2 workers, default chunk bounds, median of ${ITERATIONS}`;
    results.push(
      { name: `peak RSS, ${f.label}`, unit: 'MB', value: median(runs.map((r) => r.maxRssMb)), range: '', extra: `${extra}; target < 500` },
      { name: `wall, ${f.label}`, unit: 's', value: median(runs.map((r) => r.seconds)), range: '', extra },
    );
  }
  return results;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bo-mem-'));
  try {
    const results = LONG ? await longLines(work) : await lineCounts(work);
    console.log('\nmemory (peak RSS of the whole process, workers included)\n');
    console.table(results.map((r) => ({ name: r.name, value: r.value, unit: r.unit })));
    writeResults(LONG ? 'memory-long-lines' : 'memory', results);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
