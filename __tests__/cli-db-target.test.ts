import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './helpers/cli';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-target-'); });
afterEach(() => t.cleanup());

const cli = (args: string[], env: NodeJS.ProcessEnv = {}, input?: string) => runCli(args, { cwd: t.dir, env, input });

function feedFile(n: number): string {
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${mixedFeed(n).lines.join('\n')}\n`);
  return p;
}

/** A database at `db` holding one run, `runId`. */
function ingestInto(db: string, runId: string): void {
  const r = cli(['ingest', feedFile(20), '--db', db, '--run-id', runId, '--quiet']);
  if (r.status !== 0) throw new Error(`ingest failed: ${r.stderr}`);
}

function runIds(stdout: string): string[] {
  return (JSON.parse(stdout) as { run_id: string }[]).map((r) => r.run_id);
}

describe('--db and BRAND_ORCH_DB_URL: unsupported schemes', () => {
  const commands: [string, string[]][] = [
    ['ingest', ['ingest', '-']], ['runs', ['runs']], ['items', ['items', '--run', 'latest']], ['rejects', ['rejects', '--run', 'latest']],
    ['verify', ['verify']], ['demo', ['demo']],
  ];

  it.each(commands)('%s --db mysql:///x exits 2 with ERR_INVALID_OPTION and creates nothing', (_name, args) => {
    const r = cli([...args, '--db', 'mysql:///x'], { BRAND_ORCH_ARTIFACTS_DIR: join(t.dir, 'art') }, '{}\n');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('brand-orchestrator: ERR_INVALID_OPTION: Unsupported database URL scheme "mysql:" in `--db`; '
      + 'expected a file path, a file: URL, or a postgres:// URL\n');
    expect(readdirSync(t.dir)).toEqual([]);
  });

  it('refuses an unsupported scheme in BRAND_ORCH_DB_URL, naming the variable, and creates nothing', () => {
    const r = cli(['ingest', '-', '--json'], { BRAND_ORCH_DB_URL: 'http://x/db' }, '{}\n');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^brand-orchestrator: ERR_INVALID_OPTION: Unsupported database URL scheme "http:" in BRAND_ORCH_DB_URL;/);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'ERR_INVALID_OPTION' } });
    expect(readdirSync(t.dir)).toEqual([]);
  });

  it('refuses a URL in BRAND_ORCH_DB_PATH instead of taking it as a file name', () => {
    const r = cli(['runs'], { BRAND_ORCH_DB_PATH: 'mysql:///x' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_INVALID_OPTION: Unsupported database URL scheme "mysql:" in BRAND_ORCH_DB_PATH/);
    expect(readdirSync(t.dir)).toEqual([]);
  });

  it('never creates a folder named after a postgres URL (it once made `postgresql:/x`)', () => {
    for (const args of [['ingest', feedFile(5), '--quiet'], ['runs'], ['verify']]) {
      const r = cli([...args, '--db', 'postgresql:///bo_no_such_database']);
      expect(r.status).not.toBe(0);
      expect(existsSync(join(t.dir, 'postgresql:'))).toBe(false);
    }
    expect(readdirSync(t.dir)).toEqual(['feed.ndjson']);
  });

  it('demo refuses a postgres --db: it works on a SQLite file only', () => {
    const r = cli(['--db', 'postgres://bo:s3cret@localhost/intel', 'demo'], { BRAND_ORCH_ARTIFACTS_DIR: join(t.dir, 'art') });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('brand-orchestrator: ERR_INVALID_OPTION: `demo` uses a SQLite file; give --db a file path, got postgres://bo:***@localhost/intel\n');
    expect(readdirSync(t.dir)).toEqual([]);
  });
});

describe('--db and BRAND_ORCH_DB_URL: which database', () => {
  let a: string;
  let b: string;
  beforeEach(() => {
    a = join(t.dir, 'a.sqlite');
    b = join(t.dir, 'b.sqlite');
    ingestInto(a, 'run-a');
    ingestInto(b, 'run-b');
  });

  it('BRAND_ORCH_DB_URL (a file: URL) wins over BRAND_ORCH_DB_PATH', () => {
    const r = cli(['runs', '--json'], { BRAND_ORCH_DB_URL: pathToFileURL(a).href, BRAND_ORCH_DB_PATH: b });
    expect(r.status).toBe(0);
    expect(runIds(r.stdout)).toEqual(['run-a']);
  });

  it('--db wins over BRAND_ORCH_DB_URL, given as a path or as a file: URL', () => {
    const env = { BRAND_ORCH_DB_URL: pathToFileURL(a).href, BRAND_ORCH_DB_PATH: a };
    expect(runIds(cli(['runs', '--json', '--db', b], env).stdout)).toEqual(['run-b']);
    expect(runIds(cli(['--db', pathToFileURL(b).href, 'runs', '--json'], env).stdout)).toEqual(['run-b']);
  });

  it('an empty BRAND_ORCH_DB_URL counts as unset', () => {
    expect(runIds(cli(['runs', '--json'], { BRAND_ORCH_DB_URL: '', BRAND_ORCH_DB_PATH: b }).stdout)).toEqual(['run-b']);
  });

  it('ingest writes where BRAND_ORCH_DB_URL points, names the file (not the URL), and does not warn of the default path', () => {
    const c = join(t.dir, 'new folder', 'c.sqlite');
    const r = cli(['ingest', feedFile(10), '--run-id', 'run-c', '--json'], { BRAND_ORCH_DB_URL: pathToFileURL(c).href, BRAND_ORCH_DB_PATH: a });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ run_id: 'run-c', db_path: c, inserted: 10 });
    expect(r.stderr).toBe('');
    expect(runIds(cli(['runs', '--json', '--db', c]).stdout)).toEqual(['run-c']);
    expect(runIds(cli(['runs', '--json', '--db', a]).stdout)).toEqual(['run-a']);
  });

  it('every reading command and verify read the database BRAND_ORCH_DB_URL names', () => {
    const env = { BRAND_ORCH_DB_URL: pathToFileURL(a).href, BRAND_ORCH_DB_PATH: b };
    expect(cli(['runs', 'show', 'latest', '--json'], env).stdout).toMatch(/"run_id": "run-a"/);
    expect(cli(['items', '--run', 'run-a'], env).stdout.trim().split('\n')).toHaveLength(20);
    expect(cli(['rejects', '--run', 'run-a', '--summary', '--json'], env).stdout).toMatch(/"run_id": "run-a"/);
    expect(cli(['items', '--run', 'run-b'], env)).toMatchObject({ status: 2, stderr: expect.stringMatching(/ERR_RUN_NOT_FOUND/) as unknown });
    expect(cli(['verify'], env)).toMatchObject({ status: 0, stdout: 'ok: integrity, foreign keys, run counts and the latest run all check out\n' });
  });
});
