/**
 * Pipeline benchmark (plain node on the build output):
 *   npm run build && node dist/bench/pipeline.bench.js [--lines 200000] [--iterations 3] [--quick]
 *     [--workers 1,2,4] [--stored 0] [--help]
 * Measures, in one run on the same data and pragmas: the single-thread
 * reference loop, the SQLite-only ceiling (pre-built rows upserted through
 * the store's one upsert engine), runPipeline with 1/2/4 workers, and
 * a second ingest of the same file (all unchanged). Prints items/s and ratios.
 * Every task writes into an empty database, or with `--stored N` into a copy
 * of one that already holds N other items (a nightly update: SQLite's work
 * per row grows with the tables), made once before the tasks and copied
 * outside their timing.
 */
import { Bench } from 'tinybench';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config';
import { parseIntelLine } from '../src/domain';
import type { IntelRow } from '../src/domain/types';
import { writeFeed } from '../src/gen/generate';
import { runPipeline } from '../src/backend';
import { StateStore } from '../src/sqlite';
import { benchArgs, intOption } from './lib/args';
import { writeResults, type BenchResult } from './lib/results';
import { median } from './lib/stats';

const args = benchArgs({
  usage: 'node dist/bench/pipeline.bench.js [options]',
  about: 'runPipeline with 1/2/4 workers against a one-thread reference loop and the SQLite-only ceiling, and a second\n'
    + 'ingest of the same file; items/s (medians) and ratios, written to bench/results.',
  options: {
    quick: { type: 'boolean', help: '20,000 lines, 3 iterations (default: 200,000 lines, 3 iterations)' },
    lines: { type: 'string', value: '<n>', help: 'lines of the generated feed' },
    iterations: { type: 'string', value: '<n>', help: 'runs of each task; the median is reported' },
    workers: { type: 'string', value: '<list>', help: 'worker counts to run, comma-separated (default 1,2,4)' },
    stored: { type: 'string', value: '<n>', help: 'ingest into a copy of a database already holding this many other items (default 0)' },
  },
});
const LINES = intOption('lines', args.lines, args.quick ? 20_000 : 200_000);
const ITERATIONS = intOption('iterations', args.iterations, 3);
const WORKERS = (args.workers ?? '1,2,4').split(',').map((w) => intOption('workers', w, 1));
const STORED = intOption('stored', args.stored, 0, 0);
const TX_ROWS = 10_000;
const config = loadConfig();

async function main(): Promise<void> {
  const dataDir = resolve(__dirname, '../../bench/.data');
  mkdirSync(dataDir, { recursive: true });
  const feed = join(dataDir, `feed-${LINES}.ndjson`);
  if (!existsSync(feed)) await writeFeed(feed, { count: LINES, badRatio: 0.001, seed: 11 });
  const work = mkdtempSync(join(tmpdir(), 'bo-bench-'));
  const template = STORED > 0 ? await storedDatabase(dataDir, work, STORED) : undefined;
  let n = 0;
  const freshDb = () => {
    const path = join(work, `db-${n++}.sqlite`);
    if (template !== undefined) copyFileSync(template, path);
    return path;
  };
  // The ceiling's rows, built outside its timing and dropped after it, so
  // their heap does not weigh on the other tasks' garbage collection.
  let prebuilt: IntelRow[] = [];

  let db = '';
  const bench = new Bench({ iterations: ITERATIONS, time: 0, warmup: false });
  // Every iteration gets a new database, removed afterwards so the run does
  // not pile up gigabytes of files (and page cache) as it goes.
  const drop = (path: string) => { for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true }); };
  const fresh = { beforeEach: () => { db = freshDb(); }, afterEach: () => drop(db) };
  bench.add('reference', () => referenceLoop(feed, db), fresh);
  bench.add('ceiling', () => ceiling(prebuilt, db), {
    ...fresh,
    beforeAll: async () => { prebuilt = await parseAll(feed); },
    afterAll: () => { prebuilt = []; },
  });
  // Each pipeline run's own telemetry: how busy the threads and the write lock were.
  const shares = new Map<string, { pool: number[]; writeLock: number[] }>();
  for (const w of WORKERS) {
    const name = `pipeline-${w}w`;
    let runId = '';
    bench.add(name, async () => { runId = (await runPipeline({ input: feed, dbPath: db, workers: w, config })).runId; }, {
      ...fresh,
      afterEach: () => {
        const tel = readShares(db, runId);
        const s = shares.get(name) ?? { pool: [], writeLock: [] };
        s.pool.push(tel.poolUtilization);
        s.writeLock.push(tel.writeLockShare);
        shares.set(name, s);
        drop(db);
      },
    });
  }
  // The same file again into a database that already holds it: every line unchanged.
  let seeded = '';
  bench.add('pipeline-2w-rerun', async () => { await runPipeline({ input: feed, dbPath: seeded, workers: 2, config }); }, {
    beforeEach: async () => { seeded = freshDb(); await runPipeline({ input: feed, dbPath: seeded, workers: 2, config }); },
    afterEach: () => drop(seeded),
  });
  await bench.run();

  const rate = (name: string) => {
    const task = bench.getTask(name);
    const r = task?.result as { latency?: { p50: number } } | undefined;
    return r?.latency ? LINES / (r.latency.p50 / 1000) : Number.NaN;
  };
  const results: BenchResult[] = bench.tasks.map((t) => ({
    name: t.name, unit: 'items/s', value: Math.round(rate(t.name)), range: '',
    extra: `median of ${ITERATIONS}, ${LINES} lines${STORED > 0 ? `, ${STORED} items stored before` : ''}`,
  }));
  const ratios: Record<string, number> = {};
  for (const w of WORKERS) {
    ratios[`pipeline-${w}w / reference`] = rate(`pipeline-${w}w`) / rate('reference');
    ratios[`pipeline-${w}w / ceiling`] = rate(`pipeline-${w}w`) / rate('ceiling');
  }
  ratios['rerun / first (2w)'] = rate('pipeline-2w-rerun') / rate('pipeline-2w');
  const into = STORED > 0 ? `into a database holding ${STORED} other items` : 'into an empty database';
  console.log(`\npipeline benchmark: ${LINES} lines (${feed}) ${into}, ${ITERATIONS} iteration(s), medians\n`);
  console.table(results.map((r) => ({ task: r.name, 'items/s': r.value })));
  console.table(Object.entries(ratios).map(([k, v]) => ({ ratio: k, value: Number(v.toFixed(2)) })));
  for (const [k, v] of Object.entries(ratios)) results.push({ name: `ratio: ${k}`, unit: 'x', value: Number(v.toFixed(3)), range: '', extra: '' });
  // Shares (0-1, unit `share`: not a ratio the regression check compares).
  const shareRows: { task: string; 'pool utilisation': number; 'write-lock share': number }[] = [];
  for (const [name, s] of shares) {
    const pool = median(s.pool);
    const writeLock = median(s.writeLock);
    shareRows.push({ task: name, 'pool utilisation': pool, 'write-lock share': writeLock });
    const extra = `median of ${s.pool.length}, from the run's telemetry`;
    results.push({ name: `${name} pool utilisation`, unit: 'share', value: pool, range: '', extra, better: 'bigger' });
    // How much of the run a worker held the write lock: a diagnostic, neither better nor worse.
    results.push({ name: `${name} write-lock share`, unit: 'share', value: writeLock, range: '', extra, better: 'none' });
  }
  console.log('\nHow busy the pool was (share of thread time parsing or writing) and the write lock (share of the run):');
  console.table(shareRows);
  writeResults('pipeline', results);
  rmSync(work, { recursive: true, force: true });
}

/** A database holding `count` items of another feed (other ids), made once and checkpointed: each task starts from a copy. */
async function storedDatabase(dataDir: string, work: string, count: number): Promise<string> {
  const feed = join(dataDir, `stored-${count}.ndjson`);
  if (!existsSync(feed)) await writeFeed(feed, { count, badRatio: 0, seed: 12 });
  const path = join(work, 'stored.sqlite');
  const s = await runPipeline({ input: feed, dbPath: path, workers: 2, config });
  if (s.status !== 'completed' || s.inserted !== count) throw new Error(`Could not build the stored database: ${JSON.stringify(s)}`);
  return path;
}

function readShares(dbPath: string, runId: string): { poolUtilization: number; writeLockShare: number } {
  using store = StateStore.open(dbPath, { readonly: true });
  const tel = store.readTelemetry(runId) as { poolUtilization?: unknown; writeLockShare?: unknown } | undefined;
  if (typeof tel?.poolUtilization !== 'number' || typeof tel.writeLockShare !== 'number') {
    throw new Error(`Run ${runId} wrote no pool utilisation / write-lock share telemetry`);
  }
  return { poolUtilization: tel.poolUtilization, writeLockShare: tel.writeLockShare };
}

/** What a user would write without this project: stream, parse, upsert in 10k-row transactions on one thread. */
async function referenceLoop(feed: string, dbPath: string): Promise<void> {
  using store = StateStore.open(dbPath);
  const run = store.startRun({ runType: 'bench-reference' });
  let rows: IntelRow[] = [];
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(feed), crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    const r = parseIntelLine(line, lineNo, config);
    if (r.ok) rows.push(r.row);
    if (rows.length === TX_ROWS) { store.upsertIntelItemsBatch(run.runId, rows); rows = []; }
  }
  if (rows.length > 0) store.upsertIntelItemsBatch(run.runId, rows);
  store.finishRun(run.runId, 'completed');
  store.checkpoint('TRUNCATE');
}

/** SQLite work alone: rows already built in memory, upserted in 10k-row transactions. */
function ceiling(rows: IntelRow[], dbPath: string): void {
  using store = StateStore.open(dbPath);
  const run = store.startRun({ runType: 'bench-ceiling' });
  for (let i = 0; i < rows.length; i += TX_ROWS) store.upsertIntelItemsBatch(run.runId, rows.slice(i, i + TX_ROWS));
  store.finishRun(run.runId, 'completed');
  store.checkpoint('TRUNCATE');
}

async function parseAll(feed: string): Promise<IntelRow[]> {
  const rows: IntelRow[] = [];
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(feed), crlfDelay: Infinity })) {
    const r = parseIntelLine(line, ++lineNo, config);
    if (r.ok) rows.push(r.row);
  }
  return rows;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
