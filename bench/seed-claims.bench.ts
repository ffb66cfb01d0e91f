/**
 * The original Brand Orchestrator's performance claims, reproduced honestly:
 *   node dist/bench/seed-claims.bench.js [--quick] [--help]
 * 1. per-item commits vs one batch transaction for the same 5k items, in the
 *    original's setting (rollback journal, synchronous FULL) and in ours (WAL, NORMAL);
 * 2. one run's items with and without the run_id index on a large table;
 * 3. listing a run with one JSON parse per column vs the raw rows;
 * 4. asDict cached vs uncached.
 */
import Database from 'better-sqlite3';
import { Bench } from 'tinybench';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asDict, buildDict, loadConfig } from '../src/config';
import { parseIntelLine } from '../src/domain';
import type { IntelRow } from '../src/domain/types';
import { generateLines } from '../src/gen/generate';
import { StateStore } from '../src/sqlite';
import { ItemsRepo } from '../src/sqlite/items';
import { MIGRATIONS } from '../src/sqlite/schema';
import { benchArgs } from './lib/args';
import { writeResults, type BenchResult } from './lib/results';
import { round2 as round } from './lib/stats';

const args = benchArgs({
  usage: 'node dist/bench/seed-claims.bench.js [--quick]',
  about: "The original Brand Orchestrator's performance claims, measured: batch vs per-item commits, the run_id index,\n"
    + 'typed listing vs raw rows, asDict cached vs uncached; written to bench/results.',
  options: { quick: { type: 'boolean', help: '1,000 items and a 100,000-row table (default: 5,000 and 1,000,000), 3 or more iterations' } },
});
const QUICK = args.quick;
const ITEMS = QUICK ? 1000 : 5000;
const BIG_TABLE = QUICK ? 100_000 : 1_000_000;
const RUNS_IN_BIG_TABLE = 100;
const config = loadConfig();
const work = mkdtempSync(join(tmpdir(), 'bo-claims-'));
let dbN = 0;

function rows(count: number, seed: number): IntelRow[] {
  const out: IntelRow[] = [];
  let n = 0;
  for (const line of generateLines({ count, seed })) {
    const r = parseIntelLine(line, ++n, config);
    if (r.ok) out.push(r.row);
  }
  return out;
}

/** A bare connection with our schema and the given journal settings. */
function rawDb(journal: 'DELETE' | 'WAL', sync: 'FULL' | 'NORMAL'): { db: Database.Database; items: ItemsRepo } {
  const db = new Database(join(work, `raw-${dbN++}.sqlite`));
  db.pragma(`journal_mode = ${journal}`);
  db.pragma(`synchronous = ${sync}`);
  for (const m of MIGRATIONS) db.exec(m); // the whole current schema
  db.prepare("INSERT INTO runs (run_id, run_type, started_at, status) VALUES ('r', 'bench', '2026-01-01', 'running')").run();
  return { db, items: new ItemsRepo(db) };
}

async function commitsSuite(out: BenchResult[]): Promise<void> {
  const data = rows(ITEMS, 21);
  const now = new Date().toISOString();
  for (const [label, journal, sync] of [['original (DELETE, FULL)', 'DELETE', 'FULL'], ['ours (WAL, NORMAL)', 'WAL', 'NORMAL']] as const) {
    const bench = new Bench({ iterations: QUICK ? 3 : 5, time: 0, warmup: false });
    let target = rawDb(journal, sync);
    const fresh = { beforeEach: () => { target = rawDb(journal, sync); }, afterEach: () => { target.db.close(); } };
    // The store's one engine: stage, then merge in the write transaction.
    const upsert = (batch: readonly IntelRow[]) => target.db.transaction(() => {
      batch.forEach((row, i) => target.items.stage(row, i + 1));
      return target.items.merge('r', now);
    }).immediate();
    bench.add('per-item commits', () => { for (const row of data) upsert([row]); }, fresh);
    bench.add('one batch transaction', () => { upsert(data); }, fresh);
    await bench.run();
    const perItem = ITEMS / (p50(bench, 'per-item commits') / 1000);
    const batch = ITEMS / (p50(bench, 'one batch transaction') / 1000);
    out.push(
      { name: `${label}: per-item commits`, unit: 'items/s', value: Math.round(perItem), range: '', extra: `${ITEMS} items` },
      { name: `${label}: one batch`, unit: 'items/s', value: Math.round(batch), range: '', extra: `${ITEMS} items` },
      // Per-item commits follow the disk, not the code: with FULL each waits for an fsync (75x to 159x in quick
      // runs), with WAL/NORMAL each writes the WAL (5.2x to 8.0x in CI runs, lowest right after the PostgreSQL
      // tests, while that server writes back their data), so bench:check compares neither.
      { name: `ratio: batch / per-item, ${label}`, unit: 'x', value: round(batch / perItem), range: '', extra: 'claimed 50-100x', gate: false as const },
    );
  }
}

async function indexSuite(out: BenchResult[]): Promise<void> {
  const path = join(work, 'big.sqlite');
  {
    using store = StateStore.open(path);
    const template = rows(1, 5)[0] as IntelRow;
    const perRun = BIG_TABLE / RUNS_IN_BIG_TABLE;
    for (let r = 0; r < RUNS_IN_BIG_TABLE; r++) {
      const runId = `run-${r}`;
      store.startRun({ runId, runType: 'bench' });
      const batch: IntelRow[] = [];
      // Runs interleave in time, as nightly runs re-deliver items, so one run's rows are spread over the table.
      for (let i = 0; i < perRun; i++) batch.push({ ...template, itemId: `i-${i * RUNS_IN_BIG_TABLE + r}`, title: `${template.title} ${r}-${i}` });
      store.upsertIntelItemsBatch(runId, batch);
    }
    store.checkpoint();
  }
  const db = new Database(path, { readonly: true });
  const withIndex = db.prepare('SELECT * FROM intel_items WHERE run_id = ? ORDER BY created_at, rowid');
  const noIndex = db.prepare('SELECT * FROM intel_items NOT INDEXED WHERE run_id = ? ORDER BY created_at, rowid');
  const bench = new Bench({ iterations: 10, time: 0, warmup: true, warmupIterations: 1 });
  let k = 0;
  bench.add('with idx_intel_items_run_id', () => { withIndex.all(`run-${k++ % RUNS_IN_BIG_TABLE}`); });
  bench.add('without (NOT INDEXED)', () => { noIndex.all(`run-${k++ % RUNS_IN_BIG_TABLE}`); });
  await bench.run();
  const a = p50(bench, 'with idx_intel_items_run_id');
  const b = p50(bench, 'without (NOT INDEXED)');
  db.close();
  out.push(
    { name: 'query one run: with index', unit: 'ms', value: round(a), range: '', extra: `${BIG_TABLE} rows, ${RUNS_IN_BIG_TABLE} runs` },
    { name: 'query one run: without index', unit: 'ms', value: round(b), range: '', extra: `${BIG_TABLE} rows` },
    // At quick sizes this ratio is bimodal on the standard machine (6.5x or 12-13x in 6 runs, whatever the
    // iterations), so only the full run's is compared by bench:check; store.test pins the index itself.
    { name: 'ratio: run_id index speed-up', unit: 'x', value: round(b / a), range: '', extra: 'claimed 10-50x', ...(QUICK ? { gate: false as const } : {}) },
  );
}

async function listSuite(out: BenchResult[]): Promise<void> {
  const path = join(work, 'list.sqlite');
  using store = StateStore.open(path);
  const run = store.startRun({ runType: 'bench' });
  store.upsertIntelItemsBatch(run.runId, rows(ITEMS, 31));
  const raw = new Database(path, { readonly: true });
  const stmt = raw.prepare('SELECT * FROM intel_items WHERE run_id = ? ORDER BY created_at, rowid');
  const bench = new Bench({ iterations: QUICK ? 5 : 20, time: 0 });
  bench.add('raw rows (no JSON parse)', () => { stmt.all(run.runId); });
  bench.add('listIntelItemsForRun (one parse per column)', () => { store.listIntelItemsForRun(run.runId); });
  await bench.run();
  const a = p50(bench, 'raw rows (no JSON parse)');
  const b = p50(bench, 'listIntelItemsForRun (one parse per column)');
  raw.close();
  out.push(
    { name: 'list a run: typed items', unit: 'items/s', value: Math.round(ITEMS / (b / 1000)), range: '', extra: `${ITEMS} items` },
    { name: 'ratio: typed list / raw rows speed', unit: 'x', value: round(a / b), range: '', extra: 'cost of the five JSON parses per row' },
  );
}

async function asDictSuite(out: BenchResult[]): Promise<void> {
  const bench = new Bench({ time: QUICK ? 100 : 500 });
  bench.add('asDict (cached)', () => { asDict(config); });
  bench.add('buildDict (uncached)', () => { buildDict(config); });
  await bench.run();
  const cached = hz(bench, 'asDict (cached)');
  const uncached = hz(bench, 'buildDict (uncached)');
  out.push(
    { name: 'asDict cached', unit: 'ops/s', value: Math.round(cached), range: '', extra: '' },
    { name: 'asDict uncached', unit: 'ops/s', value: Math.round(uncached), range: '', extra: '' },
    { name: 'ratio: asDict cached / uncached', unit: 'x', value: round(cached / uncached), range: '', extra: 'claimed 10-20x' },
  );
}

function p50(bench: Bench, name: string): number {
  const r = bench.getTask(name)?.result as { latency?: { p50: number } } | undefined;
  if (!r?.latency) throw new Error(`benchmark task ${name} did not complete`);
  return r.latency.p50;
}

function hz(bench: Bench, name: string): number {
  const r = bench.getTask(name)?.result as { throughput?: { mean: number } } | undefined;
  if (!r?.throughput) throw new Error(`benchmark task ${name} did not complete`);
  return r.throughput.mean;
}

async function main(): Promise<void> {
  const out: BenchResult[] = [];
  await commitsSuite(out);
  await indexSuite(out);
  await listSuite(out);
  await asDictSuite(out);
  console.log(`\nseed claims (${QUICK ? 'quick' : 'full'}), medians\n`);
  console.table(out.map((r) => ({ name: r.name, value: r.value, unit: r.unit, note: r.extra })));
  writeResults('seed-claims', out);
  rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
