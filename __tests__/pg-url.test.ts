/**
 * A PostgreSQL URL as a `psql` user writes it: what it leaves out comes from
 * the libpq variables, the user name from the operating system even where
 * USER is unset (cron, systemd); a malformed one is refused before anything
 * is tried.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateLines } from '../src/gen/generate';
import { spawnSync } from 'node:child_process';
import { CLI, runCli } from './helpers/cli';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(60_000);

const tmp = tempDir('bo-pg-url-');
let db: ScratchDb;
beforeAll(async () => { db = await scratchDb(); });
afterAll(async () => {
  await db?.drop();
  tmp.cleanup();
});

/** The environment without `names`, any PG* or BRAND_ORCH_* variable, plus `extra`. */
function envWithout(names: string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!names.includes(k) && !k.startsWith('PG') && !k.startsWith('BRAND_ORCH_')) env[k] = v;
  return { ...env, ...extra };
}

/** The CLI in exactly `env`. */
function cliIn(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: tmp.dir, env, encoding: 'utf8', timeout: 60_000 });
}

test('a URL with a space in its host is ERR_INVALID_OPTION, exit 2, and nothing is tried', () => {
  const r = runCli(['runs', '--db', 'postgres://bad url/x'], { cwd: tmp.dir });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^brand-orchestrator: ERR_INVALID_OPTION: Cannot read the database URL .*: the host "bad url" holds white space/);
});

test('with USER and PGUSER unset, a URL without a user connects as the operating-system user, as psql does', () => {
  const feed = join(tmp.dir, 'feed.ndjson');
  writeFileSync(feed, `${[...generateLines({ count: 50, seed: 2 })].join('\n')}\n`);
  // The socket URL of the issue; the local server trusts local users (root and postgres both have roles here).
  const url = `postgresql:///${db.name}?host=/var/run/postgresql`;
  const env = envWithout(['USER', 'LOGNAME']);
  expect(env.USER).toBeUndefined();
  const r = cliIn(['ingest', feed, '--db', url, '--json'], env);
  expect(r.stderr).not.toMatch(/no PostgreSQL user name specified/);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', lines_read: 50 });
});

test('PGHOST, PGPORT and PGDATABASE fill in what the URL leaves out', () => {
  // The run of the test above is there to list.
  const r = cliIn(['runs', '--db', 'postgres://', '--json'], envWithout([], { PGHOST: '127.0.0.1', PGPORT: '5432', PGDATABASE: db.name, PGUSER: 'postgres' }));
  expect(r.status).toBe(0);
  expect((JSON.parse(r.stdout) as unknown[]).length).toBeGreaterThan(0);
});
