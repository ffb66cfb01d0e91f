import Database from 'better-sqlite3';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, readlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SCHEMA_VERSION } from '../src/sqlite';
import { mixedFeed } from './helpers/lines';
import { startFaultyCli } from './helpers/faults';
import { tempDir } from './helpers/tmp';

const CLI = resolve(__dirname, '../dist/src/cli/main.js');
let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-cli-'); });
afterEach(() => t.cleanup());

function cli(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', input, cwd: t.dir, env: { ...process.env, BRAND_ORCH_DB_PATH: join(t.dir, 'env.sqlite') }, timeout: 60_000,
  });
}

function feedFile(n: number, badEvery = 0): string {
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${mixedFeed(n, badEvery).lines.join('\n')}\n`);
  return p;
}

describe('brand-orchestrator ingest', () => {
  it('--json prints only the summary, whose counts match the database', () => {
    const r = cli(['ingest', feedFile(500, 50), '--db', t.db, '--workers', '2', '--chunk-size', '100', '--json', '--run-id', 'r1']);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, number | string>;
    expect(summary).toMatchObject({ run_id: 'r1', status: 'completed', lines_read: 500, inserted: 490, rejected: 10, chunks: 5 });
    const db = new Database(t.db, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM intel_items WHERE run_id = 'r1'").pluck().get()).toBe(490);
    expect(db.prepare("SELECT count(*) FROM run_rejects WHERE run_id = 'r1'").pluck().get()).toBe(10);
    expect(db.prepare("SELECT run_type FROM runs WHERE run_id = 'r1'").pluck().get()).toBe('nightly');
    db.close();
  });

  it('reads stdin with -, uses BRAND_ORCH_DB_PATH, and writes --rejects', () => {
    const rejects = join(t.dir, 'rejects.ndjson');
    const r = cli(['ingest', '-', '--json', '--rejects', rejects], mixedFeed(100, 25).lines.join('\n'));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ lines_read: 100, inserted: 96, rejected: 4 });
    const lines = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line_no: number; code: string });
    expect(lines.map((l) => l.line_no)).toEqual([25, 50, 75, 100]);
    expect(new Database(join(t.dir, 'env.sqlite'), { readonly: true }).prepare('SELECT count(*) FROM intel_items').pluck().get()).toBe(96);
  });

  it('exits 1 when --max-rejects is exceeded, printing the error', () => {
    const r = cli(['ingest', feedFile(400, 10), '--db', t.db, '--workers', '1', '--chunk-size', '100', '--max-rejects', '5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERR_TOO_MANY_REJECTS/);
  });

  it('exits 2 with a one-line message for usage and setup errors', () => {
    const unknownFlag = cli(['ingest', 'x', '--wrkers', '2']);
    expect(unknownFlag.status).toBe(2);
    expect(unknownFlag.stderr).toMatch(/unknown option '--wrkers'/);
    const missing = cli(['ingest', join(t.dir, 'nope.ndjson'), '--db', t.db]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/ERR_INPUT: Cannot read input .*nope\.ndjson: no such file/);
    const db = new Database(t.db);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const tooNew = cli(['ingest', feedFile(10), '--db', t.db]);
    expect(tooNew.status).toBe(2);
    expect(tooNew.stderr).toMatch(/ERR_SCHEMA_TOO_NEW/);
    expect(tooNew.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(cli(['ingest', 'x', '--workers', 'two']).status).toBe(2);
  });

  it('on SIGINT finishes in-flight chunks, marks the run cancelled and exits 130', async () => {
    const gen = cli(['generate', '--count', '60000', '--seed', '3', '-o', join(t.dir, 'big.ndjson')]);
    expect(gen.status).toBe(0);
    // The worker stops before chunk 2 until the signal has been seen: chunk 2 is in flight when it comes.
    const proc = startFaultyCli(['ingest', join(t.dir, 'big.ndjson'), '--db', t.db, '--workers', '1', '--chunk-size', '500', '--run-id', 'sig', '--quiet'],
      t.db, { chunkIndex: 2, kind: 'park' }, t.dir);
    await proc.parked(2);
    await proc.interrupt('SIGINT');
    proc.release(2);
    expect((await proc.exited).code).toBe(130);
    const stderr = proc.stderr();
    expect(stderr).toMatch(/cancelled/);
    const db = new Database(t.db, { readonly: true });
    const run = db.prepare("SELECT status, lines_read, notes FROM runs WHERE run_id = 'sig'").get() as { status: string; lines_read: number; notes: string };
    expect(run.status).toBe('cancelled');
    expect(run.notes).toBe('ERR_CANCELLED: The run was cancelled: SIGINT');
    expect(stderr).toMatch(/resume with: .* ingest \S*big\.ndjson --db \S+ --resume sig/);
    expect(run.lines_read % 500).toBe(0);
    expect(run.lines_read).toBeLessThan(60000);
    expect(db.prepare('SELECT count(*) FROM intel_items').pluck().get())
      .toBe(db.prepare("SELECT sum(inserted) FROM run_chunks WHERE run_id = 'sig'").pluck().get());
    db.close();
  });
});

describe('brand-orchestrator ingest, interrupted before its run starts', () => {
  it('exits 130 with one ERR_CANCELLED line and no run when SIGINT comes while the database is locked', async () => {
    const feed = feedFile(100);
    expect(cli(['ingest', feed, '--db', t.db, '--quiet', '--run-id', 'first']).status).toBe(0); // an existing database, in WAL mode
    const holder = new Database(t.db);
    holder.exec('BEGIN EXCLUSIVE'); // the run cannot start: it waits for the lock
    try {
      const child = spawn(process.execPath, [CLI, 'ingest', feed, '--db', t.db, '--quiet'], { cwd: t.dir });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      // The signal handlers are installed before the database is opened: wait until the child holds it open.
      const holdsDb = () => {
        try {
          return readdirSync(`/proc/${child.pid}/fd`).some((fd) => { try { return readlinkSync(`/proc/${child.pid}/fd/${fd}`) === t.db; } catch { return false; } });
        } catch { return false; }
      };
      for (let i = 0; i < 600 && !holdsDb(); i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      const [notice, error, ...rest] = stderr.trim().split('\n');
      expect(JSON.parse(notice as string)).toMatchObject({ level: 'warn', msg: 'SIGINT: finishing in-flight chunks, then stopping (SIGINT again to exit at once)' });
      expect(error).toMatch(/^brand-orchestrator: ERR_CANCELLED: .*cancelled while waiting for the database lock$/);
      expect(rest).toEqual([]);
    } finally {
      holder.exec('COMMIT');
      holder.close();
    }
    const db = new Database(t.db, { readonly: true });
    expect(db.prepare('SELECT run_id FROM runs').pluck().all()).toEqual(['first']);
    db.close();
  });
});

describe('brand-orchestrator ingest --parse-all', () => {
  it('parses lines that an ordinary re-ingest skips as identical to the stored ones', () => {
    const feed = feedFile(50);
    expect(cli(['ingest', feed, '--db', t.db, '--quiet']).status).toBe(0);
    const db = new Database(t.db);
    const lineHash = db.prepare("SELECT line_hash FROM intel_items WHERE item_id = 'item-3'").pluck().get();
    db.prepare("UPDATE intel_items SET title = 'edited by hand' WHERE item_id = 'item-3'").run();
    db.prepare("UPDATE intel_items SET line_hash = ? WHERE item_id = 'item-3'").run(lineHash); // hides the edit from the skip
    db.close();
    const skipped = cli(['ingest', feed, '--db', t.db, '--json']);
    expect(JSON.parse(skipped.stdout)).toMatchObject({ unchanged: 50, updated: 0 });
    const parsed = cli(['ingest', feed, '--db', t.db, '--json', '--parse-all']);
    expect(JSON.parse(parsed.stdout)).toMatchObject({ unchanged: 49, updated: 1 });
  });
});

describe('brand-orchestrator runs / items / rejects', () => {
  it('lists runs, shows one with telemetry, and exports items that re-ingest as all unchanged', () => {
    expect(cli(['ingest', feedFile(300, 100), '--db', t.db, '--run-id', 'first', '--quiet']).status).toBe(0);
    const list = cli(['runs', '--db', t.db]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/first\s+nightly\s+completed/);
    const show = JSON.parse(cli(['runs', 'show', 'first', '--db', t.db, '--json']).stdout) as { telemetry: { workers: object }; inserted: number };
    expect(show.inserted).toBe(297);
    expect(show.telemetry.workers).toBeDefined();
    const exported = cli(['items', '--run', 'first', '--db', t.db]);
    expect(exported.status).toBe(0);
    expect(exported.stdout.trim().split('\n')).toHaveLength(297);
    const again = cli(['ingest', '-', '--db', t.db, '--json'], exported.stdout);
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 0, updated: 0, unchanged: 297, rejected: 0 });
    const rejects = cli(['rejects', '--run', 'first', '--db', t.db]);
    expect(rejects.stdout).toMatch(/100\s+(not_an_object|invalid_json)/);
    const got = cli(['items', 'get', 'item-1', '--db', t.db]).stdout;
    expect(got.split('\n')).toHaveLength(2); // one line and its newline: NDJSON
    const one = JSON.parse(got) as { item_id: string; run_id: string; trend_score: number };
    expect(one).toMatchObject({ item_id: 'item-1', run_id: 'first', trend_score: expect.any(Number) as unknown });
    // The line re-ingests as it is (run_id and the stored fields are ignored on input).
    expect(JSON.parse(cli(['ingest', '-', '--db', t.db, '--json'], got).stdout)).toMatchObject({ lines_read: 1, unchanged: 1, rejected: 0 });
    expect(cli(['items', 'get', 'nope', '--db', t.db]).status).toBe(1);
    expect(cli(['runs', 'show', 'nope', '--db', t.db]).status).toBe(2);
  });
});

describe('brand-orchestrator output to a closed pipe', () => {
  it('stops quietly with exit 0 when the reader goes away (| head)', async () => {
    expect(cli(['ingest', feedFile(3000), '--db', t.db, '--run-id', 'p', '--quiet']).status).toBe(0);
    const child = spawn(process.execPath, [CLI, 'items', '--run', 'p', '--db', t.db], { cwd: t.dir });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });
});

describe('brand-orchestrator verify', () => {
  it('passes on a good database and exits 1 on a broken one', () => {
    expect(cli(['ingest', feedFile(200), '--db', t.db, '--run-id', 'v', '--quiet']).status).toBe(0);
    const ok = cli(['verify', '--db', t.db]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^ok/);
    const db = new Database(t.db);
    db.prepare("UPDATE runs SET inserted = inserted - 1 WHERE run_id = 'v'").run();
    db.pragma('foreign_keys = OFF');
    db.prepare("UPDATE intel_items SET run_id = 'ghost' WHERE item_id = 'item-1'").run();
    db.close();
    const bad = cli(['verify', '--db', t.db]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/lines_read 200 != /);
    expect(bad.stdout).toMatch(/inserted is 199 on the run but 200/);
    expect(bad.stdout).toMatch(/foreign key: intel_items/);
  });
});

describe('brand-orchestrator --help / --version / generate', () => {
  it('prints help for every command and the version', () => {
    for (const cmd of [[], ['ingest'], ['runs'], ['items'], ['rejects'], ['verify'], ['generate'], ['demo']]) {
      const r = cli([...cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: brand-orchestrator/);
    }
    const v = cli(['--version']);
    expect(v.stdout.trim()).toBe((JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')) as { version: string }).version);
  });

  it('generates the same feed for the same seed', () => {
    const a = cli(['generate', '--count', '50', '--seed', '7']).stdout;
    expect(a.trim().split('\n')).toHaveLength(50);
    expect(cli(['generate', '--count', '50', '--seed', '7']).stdout).toBe(a);
    expect(cli(['generate', '--count', '50', '--seed', '8']).stdout).not.toBe(a);
    expect(cli(['generate', '--count', '5', '--bad-ratio', '2']).status).toBe(2);
  });

  it('generate -o into a missing folder is a setup error: one coded line, exit 2', () => {
    const r = cli(['generate', '--count', '5', '-o', join(t.dir, 'missing', 'feed.ndjson')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`brand-orchestrator: ERR_OUTPUT: Cannot write ${join(t.dir, 'missing', 'feed.ndjson')}: folder ${join(t.dir, 'missing')} does not exist\n`);
  });
});

describe('brand-orchestrator ingest, a second signal', () => {
  it('ends the process at once by that signal, even while a worker waits for the write lock', async () => {
    const gen = cli(['generate', '--count', '20000', '--seed', '4', '-o', join(t.dir, 'big.ndjson')]);
    expect(gen.status).toBe(0);
    // A worker stops inside chunk 3's transaction, holding the write lock for good: no in-flight chunk can finish,
    // so only the second signal can end the process.
    const run = startFaultyCli(['ingest', join(t.dir, 'big.ndjson'), '--db', t.db, '--workers', '2', '--chunk-size', '500', '--run-id', 'twice', '--quiet'],
      t.db, { chunkIndex: 3, kind: 'park-in-transaction' }, t.dir);
    await run.parked(3);
    await run.interrupt('SIGINT');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGINT' }); // a shell reports 130
    expect(run.stderr()).not.toMatch(/FATAL|Abort/i);
    const db = new Database(t.db, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare("SELECT count(*) FROM intel_items").pluck().get() as number) % 500).toBe(0); // whole chunks only
    db.close();
  });
});

describe('JSON outputs', () => {
  /** Every key of `v`, at any depth. */
  function keys(v: unknown): string[] {
    if (v === null || typeof v !== 'object') return [];
    if (Array.isArray(v)) return v.flatMap(keys);
    return Object.entries(v).flatMap(([k, x]) => [k, ...keys(x)]);
  }

  it('name every key in snake_case: ingest --json and its log lines, --summary-file, runs, runs show, rejects, verify, items get', () => {
    const summaryFile = join(t.dir, 'summary.json');
    const r = cli(['ingest', feedFile(300, 100), '--db', t.db, '--run-id', 'snake', '--json', '--summary-file', summaryFile]);
    const log = cli(['ingest', feedFile(300, 100), '--db', join(t.dir, 'other.sqlite'), '--run-id', 'logged']);
    const outputs: unknown[] = [
      JSON.parse(r.stdout), JSON.parse(readFileSync(summaryFile, 'utf8')),
      ...log.stderr.trim().split('\n').map((l) => JSON.parse(l) as unknown),
      JSON.parse(cli(['runs', '--db', t.db, '--json']).stdout), JSON.parse(cli(['runs', 'show', 'snake', '--db', t.db, '--json']).stdout),
      JSON.parse(cli(['rejects', '--run', 'snake', '--db', t.db, '--summary', '--json']).stdout),
      ...cli(['rejects', '--run', 'snake', '--db', t.db, '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown),
      JSON.parse(cli(['verify', '--db', t.db, '--json']).stdout), JSON.parse(cli(['items', 'get', 'item-1', '--db', t.db]).stdout),
    ];
    const all = outputs.flatMap(keys);
    expect(all).toEqual(expect.arrayContaining(['run_id', 'lines_read', 'items_per_second', 'rejects_by_code', 'settings', 'telemetry', 'line_no']));
    // Worker names (`thread-1`) and reject codes are values used as keys: left as they are.
    expect(all.filter((k) => /[A-Z]/.test(k))).toEqual([]);
  });
});

