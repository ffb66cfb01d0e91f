/**
 * Peak RSS of ingesting a small and a large generated feed, each in its own
 * child process (so one cannot inflate the other's peak):
 *   node dist/bench/memory.bench.js [--quick]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFeed } from '../src/gen/generate';
import { writeResults, type BenchResult } from './lib/results';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const SIZES = args.quick ? [20_000, 100_000] : [100_000, 1_000_000];

async function main(): Promise<void> {
  const dataDir = resolve(__dirname, '../../bench/.data');
  mkdirSync(dataDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'bo-mem-'));
  const peaks: number[] = [];
  for (const n of SIZES) {
    const feed = join(dataDir, `feed-${n}.ndjson`);
    if (!existsSync(feed)) await writeFeed(feed, { count: n, badRatio: 0.001, seed: 11 });
    const out = execFileSync(process.execPath, [join(__dirname, 'lib', 'memory-child.js'), feed, join(work, `m-${n}.sqlite`)], { encoding: 'utf8' });
    const { maxRssMb, linesRead } = JSON.parse(out) as { maxRssMb: number; linesRead: number };
    if (linesRead !== n) throw new Error(`expected ${n} lines ingested, got ${linesRead}`);
    peaks.push(maxRssMb);
  }
  rmSync(work, { recursive: true, force: true });
  const [small, large] = peaks as [number, number];
  const results: BenchResult[] = [
    { name: `peak RSS, ${SIZES[0]} lines`, unit: 'MB', value: small, range: '', extra: '2 workers, default chunk size' },
    { name: `peak RSS, ${SIZES[1]} lines`, unit: 'MB', value: large, range: '', extra: '2 workers, default chunk size' },
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
