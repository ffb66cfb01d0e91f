/**
 * PostgreSQL peers benchmark (#18): `ingest --db postgres://...` (a child
 * process) against the simplest alternative, the psql recipe in
 * bench/psql-recipe.sql, on the peers feed, alternating A B A B, each side
 * in a fresh scratch database that is dropped after it:
 *   npm run bench:pg-peers [-- --lines 200000] [--pairs 3] [--workers 1,2,4] [--processes 2]
 * Needs `psql` and a server (default postgres://postgres@127.0.0.1:5432);
 * skips with a message where either is missing, and skips the ingest side
 * while this build cannot ingest into PostgreSQL. Prints both wall times,
 * the speed ratio pair by pair (target: ingest >= 1.5x), and CPU per item
 * of the client (the child's process tree) and of the server (its process
 * tree, from /proc, when it runs on this machine).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs, intOption } from './lib/args';
import { timed, timedTogether } from './lib/children';
import { PEER_OPTIONS, peerFeed, peerSettings } from './lib/feed';
import { BenchServer } from './lib/pg-server';
import { writeResults, type BenchResult } from './lib/results';
import { median, round2 as round } from './lib/stats';

const args = benchArgs({
  usage: 'npm run bench:pg-peers -- [options]',
  about: 'ingest --db postgres://... (a child process) against the psql recipe in bench/psql-recipe.sql on the same\n'
    + 'generated feed, alternating pairs, a fresh scratch database per side: wall time, client and server CPU per item,\n'
    + 'the speed ratio; written to bench/results. Needs psql and a PostgreSQL server (skipped without them).',
  options: {
    ...PEER_OPTIONS,
    workers: { type: 'string', value: '<n,...>', help: 'throughput mode: ingest with --workers n, for each n listed (e.g. 1,2,4), in every pair' },
    processes: { type: 'string', value: '<n>', help: 'also n ingest processes (default settings) sharing one run (--run-id --join), in every pair' },
    server: { type: 'string', value: '<url>', help: 'maintenance database of the server (default postgres://postgres@127.0.0.1:5432/postgres)' },
  },
});
const { lines: LINES, pairs: PAIRS, seed: SEED } = peerSettings(args);
/** Ingest's settings, one side each: undefined is the defaults. */
const WORKERS: readonly (number | undefined)[] = args.workers === undefined ? [undefined] : args.workers.split(',').map((w) => intOption('workers', w.trim(), 1));
/** Processes sharing one run, a side of its own when given. */
const PROCESSES = args.processes === undefined ? undefined : intOption('processes', args.processes, 2);
const SERVER = args.server ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const RECIPE = join(ROOT, 'bench/psql-recipe.sql');
const PROBE_LINES = 100;
const TARGET = 1.5;

/**
 * The tables and indexes our PostgreSQL migrations create (#18), given to the
 * recipe's own database; ingest's database gets them from the migrations.
 */
const RECIPE_SCHEMA = `
CREATE TABLE runs (run_id text PRIMARY KEY, run_seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE, run_type text NOT NULL,
  started_at timestamptz NOT NULL, status text NOT NULL);
CREATE TABLE intel_items (item_id text PRIMARY KEY, run_id text NOT NULL REFERENCES runs, item_type text NOT NULL,
  title text NOT NULL, summary text NOT NULL, claims_json json NOT NULL, evidence_json json NOT NULL, scores_json json NOT NULL,
  risk_flags_json json NOT NULL, explainability_json json NOT NULL, trend_score double precision, decision text,
  decision_reason text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, line_hash text,
  content_hash text NOT NULL, pos_run bigint NOT NULL, pos_byte bigint NOT NULL);
CREATE INDEX idx_intel_items_run_id ON intel_items (run_id);
CREATE INDEX idx_intel_items_created_at ON intel_items (created_at);`;

interface Side { wallMs: number; cpuMs: number; serverMs: number | null }

const PSQL = ['-X', '-q', '-v', 'ON_ERROR_STOP=1'];

function ingestArgv(feed: string, url: string, workers: number | undefined): string[] {
  return [CLI, 'ingest', feed, '--db', url, '--quiet', ...(workers === undefined ? [] : ['--workers', String(workers)])];
}

/** One ingest side: `--workers` (undefined: the default) and how many processes share the run. */
interface Variant { workers: number | undefined; processes: number }

function label(v: Variant): string {
  if (v.processes > 1) return `${v.processes} processes --join`;
  return v.workers === undefined ? 'ingest (defaults)' : `ingest --workers ${v.workers}`;
}

/** Runs one variant's ingest side: one child, or `processes` children joining one run. */
async function runIngest(v: Variant, feed: string, url: string, work: string): Promise<Pick<Side, 'wallMs' | 'cpuMs'>> {
  if (v.processes === 1) return timed(process.execPath, ingestArgv(feed, url, v.workers), { cwd: work });
  const argv = [...ingestArgv(feed, url, v.workers), '--run-id', 'bench-shared', '--join'];
  return timedTogether(process.execPath, Array.from({ length: v.processes }, () => argv), { cwd: work });
}

/** One side in a fresh database: `prepare` (untimed), then `run` timed with the server's CPU; returns the side and its item count. */
async function side(server: BenchServer, name: string, prepare: (db: string) => unknown,
  run: (db: string) => Pick<Side, 'wallMs' | 'cpuMs'> | Promise<Pick<Side, 'wallMs' | 'cpuMs'>>): Promise<[Side, number]> {
  const db = await server.createDb(name);
  try {
    prepare(db);
    await server.settle(db);
    const s0 = server.cpuMs();
    const t = await run(db);
    await server.settle(db);
    const s1 = server.cpuMs();
    const items = Number(await server.scalar(db, 'SELECT count(*) FROM intel_items'));
    return [{ wallMs: t.wallMs, cpuMs: t.cpuMs, serverMs: s0 === null || s1 === null ? null : s1 - s0 }, items];
  } finally {
    await server.dropDb(db);
  }
}

/**
 * Why ingest cannot run against PostgreSQL in this build, or null when it
 * can: a tiny feed is ingested into a scratch database, from a scratch
 * folder (a build that takes the URL for a file path writes its SQLite file
 * there), and the items must be in the database.
 */
async function ingestUnavailable(server: BenchServer, work: string): Promise<string | null> {
  const probe = await peerFeed(ROOT, PROBE_LINES, SEED);
  const db = await server.createDb('probe');
  try {
    const r = spawnSync(process.execPath, ingestArgv(probe, server.urlOf(db), undefined), { cwd: work, encoding: 'utf8' });
    if (r.status !== 0) {
      const last = r.stderr.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
      return `ingest --db postgres://... exited ${r.status ?? r.signal}: ${last}`;
    }
    const table = await server.scalar(db, "SELECT to_regclass('intel_items') IS NOT NULL");
    const items = table === true ? Number(await server.scalar(db, 'SELECT count(*) FROM intel_items')) : 0;
    return items > 0 ? null : 'ingest exited 0 but wrote no items to PostgreSQL (this build takes the URL for a file path: PostgreSQL ingest has not landed)';
  } finally {
    await server.dropDb(db);
  }
}

async function main(): Promise<void> {
  if (spawnSync('psql', ['--version']).status !== 0) {
    console.log('pg-peers: skipped: psql is not installed (Debian/Ubuntu: apt-get install postgresql-client)');
    return;
  }
  let server: BenchServer;
  try {
    server = await BenchServer.connect(SERVER);
  } catch (err) {
    const e = err as Error & { code?: string };
    console.log(`pg-peers: skipped: no PostgreSQL server at ${new URL(SERVER).host} (${e.code ?? e.message}); `
      + 'start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'bo-pg-peers-'));
  try {
    const feed = await peerFeed(ROOT, LINES, SEED);
    const skip = await ingestUnavailable(server, work);
    if (skip !== null) console.log(`pg-peers: ingest side skipped: ${skip}\npg-peers: measuring the psql recipe alone`);
    const variants: Variant[] = WORKERS.map((workers) => ({ workers, processes: 1 }));
    if (PROCESSES !== undefined) variants.push({ workers: undefined, processes: PROCESSES });
    const sides = skip === null ? variants : [];
    const recipe: Side[] = [];
    const ingest = new Map<Variant, Side[]>(sides.map((v) => [v, []]));
    for (let i = 0; i < PAIRS; i++) {
      const [r, expected] = await side(server, `psql${i}`,
        (db) => timed('psql', [...PSQL, '-d', server.urlOf(db), '-c', RECIPE_SCHEMA]),
        (db) => timed('psql', [...PSQL, '-d', server.urlOf(db), '-f', RECIPE], { stdinFile: feed }));
      recipe.push(r);
      for (const v of sides) {
        const [s, items] = await side(server, `ingest${i}w${v.workers ?? 'd'}p${v.processes}`, () => undefined,
          (db) => runIngest(v, feed, server.urlOf(db), work));
        if (items !== expected) throw new Error(`the two sides stored different item counts: psql ${expected}, ${label(v)} ${items}`);
        ingest.get(v)?.push(s);
      }
    }
    report(recipe, ingest);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await server.close();
  }
}

function report(recipe: readonly Side[], ingest: ReadonlyMap<Variant, readonly Side[]>): void {
  const us = (ms: number) => (ms * 1000) / LINES;
  const extra = `${LINES} lines (2% repeated ids), ${PAIRS} alternating pairs, medians`;
  const results: BenchResult[] = [];
  const rows: Record<string, string | number>[] = [];
  const add = (name: string, sides: readonly Side[], speed?: number[]) => {
    const wall = median(sides.map((s) => s.wallMs));
    const server = sides.every((s) => s.serverMs !== null) ? median(sides.map((s) => s.serverMs as number)) : null;
    results.push(
      { name: `${name}: wall`, unit: 's', value: round(wall / 1000), range: '', extra },
      { name: `${name}: throughput`, unit: 'items/s', value: Math.round((LINES * 1000) / wall), range: '', extra },
      { name: `${name}: client CPU per item`, unit: 'µs', value: round(us(median(sides.map((s) => s.cpuMs)))), range: '', extra },
    );
    if (server !== null) results.push({ name: `${name}: server CPU per item`, unit: 'µs', value: round(us(server)), range: '', extra });
    if (speed !== undefined) {
      results.push({ name: `ratio: ${name} speed / psql recipe speed`, unit: 'x', value: round(median(speed)), range: `${round(Math.min(...speed))}-${round(Math.max(...speed))}`, extra });
    }
    sides.forEach((s, i) => rows.push({
      side: name, pair: i + 1, 'wall s': round(s.wallMs / 1000), 'client CPU µs/item': round(us(s.cpuMs)),
      'server CPU µs/item': s.serverMs === null ? 'not counted' : round(us(s.serverMs)),
      'speed / psql': speed === undefined ? '' : round(speed[i] as number),
    }));
  };
  add('psql recipe', recipe);
  for (const [w, sides] of ingest) add(label(w), sides, sides.map((s, i) => (recipe[i] as Side).wallMs / s.wallMs));
  console.log(`\npg-peers benchmark: ${extra}\n`);
  console.table(rows);
  console.table(results.map((r) => ({ result: r.name, value: r.value, unit: r.unit, range: r.range })));
  if (recipe.some((s) => s.serverMs === null)) console.log('server CPU: not counted (the server\'s processes are not visible in this machine\'s /proc)');
  else console.log('server CPU: the server\'s whole process tree (backends, background writers, any autovacuum) over each side');
  if (ingest.size > 0) console.log(`target (#18): ingest >= ${TARGET}x the psql recipe's speed with default settings`);
  // The model takes the default settings' side (2 workers), else the first one measured.
  const entries = [...ingest.entries()];
  const first = (entries.find(([v]) => v.processes === 1 && (v.workers ?? 2) === 2) ?? entries[0])?.[1];
  if (first !== undefined && first.every((s) => s.serverMs !== null) && recipe.every((s) => s.serverMs !== null)) {
    scalingModel(us(median(first.map((s) => s.cpuMs))), us(median(first.map((s) => s.serverMs as number))), us(median(recipe.map((s) => s.serverMs as number))));
  }
  writeResults('pg-peers', results);
}

/**
 * Throughput on paper beyond this machine, from the measured CPU per item of
 * the client (C, all its processes) and the server (S): N machines of M cores
 * parse and stage in parallel, and a server of K cores merges concurrent
 * chunks in parallel, so items/s = min(N*M/C, K/S). It assumes client and
 * server on separate machines and merges that do not wait for each other
 * (chunks hold disjoint rows, ordered locks); the psql recipe is one
 * statement in one backend, so it stays at 1/S_recipe whatever the cores.
 */
function scalingModel(clientUs: number, serverUs: number, recipeServerUs: number): void {
  const recipe = 1e6 / recipeServerUs;
  const rows = [[1, 2], [2, 2], [4, 2], [4, 4], [8, 4]].map(([n = 1, m = 1]) => {
    const row: Record<string, string | number> = { 'machines x cores': `${n} x ${m}` };
    for (const k of [2, 4, 8, 16]) {
      const items = Math.min((n * m * 1e6) / clientUs, (k * 1e6) / serverUs);
      row[`server ${k} cores: items/s`] = `${Math.round(items)} (${round(items / recipe)}x)`;
    }
    return row;
  });
  console.log(`\nscaling model: items/s = min(N*M/C, K/S), C = ${round(clientUs)} µs client CPU per item, S = ${round(serverUs)} µs server CPU per item;`
    + ` (x) against the psql recipe's ${Math.round(recipe)} items/s (one backend: 1/${round(recipeServerUs)} µs, whatever the cores)`);
  console.table(rows);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
