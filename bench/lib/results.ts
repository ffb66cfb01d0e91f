/**
 * Writes a benchmark's results to `bench/results/<name>.json` in the
 * customBiggerIsBetter shape (`[{name, unit, value, range, extra}]`) that
 * benchmark-tracking actions read, and the machine it ran on to
 * `bench/results/<name>.machine.json` (the shape has no slot for it).
 */
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
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
 * Writes `<name>.json` and `<name>.machine.json`; returns the results path.
 *
 * @example
 * writeResults('parse', [{ name: 'parseIntelLine', unit: 'items/s', value: 210000, range: '±0.8%', extra: '' }]);
 */
export function writeResults(name: string, results: readonly BenchResult[]): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.machine.json`), `${JSON.stringify(machineInfo(), null, 2)}\n`);
  return file;
}
