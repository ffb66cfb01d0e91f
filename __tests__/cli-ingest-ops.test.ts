import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { logLines, runCli, runPrinted } from './helpers/cli';
import { mixedFeed } from './helpers/lines';
import { startFaultyCli } from './helpers/faults';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-ops-'); });
afterEach(() => t.cleanup());

const cli = (args: string[], o: { input?: string | Buffer; env?: Record<string, string>; cwd?: string } = {}) =>
  runCli(args, { cwd: o.cwd ?? t.dir, input: o.input, env: o.env });

function feedFile(n: number, badEvery = 0, name = 'feed.ndjson'): string {
  const p = join(t.dir, name);
  writeFileSync(p, `${mixedFeed(n, badEvery).lines.join('\n')}\n`);
  return p;
}

describe('ingest: a bad night does not look like a good one', () => {
  it('decompresses a gzip feed arriving on stdin', () => {
    const r = cli(['ingest', '-', '--db', t.db, '--json'], { input: gzipSync(`${mixedFeed(200, 50).lines.join('\n')}\n`) });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', lines_read: 200, inserted: 196, rejected: 4, input: null });
  });

  it('fails a feed in the wrong format (most lines rejected) with exit 1 and ERR_TOO_MANY_REJECTS; --max-reject-ratio none lets it complete', () => {
    const csv = join(t.dir, 'feed.csv');
    writeFileSync(csv, 'id,title\n1,a\n2,b\n3,c\n');
    const r = cli(['ingest', csv, '--db', t.db, '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', rejected: 4, error: { code: 'ERR_TOO_MANY_REJECTS' }, rejects_by_code: { invalid_json: 4 } });
    expect(cli(['ingest', csv, '--db', t.db, '--max-reject-ratio', 'none', '--quiet']).status).toBe(0);
    expect(cli(['ingest', csv, '--db', t.db, '--max-reject-ratio', '0.9', '--quiet']).status).toBe(1);
    const bad = cli(['ingest', csv, '--db', t.db, '--max-reject-ratio', '2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Expected `--max-reject-ratio` to be a number from 0 to 1 or `none`, got "2"/);
  });

  it('says how many lines were rejected per code and prints the command that lists them, which works as printed', () => {
    const r = cli(['ingest', feedFile(100, 10), '--db', 'rel.sqlite', '--run-id', 'r1']);
    expect(r.status).toBe(0);
    const line = logLines(r.stderr).map((l) => String(l.msg)).find((m) => m.startsWith('rejected '));
    expect(line).toMatch(/^rejected 10 lines: invalid_json 10; list them: (.*)$/);
    const listed = runPrinted(/list them: (.*)$/.exec(line ?? '')?.[1] ?? '', '/');
    expect(listed.status).toBe(0);
    expect(listed.stdout.trim().split('\n')).toHaveLength(11); // header + 10 rejects
  });
});

describe('ingest: logs a scheduler can use', () => {
  it('writes JSON lines with time, level and run id on every line when stderr is not a terminal', () => {
    const r = cli(['ingest', feedFile(30), '--db', t.db, '--run-id', 'j1']);
    expect(r.status).toBe(0);
    const lines = logLines(r.stderr);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) {
      expect(l).toMatchObject({ level: expect.stringMatching(/^(info|warn)$/), run_id: 'j1', msg: expect.any(String) });
      expect(Number.isNaN(Date.parse(String(l.time)))).toBe(false);
    }
    expect(lines.find((l) => l.summary !== undefined)?.summary).toMatchObject({ status: 'completed', lines_read: 30, db_path: t.db });
  });

  it('honours BRAND_ORCH_LOG_LEVEL: ERROR prints nothing on success, warn (any case) is accepted, DEBUG adds lines', () => {
    const feed = feedFile(30);
    const quiet = cli(['ingest', feed, '--db', t.db], { env: { BRAND_ORCH_LOG_LEVEL: 'ERROR' } });
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
    for (const level of ['warn', 'Warning', 'WARN']) {
      const warn = cli(['ingest', feed, '--db', t.db], { env: { BRAND_ORCH_LOG_LEVEL: level } });
      expect(warn.status).toBe(0);
      expect(logLines(warn.stderr).filter((l) => l.level === 'info')).toEqual([]);
    }
    const info = logLines(cli(['ingest', feed, '--db', t.db]).stderr);
    const debug = logLines(cli(['ingest', feed, '--db', t.db, '--chunk-size', '10'], { env: { BRAND_ORCH_LOG_LEVEL: 'debug' } }).stderr);
    expect(info.some((l) => l.level === 'debug')).toBe(false);
    expect(debug.some((l) => l.level === 'debug')).toBe(true);
    const loud = cli(['ingest', feed, '--db', t.db], { env: { BRAND_ORCH_LOG_LEVEL: 'LOUD' } });
    expect(loud.status).toBe(2);
    expect(loud.stderr).toMatch(/ERR_INVALID_CONFIG: Invalid log level in BRAND_ORCH_LOG_LEVEL/);
  });

  it('writes --summary-file as JSON and --metrics-file as OpenMetrics text, replacing earlier ones', () => {
    const summary = join(t.dir, 'out', 'summary.json');
    const metrics = join(t.dir, 'out', 'bo.prom');
    mkdirSync(join(t.dir, 'out'));
    writeFileSync(summary, 'old');
    const r = cli(['ingest', feedFile(100, 10), '--db', t.db, '--run-id', 's1', '--quiet', '--summary-file', summary, '--metrics-file', metrics]);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({
      run_id: 's1', status: 'completed', lines_read: 100, inserted: 90, rejected: 10, db_path: t.db, input: join(t.dir, 'feed.ndjson'),
      rejects_by_code: { invalid_json: 10 }, finished_at: expect.any(String),
    });
    const prom = readFileSync(metrics, 'utf8');
    expect(prom).toMatch(/^brand_orchestrator_last_run_success 1$/m);
    expect(prom).toMatch(/^brand_orchestrator_last_run_status\{status="completed"\} 1$/m);
    expect(prom).toMatch(/^brand_orchestrator_last_run_lines\{outcome="inserted"\} 90$/m);
    expect(prom).toMatch(/^brand_orchestrator_last_run_rejects\{code="invalid_json"\} 10$/m);
    expect(prom.endsWith('# EOF\n')).toBe(true);
    for (const l of prom.trimEnd().split('\n')) expect(l).toMatch(/^(# (TYPE|HELP|EOF)\b.*|brand_orchestrator_\w+(\{\w+="[^"]*"\})? -?[\d.e+]+)$/);
  });

  it('records a failure before the run in the summary and metrics files, and refuses an unwritable one before starting', () => {
    const summary = join(t.dir, 'summary.json');
    const metrics = join(t.dir, 'bo.prom');
    const r = cli(['ingest', join(t.dir, 'missing.ndjson'), '--db', t.db, '--summary-file', summary, '--metrics-file', metrics]);
    expect(r.status).toBe(2);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ error: { code: 'ERR_INPUT' } });
    expect(readFileSync(metrics, 'utf8')).toMatch(/^brand_orchestrator_last_run_success 0$/m);
    const nowhere = cli(['ingest', feedFile(10), '--db', t.db, '--summary-file', join(t.dir, 'no', 'such', 'dir', 's.json')]);
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toMatch(/ERR_OUTPUT: Cannot write --summary-file .*s\.json: folder .*dir does not exist/);
    expect(existsSync(t.db)).toBe(false);
  });

  it('under --json, prints failures before the run as a JSON error object on stdout', () => {
    const missing = cli(['ingest', join(t.dir, 'missing.ndjson'), '--db', t.db, '--json']);
    expect(missing.status).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({ error: { code: 'ERR_INPUT', message: expect.stringMatching(/^Cannot read input .*missing\.ndjson: no such file$/) } });
    const flag = cli(['ingest', 'x', '--wrkers', '2', '--json']);
    expect(flag.status).toBe(2);
    expect(JSON.parse(flag.stdout)).toEqual({ error: { code: 'ERR_USAGE', message: "unknown option '--wrkers' (did you mean --workers?); see brand-orchestrator ingest --help" } });
    expect(flag.stderr).toBe("brand-orchestrator: ERR_USAGE: unknown option '--wrkers' (did you mean --workers?); see brand-orchestrator ingest --help\n");
    const runs = cli(['runs', '--db', join(t.dir, 'none.sqlite'), '--json']);
    expect(runs.status).toBe(2);
    expect(JSON.parse(runs.stdout)).toMatchObject({ error: { code: 'ERR_DB' } });
  });
});

describe('ingest: signals', () => {
  it('exits 143 on SIGTERM (128 + 15), after marking the run cancelled', async () => {
    expect(cli(['generate', '--count', '60000', '--seed', '3', '-o', join(t.dir, 'big.ndjson')]).status).toBe(0);
    // The worker stops before chunk 2 until the signal has been seen: the run is under way and cannot end first.
    const run = startFaultyCli(['ingest', 'big.ndjson', '--db', t.db, '--workers', '1', '--chunk-size', '500', '--run-id', 'term'],
      t.db, { chunkIndex: 2, kind: 'park' }, t.dir);
    await run.parked(2);
    await run.interrupt('SIGTERM');
    run.release(2);
    expect((await run.exited).code).toBe(143);
    const stderr = run.stderr();
    const lines = logLines(stderr);
    expect(lines.find((l) => l.level === 'warn' && String(l.msg).startsWith('SIGTERM: finishing in-flight chunks'))).toBeDefined();
    expect(lines.find((l) => String(l.msg).startsWith('resume with: '))?.msg).toMatch(/ingest .*big\.ndjson --db .* --resume term$/);
    const db = new Database(t.db, { readonly: true });
    expect(db.prepare("SELECT status FROM runs WHERE run_id = 'term'").pluck().get()).toBe('cancelled');
    db.close();
  });
});

describe('ingest: paths that cron cannot surprise', () => {
  it('names the absolute database and input paths, keeps the absolute input in the run settings, and its resume hint works from anywhere', () => {
    const sub = join(t.dir, 'job');
    mkdirSync(sub);
    feedFile(300, 10);
    const r = cli(['ingest', '../feed.ndjson', '--db', 'state.sqlite', '--run-id', 'cron', '--chunk-size', '100', '--max-rejects', '5', '--json'], { cwd: sub });
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { dbPath: string; input: string };
    expect(report).toMatchObject({ db_path: join(sub, 'state.sqlite'), input: join(t.dir, 'feed.ndjson'), status: 'failed' });
    const db = new Database(join(sub, 'state.sqlite'), { readonly: true });
    const settings = JSON.parse(db.prepare("SELECT settings_snapshot_json FROM runs WHERE run_id = 'cron'").pluck().get() as string) as { input: string };
    db.close();
    expect(settings.input).toBe(join(t.dir, 'feed.ndjson'));
    const hint = logLines(r.stderr).map((l) => String(l.msg)).find((m) => m.startsWith('resume with: '));
    expect(hint).toBeDefined();
    const resumed = runPrinted(`${(hint ?? '').slice('resume with: '.length)} --json`, '/');
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ run_id: 'cron', status: 'completed', lines_read: 300 });
  });

  it('resumes the run named by --resume latest or by a unique prefix of its id', () => {
    const feed = feedFile(300, 10);
    const fail = ['--db', t.db, '--chunk-size', '100', '--max-rejects', '5', '--quiet'];
    expect(cli(['ingest', feed, ...fail, '--run-id', 'alpha-1']).status).toBe(1);
    expect(JSON.parse(cli(['ingest', feed, '--db', t.db, '--resume', 'latest', '--json']).stdout)).toMatchObject({ run_id: 'alpha-1', status: 'completed' });
    expect(cli(['ingest', feed, ...fail, '--run-id', 'bravo-2']).status).toBe(1);
    expect(JSON.parse(cli(['ingest', feed, '--db', t.db, '--resume', 'bra', '--json']).stdout)).toMatchObject({ run_id: 'bravo-2', status: 'completed' });
  });

  it('warns when it creates a new database at the default path, naming it in full', () => {
    const r = cli(['ingest', feedFile(10), '--quiet'], { cwd: t.dir });
    expect(r.status).toBe(0);
    const warn = logLines(r.stderr).find((l) => l.level === 'warn');
    expect(warn?.msg).toBe(`no --db or BRAND_ORCH_DB_PATH: created a new database at the default path ${join(t.dir, 'data', 'brand_orchestrator.sqlite')}`);
    expect(logLines(cli(['ingest', feedFile(10), '--quiet'], { cwd: t.dir }).stderr)).toEqual([]); // it exists now
  });
});

describe('demo', () => {
  it('uses --db, and its hints are commands that work as printed', () => {
    const db = join(t.dir, 'demo.sqlite');
    const r = cli(['--db', db, 'demo'], { env: { BRAND_ORCH_ARTIFACTS_DIR: join(t.dir, 'art') } });
    expect(r.status).toBe(0);
    expect(existsSync(db)).toBe(true);
    expect(existsSync(join(t.dir, 'data'))).toBe(false);
    expect(r.stdout).not.toMatch(/npm run/);
    const next = /^next: (.*)$/m.exec(r.stdout)?.[1] ?? '';
    const listed = runPrinted(`${next} | head -3`, '/');
    expect(listed.stdout).toMatch(/^line\s+code\s+reason\n\d+\s+\w+/);
    // Through a pipe too, its log lines are for people: no JSON among them.
    const logs = r.stderr.split('\n').filter((l) => l !== '');
    expect(logs.length).toBeGreaterThan(0);
    for (const l of logs) expect(l).not.toMatch(/^\{/);
    expect(r.stderr).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: \[[\w-]+\] progress: [\d,]+ lines/m);
  });
});

describe('ingest: the next step printed after a failed run changes the outcome', () => {
  it('after ERR_TOO_MANY_REJECTS (the reject ratio) suggests accepting the rejects; the printed command completes the run', () => {
    const csv = join(t.dir, 'feed.csv');
    writeFileSync(csv, `${[...mixedFeed(3).lines, 'a,b', 'c,d', 'e,f', 'g,h'].join('\n')}\n`);
    const r = cli(['ingest', csv, '--db', t.db, '--run-id', 'ratio']);
    expect(r.status).toBe(1);
    const hint = logLines(r.stderr).map((l) => String(l.msg)).find((m) => m.startsWith('resume with: ')) ?? '';
    expect(hint).toMatch(/--resume ratio --max-reject-ratio none \(keeps the valid lines, accepts the rejects\); or fix the feed and start a new run$/);
    const again = runPrinted(`${hint.slice('resume with: '.length).replace(/ \(keeps.*$/, '')} --json`, '/');
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ run_id: 'ratio', status: 'completed', rejected: 4 });
  });

  it('after ERR_INPUT_CHANGED does not suggest resuming on the changed file, but a new run on it', () => {
    const feed = feedFile(300, 0);
    expect(cli(['ingest', feed, '--db', t.db, '--run-id', 'chg', '--chunk-size', '100', '--max-rejects', '0', '--quiet']).status).toBe(0);
    // A failed run to resume: the same feed with a bad line at its end.
    writeFileSync(feed, `${readFileSync(feed, 'utf8')}not json\n`);
    expect(cli(['ingest', feed, '--db', t.db, '--run-id', 'chg2', '--chunk-size', '100', '--max-rejects', '0', '--quiet']).status).toBe(1);
    writeFileSync(feed, readFileSync(feed, 'utf8').replace('"item_id":"', '"item_id":"X'));
    const r = cli(['ingest', feed, '--db', t.db, '--resume', 'chg2']);
    expect(r.status).toBe(1);
    const msgs = logLines(r.stderr).map((l) => String(l.msg));
    expect(msgs.some((m) => m.startsWith('error ERR_INPUT_CHANGED'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('resume with: '))).toBe(false);
    expect(msgs[msgs.length - 1]).toMatch(/^the input differs from what run chg2 committed: resume it only on the feed it started on, or start a new run on this one: .* ingest \S*feed\.ndjson --db \S+$/);
  });
});

describe('usage errors', () => {
  it.each([
    [['ingst'], "unknown command 'ingst' (did you mean ingest?); see brand-orchestrator --help"],
    [['rejects'], "required option '--run <run-id>' not specified; see brand-orchestrator rejects --help"],
    [['items'], "required option '--run <run-id>' not specified; see brand-orchestrator items --help"],
    [['ingest', 'x', '--workers', 'two'], "option '--workers <n>' argument 'two' is invalid. Expected `--workers` to be a positive integer, got \"two\"; see brand-orchestrator ingest --help"],
    [['ingest', 'x', '--join'], '--join needs --run-id: every process of a shared run names the same run'],
  ])('%p is one ERR_USAGE line, exit 2', (args, message) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`brand-orchestrator: ERR_USAGE: ${message}\n`);
  });
});

describe('--help', () => {
  it.each(['ingest', 'runs', 'items', 'rejects', 'verify', 'demo'])('%s --help shows --db, the environment it reads, and an example', (cmd) => {
    const r = cli([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--db <path\|url>/);
    expect(r.stdout).toMatch(/Environment:\n {2}BRAND_ORCH_DB_URL, BRAND_ORCH_DB_PATH/);
    expect(r.stdout).toMatch(/PGHOST, PGPORT, PGDATABASE, PGUSER/);
    expect(r.stdout).toMatch(new RegExp(`Examples:\\n {2}brand-orchestrator ${cmd}`));
  });

  it('the top-level description names both backends', () => {
    expect(cli(['--help']).stdout).toMatch(/into SQLite or\s+PostgreSQL/);
  });
});
