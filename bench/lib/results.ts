/**
 * Where the benchmarks' results go. Each suite writes its own record,
 * `bench/results/<suite>.json` (every result, read by `bench:check`), and the
 * machine it ran on beside it; and merges its entries into the two files
 * github-action-benchmark reads, one per direction:
 * `benchmark-bigger-is-better.json` (tool `customBiggerIsBetter`: items/s,
 * ops/s, speed ratios) and `benchmark-smaller-is-better.json`
 * (`customSmallerIsBetter`: times, MB, µs, cost ratios). Entries are
 * `{name, unit, value, range?, extra?}`, named `<suite>: <result>`.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

export interface BenchResult {
  name: string;
  /** e.g. `items/s`, or `x` for ratios. */
  unit: string;
  value: number;
  /** Spread, e.g. `±1.2%`; empty when not meaningful. */
  range: string;
  /** Free text: sample size, medians of how many runs... */
  extra: string;
  /**
   * Which way is better, for a unit that does not say (`share`); `none`
   * keeps a diagnostic out of the two CI files. @defaultValue from the unit
   */
  better?: Better;
  /**
   * `false` for a ratio that measures the machine more than the code (one
   * side bound by fsync latency): reported, but not compared by `bench:check`.
   */
  gate?: false;
}

export type Better = 'bigger' | 'smaller' | 'none';

/** Which way is better, by unit: the one home of this rule. */
export const BETTER_BY_UNIT: Readonly<Record<string, Exclude<Better, 'none'>>> = Object.freeze({
  'items/s': 'bigger', 'ops/s': 'bigger', x: 'bigger',
  'x cost': 'smaller', s: 'smaller', ms: 'smaller', 'µs': 'smaller', MB: 'smaller',
});

/** An entry of github-action-benchmark's `customBiggerIsBetter` / `customSmallerIsBetter` files. */
export interface ActionEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

/** The two files, in the results folder. */
export const ACTION_FILES = Object.freeze({ bigger: 'benchmark-bigger-is-better.json', smaller: 'benchmark-smaller-is-better.json' });

export function betterOf(r: BenchResult): Better {
  const better = r.better ?? BETTER_BY_UNIT[r.unit];
  if (better === undefined) throw new Error(`Result "${r.name}": unit "${r.unit}" has no known direction; give it \`better\``);
  return better;
}

export interface MachineInfo {
  date: string;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpu: string;
  cpus: number;
  memoryGiB: number;
  sqlite: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${release()}`,
    arch: arch(),
    cpu: list[0]?.model ?? 'unknown',
    cpus: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    sqlite: sqliteVersion(),
  };
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return db.prepare('SELECT sqlite_version()').pluck().get() as string;
  } finally {
    db.close();
  }
}

/** The repository's `bench/results`, found from here whether run from `bench/lib` or `dist/bench/lib`. */
export function resultsDir(): string {
  const here = resolve(__dirname);
  const root = here.includes(`${join('dist', 'bench')}`) ? resolve(here, '../../..') : resolve(here, '../..');
  return join(root, 'bench', 'results');
}

/**
 * Writes `<suite>.json` and `<suite>.machine.json`, and puts the suite's
 * entries into the two CI files in place of its earlier ones (other suites'
 * entries stay); returns the suite's file.
 *
 * @example
 * writeResults('parse', [{ name: 'parseIntelLine', unit: 'items/s', value: 210000, range: '±0.8%', extra: '' }]);
 */
export function writeResults(suite: string, results: readonly BenchResult[], dir = resultsDir()): string {
  const split = actionEntries(suite, results); // validates before anything is written
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `${suite}.machine.json`), `${JSON.stringify(machineInfo(), null, 2)}\n`);
  for (const better of ['bigger', 'smaller'] as const) {
    const path = join(dir, ACTION_FILES[better]);
    const kept = readEntries(path).filter((e) => !e.name.startsWith(`${suite}: `));
    writeFileSync(path, `${JSON.stringify([...kept, ...split[better]], null, 2)}\n`);
  }
  return file;
}

/** A suite's results as the two files' entries; throws on a value that is not a finite number or a unit without a direction. */
export function actionEntries(suite: string, results: readonly BenchResult[]): Record<'bigger' | 'smaller', ActionEntry[]> {
  const out: Record<'bigger' | 'smaller', ActionEntry[]> = { bigger: [], smaller: [] };
  for (const r of results) {
    if (!Number.isFinite(r.value)) throw new Error(`Result "${r.name}" of ${suite} is not a finite number: ${r.value}`);
    const better = betterOf(r);
    if (better === 'none') continue;
    const entry: ActionEntry = { name: `${suite}: ${r.name}`, unit: r.unit, value: r.value };
    if (r.range !== '') entry.range = r.range;
    if (r.extra !== '') entry.extra = r.extra;
    out[better].push(entry);
  }
  return out;
}

/** Empties the two CI files (a new `npm run bench` starts them afresh). */
export function resetActionFiles(dir = resultsDir()): void {
  for (const f of Object.values(ACTION_FILES)) rmSync(join(dir, f), { force: true });
}

function readEntries(path: string): ActionEntry[] {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ActionEntry[]) : [];
}
