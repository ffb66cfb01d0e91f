/**
 * `npm run bench:check [-- --quick]`: runs the suites, then compares their
 * ratios (never absolute times: machines differ and are noisy) with
 * bench/baseline.json. A ratio below its baseline by more than `--warn`
 * (default 10%) is a warning; by more than `--fail` (default 50%) fails (exit 1).
 * `npm run bench:baseline [-- --quick]` rewrites the baseline: do it on purpose only.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resultsDir, machineInfo, type BenchResult } from './lib/results';
import { runSuites, SUITES } from './run';

type Mode = 'quick' | 'full';
interface Baseline { machine?: unknown; quick?: Record<string, number>; full?: Record<string, number> }

const BASELINE = resolve(__dirname, __dirname.includes('dist') ? '../../bench/baseline.json' : 'baseline.json');

/** Every ratio (unit `x`, bigger is better) the suites wrote, keyed `suite: name`. */
export function currentRatios(suites: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const suite of suites) {
    const file = join(resultsDir(), `${suite}.json`);
    if (!existsSync(file)) throw new Error(`no results for ${suite}: ${file} is missing`);
    for (const r of JSON.parse(readFileSync(file, 'utf8')) as BenchResult[]) {
      if (r.unit === 'x') out[`${suite}: ${r.name}`] = r.value;
    }
  }
  return out;
}

export interface Verdict { name: string; baseline: number | undefined; current: number | undefined; change: number | undefined; status: 'ok' | 'warn' | 'FAIL' | 'new' | 'missing' }

export function compare(base: Record<string, number>, cur: Record<string, number>, warn: number, fail: number): Verdict[] {
  const names = [...new Set([...Object.keys(base), ...Object.keys(cur)])].sort();
  return names.map((name) => {
    const b = base[name];
    const c = cur[name];
    if (b === undefined) return { name, baseline: b, current: c, change: undefined, status: 'new' };
    if (c === undefined) return { name, baseline: b, current: c, change: undefined, status: 'missing' };
    const change = (c - b) / b;
    const status = change < -fail ? 'FAIL' : change < -warn ? 'warn' : 'ok';
    return { name, baseline: b, current: c, change, status };
  });
}

function main(): void {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false }, update: { type: 'boolean', default: false },
      'no-run': { type: 'boolean', default: false }, warn: { type: 'string', default: '0.10' }, fail: { type: 'string', default: '0.50' },
    },
  });
  const mode: Mode = values.quick ? 'quick' : 'full';
  if (!values['no-run']) runSuites(values.quick === true, undefined);
  const cur = currentRatios(SUITES);
  const baseline: Baseline = existsSync(BASELINE) ? (JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline) : {};
  if (values.update) {
    baseline[mode] = cur;
    baseline.machine = machineInfo();
    writeFileSync(BASELINE, `${JSON.stringify(baseline, null, 2)}\n`);
    console.log(`baseline (${mode}) written to ${BASELINE}`);
    return;
  }
  const base = baseline[mode];
  if (base === undefined) throw new Error(`bench/baseline.json has no "${mode}" baseline; create it with npm run bench:baseline${values.quick ? ' -- --quick' : ''}`);
  const verdicts = compare(base, cur, Number(values.warn), Number(values.fail));
  console.log(`\nratio check (${mode}): warn below -${Number(values.warn) * 100}%, fail below -${Number(values.fail) * 100}%\n`);
  console.table(verdicts.map((v) => ({
    ratio: v.name, baseline: v.baseline, current: v.current,
    change: v.change === undefined ? '' : `${(v.change * 100).toFixed(1)}%`, status: v.status,
  })));
  const failed = verdicts.filter((v) => v.status === 'FAIL' || v.status === 'missing');
  if (failed.length > 0) {
    console.error(`\n${failed.length} ratio(s) regressed past the tolerance or went missing: ${failed.map((v) => v.name).join('; ')}`);
    process.exitCode = 1;
  }
}

if (require.main === module) main();
