/**
 * `npm run bench:check [-- --quick] [--json]`: runs the suites, then compares
 * their ratios (never absolute times: machines differ and are noisy) with
 * bench/baseline.json; see `--help`. `npm run bench:baseline [-- --quick]`
 * rewrites the baseline: do it on purpose only.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchArgs } from './lib/args';
import { resultsDir, machineInfo, type BenchResult } from './lib/results';
import { runSuites, SUITES } from './run';

type Mode = 'quick' | 'full';
/** bench/baseline.json: the ratios of each mode, and the machine each was measured on. */
interface Baseline { quick?: Record<string, number>; full?: Record<string, number>; machine?: Partial<Record<Mode, unknown>> }

const BASELINE = resolve(__dirname, __dirname.includes('dist') ? '../../bench/baseline.json' : 'baseline.json');

/** Every ratio (unit `x`, bigger is better) the suites wrote, keyed `suite: name`, except those marked `gate: false`. */
export function currentRatios(suites: readonly string[], dir = resultsDir()): Record<string, number> {
  const out: Record<string, number> = {};
  for (const suite of suites) {
    const file = join(dir, `${suite}.json`);
    if (!existsSync(file)) throw new Error(`no results for ${suite}: ${file} is missing`);
    for (const r of JSON.parse(readFileSync(file, 'utf8')) as BenchResult[]) {
      if (r.unit === 'x' && r.gate !== false) out[`${suite}: ${r.name}`] = r.value;
    }
  }
  return out;
}

export interface Verdict {
  name: string;
  baseline: number | null;
  current: number | null;
  /** (current - baseline) / baseline: -0.25 is a 25% drop; null when either is missing. */
  change: number | null;
  status: 'ok' | 'warn' | 'FAIL' | 'new' | 'missing';
}

export function compare(base: Record<string, number>, cur: Record<string, number>, warn: number, fail: number): Verdict[] {
  const names = [...new Set([...Object.keys(base), ...Object.keys(cur)])].sort();
  return names.map((name) => {
    const b = base[name];
    const c = cur[name];
    if (b === undefined) return { name, baseline: null, current: c ?? null, change: null, status: 'new' };
    if (c === undefined) return { name, baseline: b, current: null, change: null, status: 'missing' };
    const change = Math.round(((c - b) / b) * 10_000) / 10_000;
    const status = change < -fail ? 'FAIL' : change < -warn ? 'warn' : 'ok';
    return { name, baseline: b, current: c, change, status };
  });
}

/** The machine-readable verdict `--json` prints. */
export interface CheckReport {
  mode: Mode;
  /** A drop of more than this share warns... */
  warn: number;
  /** ...and of more than this one fails. */
  fail: number;
  passed: boolean;
  /** Ratios that dropped past `fail` or went missing: why the check failed. */
  regressions: Verdict[];
  /** Ratios that dropped past `warn` but not past `fail`. */
  warnings: Verdict[];
  verdicts: Verdict[];
}

export function checkReport(mode: Mode, base: Record<string, number>, cur: Record<string, number>, warn: number, fail: number): CheckReport {
  const verdicts = compare(base, cur, warn, fail);
  const regressions = verdicts.filter((v) => v.status === 'FAIL' || v.status === 'missing');
  return { mode, warn, fail, passed: regressions.length === 0, regressions, warnings: verdicts.filter((v) => v.status === 'warn'), verdicts };
}

/** One line per regression or warning: what, from what to what, by how much. */
export function describeVerdict(v: Verdict): string {
  if (v.status === 'missing') return `${v.name}: missing (baseline ${v.baseline}); no suite wrote it`;
  return `${v.name}: ${v.baseline} -> ${v.current} (${((v.change ?? 0) * 100).toFixed(1)}%)`;
}

export const CHECK_HELP = {
  usage: 'npm run bench:check -- [--quick] [--json] [--warn <share>] [--fail <share>] [--no-run]',
  about: [
    'Runs every suite (as npm run bench does), then compares each ratio it wrote (unit x, bigger is better)',
    'with bench/baseline.json. A drop of more than --warn warns; of more than --fail, or a ratio missing,',
    'fails (exit 1). Absolute numbers are never compared: they move with the machine.',
    'npm run bench:baseline [-- --quick] rewrites the baseline (the same as --update): only on purpose.',
  ].join('\n'),
  options: {
    quick: { type: 'boolean', help: 'quick suites, compared with the "quick" baseline' },
    json: { type: 'boolean', help: 'print only the verdict, as JSON, on stdout (the suites\' output goes to stderr)' },
    warn: { type: 'string', value: '<share>', help: 'warn below the baseline by more than this (default 0.10)' },
    fail: { type: 'string', value: '<share>', help: 'fail below the baseline by more than this (default 0.50)' },
    'no-run': { type: 'boolean', help: 'compare the results already in bench/results instead of running the suites' },
    update: { type: 'boolean', help: 'write the results as the new baseline instead of comparing' },
  },
} as const;

function share(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0 && n < 1)) {
    process.stderr.write(`--${name} expects a share between 0 and 1 (0.25 = 25%), got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

function main(): void {
  const args = benchArgs(CHECK_HELP);
  const warn = share('warn', args.warn, 0.1);
  const fail = share('fail', args.fail, 0.5);
  const mode: Mode = args.quick ? 'quick' : 'full';
  if (!args['no-run']) runSuites(args.quick, undefined, args.json);
  const cur = currentRatios(SUITES);
  const baseline: Baseline = existsSync(BASELINE) ? (JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline) : {};
  if (args.update) {
    baseline[mode] = cur;
    baseline.machine = { ...baseline.machine, [mode]: machineInfo() };
    writeFileSync(BASELINE, `${JSON.stringify(baseline, null, 2)}\n`);
    console.log(`baseline (${mode}) written to ${BASELINE}`);
    return;
  }
  const base = baseline[mode];
  if (base === undefined) {
    process.stderr.write(`bench/baseline.json has no "${mode}" baseline; create it with npm run bench:baseline${args.quick ? ' -- --quick' : ''}\n`);
    process.exitCode = 2;
    return;
  }
  const report = checkReport(mode, base, cur, warn, fail);
  if (!report.passed) process.exitCode = 1;
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  console.log(`\nratio check (${mode}): warn below -${warn * 100}%, fail below -${fail * 100}%\n`);
  console.table(report.verdicts.map((v) => ({
    ratio: v.name, baseline: v.baseline, current: v.current,
    change: v.change === null ? '' : `${(v.change * 100).toFixed(1)}%`, status: v.status,
  })));
  for (const v of report.warnings) console.log(`warning: ${describeVerdict(v)}`);
  if (report.passed) console.log(`\npassed: no ratio fell more than ${fail * 100}% below its baseline`);
  else console.error(`\nFAILED: ${report.regressions.length} ratio(s) regressed past ${fail * 100}% or went missing:\n${report.regressions.map((v) => `  ${describeVerdict(v)}`).join('\n')}`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`bench:check: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
