/**
 * Peers benchmark: `ingest` (default settings, a child process) against the
 * simplest alternative, the sqlite3 CLI recipe in bench/sqlite3-recipe.sql,
 * on the same generated feed, in alternating rounds:
 *   npm run bench:peers [-- --lines 200000] [--pairs 3] [--seed 7]
 * The recipe runs twice a round: as written (one transaction for the whole
 * feed) and committed per chunk of DEFAULT_CHUNK_SIZE lines, the
 * transactions ingest's contract imposes (a chunk's items, rejects and
 * checkpoint commit together), with ingest's WAL checkpoint setting. Needs
 * Debian's `sqlite3` (`apt-get install sqlite3`); skips with a message where
 * it is missing. Prints the wall times, the speed ratios round by round,
 * each side's CPU per item (the children's user + sys time, from
 * /proc/self/stat), and a throughput model for more cores from ingest's own
 * telemetry: W = time per item inside the write lock, P = outside it per
 * worker; predicted items/s = min(1/W, N/(W+P)).
 * Each round then runs the nightly re-delivery: the same feed a second
 * time into the same database, by the recipe (which rewrites every row) and
 * by `ingest` (every line unchanged but the repeated ids'), and prints
 * their speed ratio and how much faster ingest's second run is than its
 * first.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_CHUNK_SIZE } from '../src/pipeline';
import { StateStore } from '../src/sqlite';
import { WAL_AUTOCHECKPOINT_PAGES } from '../src/sqlite/connection';
import { benchArgs } from './lib/args';
import { timed, type Timed } from './lib/children';
import { PEER_OPTIONS, peerFeed, peerSettings } from './lib/feed';
import { writeResults, type BenchResult } from './lib/results';
import { median, round2 as round } from './lib/stats';

const args = benchArgs({
  usage: 'npm run bench:peers -- [options]',
  about: 'ingest (default settings, a child process) against the sqlite3 CLI recipe in bench/sqlite3-recipe.sql on the\n'
    + 'same generated feed, in alternating rounds, the recipe both in one transaction and committed per chunk as ingest\n'
    + 'commits: wall time, CPU per item, the speed ratios, and a throughput model for more cores from the run\n'
    + 'telemetry; then the nightly re-delivery (the same feed again, both sides); written to bench/results. Needs the\n'
    + 'sqlite3 CLI (skipped without it).',
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

/**
 * The recipe's script for `feed`: as written (one transaction), or with its
 * upsert (between the "-- chunk" lines) committed once per `chunkSize` lines.
 */
function recipeScript(text: string, feed: string, lines: number, chunkSize?: number): string {
  const [head, upsert, tail] = text.replace('.import FEED', `.import ${feed}`).split('-- chunk\n');
  if (head === undefined || upsert === undefined || tail === undefined) throw new Error('bench/sqlite3-recipe.sql lacks its two "-- chunk" lines');
  const range = (first: number, last: number) => upsert.replace('FIRST', String(first)).replace('LAST', String(last));
  if (chunkSize === undefined) return head + range(1, lines) + tail;
  const chunks: string[] = [];
  for (let first = 1; first <= lines; first += chunkSize) chunks.push(`BEGIN;\n${range(first, Math.min(first + chunkSize - 1, lines))}COMMIT;\n`);
  // The head ends inside the run's transaction (BEGIN; INSERT INTO runs), the tail closes it.
  return `PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES};\n${head}COMMIT;\n${chunks.join('')}BEGIN;\n${tail}`;
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
  const text = readFileSync(join(ROOT, 'bench/sqlite3-recipe.sql'), 'utf8');
  const recipe = recipeScript(text, feed, LINES);
  const perChunk = recipeScript(text, feed, LINES, DEFAULT_CHUNK_SIZE);
  // The same recipe as a second run: its own run row, every item rewritten.
  const recipeAgain = recipe.replaceAll("'peer'", "'peer-again'");

  const cli: Side[] = [];
  const chunked: Side[] = [];
  const ingest: Side[] = [];
  const cliAgain: Side[] = [];
  const ingestAgain: Side[] = [];
  const model: { w: number; p: number }[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const a = join(work, 'a.sqlite');
    copyFileSync(template, a);
    cli.push(timed('sqlite3', [a], { input: recipe }));
    const stored = count(a);
    const c = join(work, 'c.sqlite');
    copyFileSync(template, c);
    chunked.push(timed('sqlite3', [c], { input: perChunk }));
    if (count(c) !== stored) throw new Error(`the recipe stored different item counts in one transaction and per chunk: ${stored} vs ${count(c)}`);
    drop(c);
    const b = join(work, 'b.sqlite');
    const out = timed(process.execPath, [CLI, 'ingest', feed, '--db', b, '--json', '--quiet']);
    ingest.push(out);
    const { run_id: runId } = JSON.parse(out.stdout) as { run_id: string };
    if (count(b) !== stored) throw new Error(`the two sides stored different item counts: ${stored} vs ${count(b)}`);
    using store = StateStore.open(b, { readonly: true });
    const tel = store.readTelemetry(runId) as unknown as Telemetry;
    const ws = Object.values(tel.workers);
    const lines = ws.reduce((n, w) => n + w.lines, 0);
    model.push({ w: ws.reduce((n, x) => n + x.writeMs, 0) / lines, p: ws.reduce((n, x) => n + x.parseMs, 0) / lines });
    // The nightly re-delivery: the same feed again into the same database.
    cliAgain.push(timed('sqlite3', [a], { input: recipeAgain }));
    ingestAgain.push(timed(process.execPath, [CLI, 'ingest', feed, '--db', b, '--json', '--quiet']));
    if (count(a) !== stored || count(b) !== stored) throw new Error(`a second run changed the item counts: ${count(a)} and ${count(b)}, not ${stored}`);
    drop(a);
    drop(b);
  }
  rmSync(work, { recursive: true, force: true });

  const speed = cli.map((c, i) => c.wallMs / (ingest[i] as Side).wallMs); // > 1: ingest is faster
  const speedChunked = chunked.map((c, i) => c.wallMs / (ingest[i] as Side).wallMs);
  const speedAgain = cliAgain.map((c, i) => c.wallMs / (ingestAgain[i] as Side).wallMs);
  const secondFaster = ingest.map((c, i) => c.wallMs / (ingestAgain[i] as Side).wallMs);
  const spread = (r: number[]) => `${round(Math.min(...r))}-${round(Math.max(...r))}`;
  const us = (ms: number) => (ms * 1000) / LINES;
  const w = median(model.map((m) => m.w));
  const p = median(model.map((m) => m.p));
  const extra = `${LINES} lines (2% repeated ids), ${PAIRS} alternating rounds, medians`;
  const wall = (sides: Side[]) => round(median(sides.map((c) => c.wallMs)) / 1000);
  const cpu = (sides: Side[]) => round(us(median(sides.map((c) => c.cpuMs))));
  const results: BenchResult[] = [
    { name: 'sqlite3 CLI recipe: wall', unit: 's', value: wall(cli), range: '', extra },
    { name: `sqlite3 CLI recipe per ${DEFAULT_CHUNK_SIZE}-line chunk: wall`, unit: 's', value: wall(chunked), range: '', extra },
    { name: 'ingest (defaults): wall', unit: 's', value: wall(ingest), range: '', extra },
    { name: 'sqlite3 CLI recipe: CPU per item', unit: 'µs', value: cpu(cli), range: '', extra },
    { name: `sqlite3 CLI recipe per ${DEFAULT_CHUNK_SIZE}-line chunk: CPU per item`, unit: 'µs', value: cpu(chunked), range: '', extra },
    { name: 'ingest (defaults): CPU per item', unit: 'µs', value: cpu(ingest), range: '', extra },
    { name: 'ratio: ingest speed / sqlite3 CLI speed', unit: 'x', value: round(median(speed)), range: spread(speed), extra },
    { name: 'ratio: ingest speed / sqlite3 CLI per chunk', unit: 'x', value: round(median(speedChunked)), range: spread(speedChunked), extra },
    { name: 'sqlite3 CLI recipe run again: wall', unit: 's', value: wall(cliAgain), range: '', extra },
    { name: 'ingest again (nightly re-delivery): wall', unit: 's', value: wall(ingestAgain), range: '', extra },
    { name: 'sqlite3 CLI recipe run again: CPU per item', unit: 'µs', value: cpu(cliAgain), range: '', extra },
    { name: 'ingest again: CPU per item', unit: 'µs', value: cpu(ingestAgain), range: '', extra },
    { name: 'ratio: ingest again speed / sqlite3 CLI again speed', unit: 'x', value: round(median(speedAgain)), range: spread(speedAgain), extra },
    { name: 'ratio: ingest second run speed / its first', unit: 'x', value: round(median(secondFaster)), range: spread(secondFaster), extra },
    { name: 'ingest: per item inside the write lock (W)', unit: 'µs', value: round(w * 1000), range: '', extra: 'from the run telemetry' },
    { name: 'ingest: per item outside it, per worker (P)', unit: 'µs', value: round(p * 1000), range: '', extra: 'from the run telemetry' },
  ];
  for (const n of CORES) {
    const predicted = Math.min(1 / w, n / (w + p)) * 1000;
    results.push({ name: `model: ${n} cores`, unit: 'items/s', value: Math.round(predicted), range: '', extra: 'min(1/W, N/(W+P))' });
  }
  console.log(`\npeers benchmark: ${extra}\n`);
  console.table(cli.map((c, i) => {
    const k = chunked[i] as Side;
    const n = ingest[i] as Side;
    return {
      round: i + 1, 'sqlite3 wall s': round(c.wallMs / 1000), 'per chunk wall s': round(k.wallMs / 1000), 'ingest wall s': round(n.wallMs / 1000),
      'ingest / sqlite3': round(speed[i] as number), 'ingest / per chunk': round(speedChunked[i] as number),
      'CPU µs/item: sqlite3': round(us(c.cpuMs)), 'per chunk': round(us(k.cpuMs)), ingest: round(us(n.cpuMs)),
      'again: sqlite3 wall s': round((cliAgain[i] as Side).wallMs / 1000), 'ingest wall s ': round((ingestAgain[i] as Side).wallMs / 1000),
      'ingest again / sqlite3 again': round(speedAgain[i] as number),
    };
  }));
  console.table(results.map((r) => ({ result: r.name, value: r.value, unit: r.unit, range: r.range })));
  writeResults('peers', results);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
