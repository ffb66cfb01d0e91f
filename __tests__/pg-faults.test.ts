/**
 * Network and server faults on a real connection, through a TCP proxy the
 * test controls: a server that restarts mid-run (every connection dropped,
 * new ones refused for a while) is waited out with back-off and the run
 * completes exactly; one that stays away past `maxOutageMs` ends the run
 * with the first cause, resumable; a joined process cut off by the network
 * while inside a transaction does not stall the others.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import type { RunSummary } from '../src/pipeline';
import pg from 'pg';
import { generateLines } from '../src/gen/generate';
import { CLI, cliEnv } from './helpers/cli';
import { waitUntil } from './helpers/faults';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { startProxy, type TcpProxy } from './helpers/tcp-proxy';
import { tempDir } from './helpers/tmp';
import { snakeKey } from '../src/cli/json-out';

jest.setTimeout(180_000);

const tmp = tempDir('bo-pg-faults-');
const feed = join(tmp.dir, 'feed.ndjson');
const dbs: ScratchDb[] = [];
let proxy: TcpProxy;
let reference: RunSummary;

async function newDb(): Promise<ScratchDb> {
  const d = await scratchDb();
  dbs.push(d);
  return d;
}

const seedFeed = join(tmp.dir, 'seed.ndjson');
let heldId: string;

/**
 * A database holding one item of the feed's chunk ~10, from an earlier run, with other content:
 * a test that holds that row's lock keeps the run from finishing until it
 * lets go, so a fault always lands mid-run, however fast the machine.
 */
async function seededDb(): Promise<ScratchDb> {
  const d = await newDb();
  await runPipeline({ input: seedFeed, db: d.url, runId: 'seed', workers: 1 });
  return d;
}

/** Holds the seeded item's row lock (the run's chunk that holds it waits) until the returned function lets go. */
async function holdRow(d: ScratchDb): Promise<() => Promise<void>> {
  const c = new pg.Client({ connectionString: d.url });
  await c.connect();
  await c.query('BEGIN');
  await c.query('SELECT 1 FROM intel_items WHERE item_id = $1 FOR UPDATE', [heldId]);
  return async () => { await c.query('COMMIT'); await c.end(); };
}

beforeAll(async () => {
  const lines = [...generateLines({ count: 6000, badRatio: 0.01, duplicateRatio: 0.03, seed: 17 })];
  writeFileSync(feed, `${lines.join('\n')}\n`);
  let offset = 0;
  const held = lines.find((l) => {
    offset += Buffer.byteLength(l) + 1;
    if (offset < 10 * 32 * 1024) return false;
    try { return typeof (JSON.parse(l) as { item_id?: unknown }).item_id === 'string'; } catch { return false; }
  }) as string;
  heldId = (JSON.parse(held) as { item_id: string }).item_id;
  // Other content than the feed's line: that line is parsed and its row locked by its chunk (an identical line is skipped).
  writeFileSync(seedFeed, `${JSON.stringify({ ...(JSON.parse(held) as object), title: 'seeded earlier' })}\n`);
  reference = await runPipeline({ input: feed, db: (await seededDb()).url, runId: 'r', workers: 2, maxChunkBytes: 32 * 1024 });
});
beforeEach(async () => { proxy = await startProxy(); });
afterEach(async () => { await proxy.close(); });
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  tmp.cleanup();
});

const COUNTS = ['linesRead', 'blankLines', 'inserted', 'updated', 'unchanged', 'rejected', 'chunks'] as const;
const counts = (s: RunSummary) => Object.fromEntries(COUNTS.map((k) => [k, s[k]]));
const ITEMS = 'SELECT item_id, title, summary, trend_score, decision, decision_reason FROM intel_items ORDER BY item_id';

/** Waits until run r has committed `n` chunks. */
async function untilDone(d: ScratchDb, n: number): Promise<void> {
  await untilAsync(async () => {
    const rows = await d.query<{ n: number }>("SELECT count(*)::int AS n FROM run_chunks WHERE run_id = 'r' AND state = 'done'").catch(() => [{ n: 0 }]);
    return (rows[0]?.n ?? 0) >= n;
  }, `${n} chunks committed`);
}

/** Polls `check` until it holds; the bound only turns a hang into a clear failure. */
async function untilAsync(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}


test('a server restart mid-run (connections dropped, new ones refused for a while) is waited out, and the run completes exactly', async () => {
  const d = await seededDb();
  const letGo = await holdRow(d);
  const run = runPipeline({ input: feed, db: proxy.via(d.url), runId: 'r', workers: 2, maxChunkBytes: 32 * 1024 });
  void run.catch(() => undefined);
  await untilDone(d, 3);
  proxy.refuse(true);
  proxy.drop();
  // Down until the run has tried to connect again three times, whatever the time that takes.
  await waitUntil(() => proxy.refused() >= 3, 'three attempts to connect again');
  proxy.refuse(false);
  await letGo();
  const summary = await run;
  expect(summary.status).toBe('completed');
  expect(counts(summary)).toEqual(counts(reference));
  const [t] = await d.query<{ waits: number }>("SELECT (telemetry_json->>'outageWaits')::int AS waits FROM telemetry WHERE run_id = 'r'");
  expect(t?.waits).toBeGreaterThanOrEqual(3);
});

test('a server that stays away past maxOutageMs ends the run with the first cause, and the run resumes to a clean ingest once it is back', async () => {
  const d = await seededDb();
  const letGo = await holdRow(d);
  const via = proxy.via(d.url);
  // A short lease: the chunks this process held when it gave up are claimed again by the resume after it.
  const run = runPipeline({ input: feed, db: via, runId: 'r', workers: 2, maxChunkBytes: 32 * 1024, maxOutageMs: 1500, leaseMs: 1000 });
  await untilDone(d, 3);
  proxy.refuse(true);
  proxy.drop();
  await letGo();
  const e = await run.then(() => undefined, (err: unknown) => err as { code: string; message: string; summary?: RunSummary });
  expect(e?.code).toBe('ERR_DB_CONNECTION_LOST');
  expect(e?.message).toMatch(/lost the connection to PostgreSQL .*retried with back-off for [\d.]+ s, up to maxOutageMs 1500; the run can be resumed/);
  expect(e?.summary).toMatchObject({ runId: 'r', status: 'running' });
  expect(e?.summary?.warnings?.[0]).toMatch(/^the run's end could not be recorded/);
  proxy.refuse(false);
  const done = await runPipeline({ input: feed, db: via, resume: 'r', workers: 2 });
  expect(done.status).toBe('completed');
  expect(counts(done)).toEqual(counts(reference));
  expect(await d.query(ITEMS)).toEqual(await dbs[0]!.query(ITEMS));
});

test('a joined process cut off by the network inside a transaction holds its locks no longer than about a lease: the other process finishes the run', async () => {
  const d = await seededDb();
  const letGo = await holdRow(d);
  const args = ['ingest', feed, '--run-id', 'shared', '--join', '--lease-ms', '3000', '--chunk-bytes', String(32 * 1024), '--json'];
  // One worker: when it waits for the held row, it is the victim's only chunk in flight.
  const victim = spawn(process.execPath, [CLI, ...args, '--workers', '1', '--db', proxy.via(d.url)], { env: cliEnv(), stdio: 'ignore' });
  try {
    // The victim's chunk that holds the seeded item waits for its row, inside its transaction: cut the network then.
    await untilAsync(async () => (await d.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND client_port = ANY($2::int[])",
      [d.name, proxy.upstreamPorts()])).length > 0, "the victim's chunk to wait for the held row");
    proxy.partition();
    await letGo(); // the victim's statement now completes on the server, which cannot tell it: its transaction sits idle, holding its rows
    const survivor = spawn(process.execPath, [CLI, ...args, '--workers', '2', '--db', d.url], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    survivor.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    const code = await new Promise<number | null>((resolve) => survivor.on('exit', resolve));
    expect(code).toBe(0);
    const summary = JSON.parse(out) as Record<string, unknown>; // the CLI's JSON: snake_case keys
    expect(summary.status).toBe('completed');
    expect(Object.fromEntries(COUNTS.map((k) => [k, summary[snakeKey(k)]]))).toEqual(counts(reference));
  } finally {
    victim.kill('SIGKILL');
  }
});
