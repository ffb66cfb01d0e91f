/**
 * Peak RSS of ingesting a small and a large generated feed, each run in its
 * own child process (so one cannot inflate the other's peak), medians of
 * `--iterations` runs per size:
 *   node dist/bench/memory.bench.js [--quick] [--iterations 3] [--help]
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
  usage: 'node dist/bench/memory.bench.js [--quick] [--iterations <n>]',
  about: 'Peak RSS of ingesting a small and a 10x larger generated feed (2 workers), each run in its own process;\n'
    + 'medians per size and the flatness ratio, written to bench/results.',
  options: {
    quick: { type: 'boolean', help: '20,000 and 100,000 lines (default: 100,000 and 1,000,000)' },
    iterations: { type: 'string', value: '<n>', help: 'runs per size; the median is reported (default 3)' },
  },
});
const SIZES = args.quick ? [20_000, 100_000] : [100_000, 1_000_000];
const ITERATIONS = intOption('iterations', args.iterations, 3);

async function main(): Promise<void> {
  const dataDir = resolve(__dirname, '../../bench/.data');
  mkdirSync(dataDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'bo-mem-'));
  const runs = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  for (const n of SIZES) {
    const feed = join(dataDir, `feed-${n}.ndjson`);
    if (!existsSync(feed)) await writeFeed(feed, { count: n, badRatio: 0.001, seed: 11 });
  }
  // Sizes alternate, so a noisy stretch of the machine hits both alike.
  for (let i = 0; i < ITERATIONS; i++) {
    for (const n of SIZES) {
      const db = join(work, `m-${n}-${i}.sqlite`);
      const out = execFileSync(process.execPath, [join(__dirname, 'lib', 'memory-child.js'), join(dataDir, `feed-${n}.ndjson`), db], { encoding: 'utf8' });
      const { maxRssMb, linesRead } = JSON.parse(out) as { maxRssMb: number; linesRead: number };
      if (linesRead !== n) throw new Error(`expected ${n} lines ingested, got ${linesRead}`);
      runs.get(n)?.push(maxRssMb);
      rmSync(db, { force: true });
    }
  }
  rmSync(work, { recursive: true, force: true });
  const [small, large] = SIZES.map((n) => median(runs.get(n) ?? [])) as [number, number];
  const results: BenchResult[] = [
    { name: `peak RSS, ${SIZES[0]} lines`, unit: 'MB', value: small, range: '', extra: `2 workers, default chunk size, median of ${ITERATIONS}` },
    { name: `peak RSS, ${SIZES[1]} lines`, unit: 'MB', value: large, range: '', extra: `2 workers, default chunk size, median of ${ITERATIONS}` },
    // Bigger is better: how flat memory stays as the feed grows 10x (1.0 = perfectly flat).
    { name: 'ratio: memory flatness (small / large peak RSS)', unit: 'x', value: Math.round((small / large) * 100) / 100, range: '', extra: 'target >= 0.77 (large <= 1.3x small)' },
  ];
  console.log('\nmemory (peak RSS of the whole process, workers included)\n');
  console.table(results.map((r) => ({ name: r.name, value: r.value, unit: r.unit })));
  writeResults('memory', results);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
