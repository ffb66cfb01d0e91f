/**
 * parseIntelLine benchmark (plain node on the build output):
 *   npx tsc -p . && node dist/bench/parse.bench.js [--lines 2000] [--rounds 5] [--time 400] [--seed 7]
 *
 * Compares, on the same generated lines and in the same process:
 *   (a) baseline: a bare JSON.parse of the line plus JSON.stringify of the
 *       five JSON columns (the least any ingester must do), and
 *   (b) parseIntelLine: parse, validate, normalise, score, gate, serialise.
 * Machine noise hits both alike only if they run close together, so the two
 * alternate over several short rounds; reported numbers are medians over
 * rounds, the ratio is the median of per-round ratios.
 */
import { Bench } from 'tinybench';
import { loadConfig } from '../src/config';
import { parseIntelLine } from '../src/domain';
import { generateLines } from '../src/gen/generate';
import { benchArgs, intOption } from './lib/args';
import { writeResults, type BenchResult } from './lib/results';
import { median } from './lib/stats';

const args = benchArgs({
  usage: 'node dist/bench/parse.bench.js [options]',
  about: 'parseIntelLine against a bare JSON.parse + five JSON.stringify on the same generated lines, in alternating\n'
    + 'rounds; items/s and the cost ratio (medians), written to bench/results.',
  options: {
    quick: { type: 'boolean', help: '3 rounds of 200 ms (default: 5 rounds of 400 ms)' },
    lines: { type: 'string', value: '<n>', help: 'generated lines (default 2000)' },
    rounds: { type: 'string', value: '<n>', help: 'alternating rounds; medians are reported' },
    time: { type: 'string', value: '<ms>', help: 'time per task per round' },
    seed: { type: 'string', value: '<n>', help: 'generator seed (default 7)' },
  },
});
const LINES = intOption('lines', args.lines, 2000);
const ROUNDS = intOption('rounds', args.rounds, args.quick ? 3 : 5);
const TIME_MS = intOption('time', args.time, args.quick ? 200 : 400);
const SEED = intOption('seed', args.seed, 7);
const config = loadConfig({});

const lines = [...generateLines({ count: LINES, seed: SEED })];
const avgBytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0) / LINES;
let sink = 0; // consumed results, so nothing is optimised away

interface Columns { claims?: unknown; evidence?: unknown; scores?: unknown; risk_flags?: unknown; explainability?: unknown }

function baseline(): void {
  for (const line of lines) {
    const o = JSON.parse(line) as Columns;
    sink += (JSON.stringify(o.claims) ?? '').length + (JSON.stringify(o.evidence) ?? '').length
      + (JSON.stringify(o.scores) ?? '').length + (JSON.stringify(o.risk_flags) ?? '').length
      + (JSON.stringify(o.explainability) ?? '').length;
  }
}

function parseAll(): void {
  for (let i = 0; i < lines.length; i++) {
    const r = parseIntelLine(lines[i] as string, i + 1, config);
    sink += r.ok ? r.row.scoresJson.length : 1;
  }
}

const TASKS = { baseline: 'JSON.parse + 5x JSON.stringify', parse: 'parseIntelLine' } as const;
type TaskKey = keyof typeof TASKS;
const FNS: Record<TaskKey, () => void> = { baseline, parse: parseAll };

async function round(order: readonly TaskKey[]): Promise<Record<TaskKey, number>> {
  const bench = new Bench({ time: TIME_MS, warmup: true, warmupTime: 100 });
  for (const key of order) bench.add(TASKS[key], FNS[key]);
  await bench.run();
  const rate = (key: TaskKey): number => {
    const r = bench.getTask(TASKS[key])?.result;
    if (r === undefined || !('latency' in r)) throw new Error(`Task ${TASKS[key]} produced no result`);
    return LINES / (r.latency.p50 / 1000);
  };
  return { baseline: rate('baseline'), parse: rate('parse') };
}

function spread(values: readonly number[]): string {
  const m = median(values);
  return `±${(((Math.max(...values) - Math.min(...values)) / 2 / m) * 100).toFixed(1)}%`;
}

async function main(): Promise<void> {
  const rounds: Record<TaskKey, number>[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(i % 2 === 0 ? ['baseline', 'parse'] : ['parse', 'baseline']));
  const base = rounds.map((r) => r.baseline);
  const parse = rounds.map((r) => r.parse);
  const ratios = rounds.map((r) => r.baseline / r.parse);
  const extra = `${LINES} generated lines (seed ${SEED}, avg ${Math.round(avgBytes)} bytes), median of ${ROUNDS} rounds`;
  const results: BenchResult[] = [
    { name: TASKS.baseline, unit: 'items/s', value: Math.round(median(base)), range: spread(base), extra },
    { name: TASKS.parse, unit: 'items/s', value: Math.round(median(parse)), range: spread(parse), extra },
    // The cost ratio (lower is better) carries its own unit so the ratio
    // check, which reads unit `x` as bigger-is-better, uses the speed ratio below.
    { name: 'cost ratio: parseIntelLine / baseline', unit: 'x cost', value: Number(median(ratios).toFixed(3)), range: spread(ratios), extra },
    { name: 'ratio: parseIntelLine speed / baseline speed', unit: 'x', value: Number((1 / median(ratios)).toFixed(3)), range: '', extra },
  ];
  console.log(`\nparse benchmark: ${extra}\n`);
  console.table(results.map((r) => ({ task: r.name, value: r.value, unit: r.unit, range: r.range })));
  const file = writeResults('parse', results);
  console.log(`results written to ${file} (checksum ${sink % 997})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
