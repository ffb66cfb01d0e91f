/**
 * Peers benchmark: `ingest` (default settings, a child process) against the
 * simplest alternative, the sqlite3 CLI recipe in bench/sqlite3-recipe.sql,
 * on the same generated feed, alternating A B A B:
 *   npm run bench:peers [-- --lines 200000] [--pairs 3] [--seed 7]
 * Needs Debian's `sqlite3` (`apt-get install sqlite3`); skips with a message
 * where it is missing. Prints both wall times, the speed ratio pair by pair,
 * each side's CPU per item (the children's user + sys time, from
 * /proc/self/stat), and a throughput model for more cores from ingest's own
 * telemetry: W = time per item inside the write lock, P = outside it per
 * worker; predicted items/s = min(1/W, N/(W+P)).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StateStore } from '../src/store';
import { benchArgs } from './lib/args';
import { timed, type Timed } from './lib/children';
import { PEER_OPTIONS, peerFeed, peerSettings } from './lib/feed';
import { writeResults, type BenchResult } from './lib/results';
import { median, round2 as round } from './lib/stats';

const args = benchArgs({
  usage: 'npm run bench:peers -- [options]',
  about: 'ingest (default settings, a child process) against the sqlite3 CLI recipe in bench/sqlite3-recipe.sql on the\n'
    + 'same generated feed, alternating pairs: wall time, CPU per item, the speed ratio, and a throughput model for\n'
    + 'more cores from the run telemetry; written to bench/results. Needs the sqlite3 CLI (skipped without it).',
  options: {
    ...PEER_OPTIONS,
  },
});
const { lines: LINES, pairs: PAIRS, seed: SEED } = peerSettings(args);
const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const CORES = [1, 2, 4, 8, 16];

type Side = Pick<Timed, 'wallMs' | 'cpuMs'>;
interface Telemetry { workers: Record<string, { lines: number; parseMs: number; writeMs: number }> }

function count(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM intel_items').pluck().get() as number;
  } finally {
    db.close();
  }
}

function drop(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
}

async function main(): Promise<void> {
  if (spawnSync('sqlite3', ['--version']).status !== 0) {
    console.log('peers: skipped: the sqlite3 CLI is not installed (Debian/Ubuntu: apt-get install sqlite3)');
    return;
  }
  const feed = await peerFeed(ROOT, LINES, SEED);
  const work = mkdtempSync(join(tmpdir(), 'bo-peers-'));
  const template = join(work, 'template.sqlite');
  StateStore.open(template).close();
  const recipe = readFileSync(join(ROOT, 'bench/sqlite3-recipe.sql'), 'utf8').replace('.import FEED', `.import ${feed}`);

  const cli: Side[] = [];
  const ingest: Side[] = [];
  const model: { w: number; p: number }[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const a = join(work, 'a.sqlite');
    copyFileSync(template, a);
    cli.push(timed('sqlite3', [a], { input: recipe }));
    const b = join(work, 'b.sqlite');
    const out = timed(process.execPath, [CLI, 'ingest', feed, '--db', b, '--json', '--quiet']);
    ingest.push(out);
    const { runId } = JSON.parse(out.stdout) as { runId: string };
    if (count(a) !== count(b)) throw new Error(`the two sides stored different item counts: ${count(a)} vs ${count(b)}`);
    using store = StateStore.open(b, { readonly: true });
    const tel = store.readTelemetry(runId) as unknown as Telemetry;
    const ws = Object.values(tel.workers);
    const lines = ws.reduce((n, w) => n + w.lines, 0);
    model.push({ w: ws.reduce((n, x) => n + x.writeMs, 0) / lines, p: ws.reduce((n, x) => n + x.parseMs, 0) / lines });
    drop(a);
    drop(b);
  }
  rmSync(work, { recursive: true, force: true });

  const speed = cli.map((c, i) => c.wallMs / (ingest[i] as Side).wallMs); // > 1: ingest is faster
  const us = (ms: number) => (ms * 1000) / LINES;
  const w = median(model.map((m) => m.w));
  const p = median(model.map((m) => m.p));
  const extra = `${LINES} lines (2% repeated ids), ${PAIRS} alternating pairs, medians`;
  const results: BenchResult[] = [
    { name: 'sqlite3 CLI recipe: wall', unit: 's', value: round(median(cli.map((c) => c.wallMs)) / 1000), range: '', extra },
    { name: 'ingest (defaults): wall', unit: 's', value: round(median(ingest.map((c) => c.wallMs)) / 1000), range: '', extra },
    { name: 'sqlite3 CLI recipe: CPU per item', unit: 'µs', value: round(us(median(cli.map((c) => c.cpuMs)))), range: '', extra },
    { name: 'ingest (defaults): CPU per item', unit: 'µs', value: round(us(median(ingest.map((c) => c.cpuMs)))), range: '', extra },
    { name: 'ratio: ingest speed / sqlite3 CLI speed', unit: 'x', value: round(median(speed)), range: `${round(Math.min(...speed))}-${round(Math.max(...speed))}`, extra },
    { name: 'ingest: per item inside the write lock (W)', unit: 'µs', value: round(w * 1000), range: '', extra: 'from the run telemetry' },
    { name: 'ingest: per item outside it, per worker (P)', unit: 'µs', value: round(p * 1000), range: '', extra: 'from the run telemetry' },
  ];
  for (const n of CORES) {
    const predicted = Math.min(1 / w, n / (w + p)) * 1000;
    results.push({ name: `model: ${n} cores`, unit: 'items/s', value: Math.round(predicted), range: '', extra: 'min(1/W, N/(W+P))' });
  }
  console.log(`\npeers benchmark: ${extra}\n`);
  console.table(cli.map((c, i) => ({
    pair: i + 1, 'sqlite3 wall s': round(c.wallMs / 1000), 'ingest wall s': round((ingest[i] as Side).wallMs / 1000),
    'ingest speed / sqlite3': round(speed[i] as number), 'sqlite3 CPU µs/item': round(us(c.cpuMs)), 'ingest CPU µs/item': round(us((ingest[i] as Side).cpuMs)),
  })));
  console.table(results.map((r) => ({ result: r.name, value: r.value, unit: r.unit, range: r.range })));
  writeResults('peers', results);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
