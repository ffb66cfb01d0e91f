/**
 * PostgreSQL failures a nightly job meets, each with a stable code and a
 * message naming the server and database (never the password); a connection
 * lost mid-run rolls its chunk back and the run goes on.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateLines } from '../src/gen/generate';
import { runPipeline } from '../src/backend';
import { ADMIN_URL, scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(120_000);

const tmp = tempDir('bo-pg-err-');
const feed = join(tmp.dir, 'feed.ndjson');
let db: ScratchDb;

beforeAll(async () => {
  db = await scratchDb();
  writeFileSync(feed, `${[...generateLines({ count: 4000, seed: 3 })].join('\n')}\n`);
});
afterAll(async () => {
  await db?.drop();
  tmp.cleanup();
});

function withDb(name: string, over: { user?: string; password?: string; port?: string } = {}): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  if (over.user !== undefined) u.username = over.user;
  if (over.password !== undefined) u.password = over.password;
  if (over.port !== undefined) u.port = over.port;
  return u.toString();
}

async function failure(url: string): Promise<{ code: string; message: string }> {
  try {
    await runPipeline({ input: feed, workers: 1, db: url });
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected the run to fail');
}

test('server down: ERR_DB_UNREACHABLE, naming host, port and database, not the password', async () => {
  const err = await failure(withDb('nightly', { port: '1', password: 's3cret-pw' }));
  expect(err.code).toBe('ERR_DB_UNREACHABLE');
  expect(err.message).toMatch(/:1, database "nightly"/);
  expect(err.message).not.toContain('s3cret-pw');
});

test('an unknown role: ERR_DB_AUTH', async () => {
  const err = await failure(withDb(db.name, { user: 'no_such_role_bo', password: 'hunter2-pw' }));
  expect(err.code).toBe('ERR_DB_AUTH');
  expect(err.message).toContain(`database "${db.name}"`);
  expect(err.message).not.toContain('hunter2-pw');
});

test('a missing database: ERR_DB_MISSING, with what to do', async () => {
  const err = await failure(withDb('bo_no_such_database'));
  expect(err.code).toBe('ERR_DB_MISSING');
  expect(err.message).toMatch(/database "bo_no_such_database".*createdb/);
});

test('a URL the driver cannot read: ERR_INVALID_OPTION', async () => {
  const err = await failure('postgres://user:pw@[::1/x');
  expect(err.code).toBe('ERR_INVALID_OPTION');
  expect(err.message).not.toContain(':pw@');
});

test('connections lost mid-run (workers and the scheduler): chunks roll back, are retried, and the run completes exactly', async () => {
  let terminated = 0;
  let finished = false;
  const doneChunks = async () => Number((await db.query<{ n: string }>(
    "SELECT count(*) AS n FROM run_chunks WHERE run_id = 'lost' AND state = 'done'").catch(() => [{ n: '0' }]))[0]?.n ?? 0);
  // Three times, each once more chunks are done, end the run's busy connections until a worker's is among them.
  // At most three losses can hit one chunk, well inside its 10 attempts, however slow the machine is.
  const killer = (async () => {
    for (const after of [2, 12, 24]) {
      await waitUntilAsync(async () => finished || (await doneChunks()) >= after, `${after} chunks done`);
      for (let hitWorker = false; !hitWorker && !finished;) {
        const rows = await db.query<{ t: boolean; app: string }>(`SELECT pg_terminate_backend(pid) AS t, application_name AS app FROM pg_stat_activity
          WHERE datname = $1 AND application_name LIKE 'brand-orchestrator%' AND state <> 'idle' AND pid <> pg_backend_pid()`, [db.name]);
        terminated += rows.filter((r) => r.t).length;
        hitWorker = rows.some((r) => r.t && r.app === 'brand-orchestrator worker');
      }
    }
  })();
  let summary;
  try {
    summary = await runPipeline({ input: feed, workers: 2, runId: 'lost', maxChunkBytes: 64 * 1024, maxAttempts: 10, db: db.url });
  } finally {
    finished = true;
    await killer;
  }
  expect(summary).toMatchObject({ status: 'completed', linesRead: 4000, inserted: 4000, rejected: 0 });
  expect(terminated).toBeGreaterThan(0);
  const [row] = await db.query<{ n: string; retries: number }>(
    "SELECT (SELECT count(*) FROM intel_items) AS n, (SELECT (telemetry_json->>'retries')::int FROM telemetry WHERE run_id = 'lost') AS retries");
  expect(Number(row?.n)).toBe(4000);
  expect(row?.retries).toBeGreaterThan(0);
});

async function waitUntilAsync(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
