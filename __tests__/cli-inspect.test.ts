import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import { StateStore } from '../src/sqlite';
import { runCli, runPrinted } from './helpers/cli';
import { mixedFeed } from './helpers/lines';
import { startFaultyCli } from './helpers/faults';
import { commitChunk, makeRow, tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-inspect-'); });
afterEach(() => t.cleanup());

const cli = (args: string[], input?: string) => runCli(args, { cwd: t.dir, input });

function ingest(runId: string, lines: string[], ...flags: string[]): void {
  const feed = join(t.dir, `${runId}.ndjson`);
  writeFileSync(feed, `${lines.join('\n')}\n`);
  const r = cli(['ingest', feed, '--db', t.db, '--run-id', runId, '--quiet', ...flags]);
  if (r.status !== 0) throw new Error(`ingest failed: ${r.stderr}`);
}

/** A run left `running` by a process that no longer exists, with `chunks` chunks of 100 lines committed. */
function killedRun(runId: string, chunks: number): void {
  using store = StateStore.open(t.db);
  store.startRun({ runId, runType: 'nightly', settings: { chunkSize: 100, input: join(t.dir, 'feed.ndjson') } });
  for (let c = 0; c < chunks; c++) {
    const meta = { chunkIndex: c, firstLineNo: c * 100 + 1, lineCount: 100, byteStart: c * 1000, byteEnd: (c + 1) * 1000, checksum: `c${c}` };
    const rows = Array.from({ length: 98 }, (_, i) => makeRow(`${runId}-${c}-${i}`));
    commitChunk(t.db, runId, { meta, rows, blankLines: 1, rejects: [{ lineNo: c * 100 + 100, code: 'invalid_json', reason: 'bad', excerpt: '{' }] });
  }
  const dead = spawnSync(process.execPath, ['-e', '']).pid; // exited: its pid names no process
  const db = new Database(t.db);
  // A dead owner, silent for long past the heartbeat window (a run from before owner tokens is judged by that).
  db.prepare("UPDATE runs SET owner_pid = ?, heartbeat_at = '2000-01-01T00:00:00.000Z' WHERE run_id = ?").run(dead, runId);
  db.close();
}

describe('brand-orchestrator runs', () => {
  it('documents --limit, --status (with its choices) and --json in `runs --help`', () => {
    const help = cli(['runs', '--help']);
    expect(help.status).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/--limit <n>/);
    expect(text).toMatch(/--status <status> .*\(choices: "running", "completed", "failed", "cancelled"\)/);
    expect(text).toMatch(/--json/);
  });

  it('refuses an unknown --status and a --limit of 0 with exit 2 instead of an empty table', () => {
    ingest('r', mixedFeed(10).lines);
    const bogus = cli(['runs', '--db', t.db, '--status', 'bogus']);
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toMatch(/argument 'bogus' is invalid. Allowed choices are running, completed, failed, cancelled/);
    const zero = cli(['runs', '--db', t.db, '--limit', '0']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/Expected `--limit` to be a positive integer, got "0"/);
  });

  it('shows the committed-chunk totals of a run whose process was killed, not zeros', () => {
    killedRun('killed', 3);
    const list = cli(['runs', '--db', t.db]);
    // Its duration: the working time up to its last heartbeat (here older than its start: none).
    expect(list.stdout).toMatch(/killed\s+nightly\s+interrupted\s+\S+ \S+\s+0ms\s+300\s+294\s+0\s+0\s+3\s+3\b/);
    const json = JSON.parse(cli(['runs', 'show', 'killed', '--db', t.db, '--json']).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ status: 'running', stale: true, lines_read: 300, inserted: 294, rejected: 3, blank_lines: 3, chunks: 3 });
  });
});

describe('run references: `latest` and unique id prefixes', () => {
  it('are accepted by runs show, items and rejects', () => {
    ingest('alpha-1111', mixedFeed(20, 10).lines);
    ingest('beta-2222', mixedFeed(30, 10).lines);
    expect(JSON.parse(cli(['runs', 'show', 'latest', '--db', t.db, '--json']).stdout)).toMatchObject({ run_id: 'beta-2222' });
    expect(JSON.parse(cli(['runs', 'show', 'alp', '--db', t.db, '--json']).stdout)).toMatchObject({ run_id: 'alpha-1111' });
    expect(cli(['rejects', '--run', 'latest', '--db', t.db, '--json']).stdout.trim().split('\n')).toHaveLength(3);
    expect(cli(['rejects', '--run', 'alpha', '--db', t.db, '--json']).stdout.trim().split('\n')).toHaveLength(2);
    // The items a run last changed: beta re-delivered alpha's items unchanged, so its own are item-21 to item-29.
    expect(cli(['items', '--run', 'be', '--db', t.db]).stdout.trim().split('\n')).toHaveLength(9);
  });

  it('fail with exit 2 and ERR_RUN_AMBIGUOUS when a prefix matches several runs, naming them', () => {
    ingest('night-1', mixedFeed(5).lines);
    ingest('night-2', mixedFeed(5).lines);
    const r = cli(['items', '--run', 'night', '--db', t.db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('brand-orchestrator: ERR_RUN_AMBIGUOUS: Run id prefix "night" matches several runs ("night-2", "night-1"); give more of the id\n');
  });
});

describe('brand-orchestrator items / rejects on large runs', () => {
  /** A run of `n` items and `n` rejects, written straight into the tables (fast). */
  function bigRun(n: number): void {
    StateStore.open(t.db).close();
    const db = new Database(t.db);
    db.prepare("INSERT INTO runs (run_id, run_type, started_at, status) VALUES ('big', 'nightly', '2024-01-01T00:00:00Z', 'completed')").run();
    const item = db.prepare("INSERT INTO intel_items (item_id, run_id, item_type, title, summary, created_at, updated_at) VALUES (?, 'big', 'news', ?, '', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')");
    const reject = db.prepare("INSERT INTO run_rejects (run_id, line_no, code, reason, excerpt) VALUES ('big', ?, 'invalid_json', ?, '{')");
    db.transaction(() => {
      for (let i = 1; i <= n; i++) { item.run(`item-${i}`, `title ${i}`); reject.run(i, `reason ${i}`); }
    })();
    db.close();
  }

  it('print tables of 150,000 rows (streamed; the spread of every row into Math.max overflowed the stack)', () => {
    bigRun(150_000);
    const items = cli(['items', '--run', 'big', '--format', 'table', '--db', t.db]);
    expect(items.stderr).toBe('');
    expect(items.status).toBe(0);
    const lines = items.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(150_001);
    expect(lines[1]).toMatch(/^item-1\s{7}news/); // padded to the widest id, item-150000
    const rejects = cli(['rejects', '--run', 'big', '--db', t.db]);
    expect(rejects.status).toBe(0);
    expect(rejects.stdout.trimEnd().split('\n')).toHaveLength(150_001);
  });
});

describe('brand-orchestrator rejects --summary', () => {
  it('counts rejects per code, most frequent first, with the first lines of each', () => {
    const lines = mixedFeed(40, 4).lines; // every 4th line bad: even ones cut JSON, odd ones arrays
    ingest('r', lines);
    const r = cli(['rejects', '--run', 'r', '--summary', '--examples', '2', '--db', t.db]);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').slice(0, 7)).toEqual([
      'run r: 10 rejected lines',
      'invalid_json  10',
      expect.stringMatching(/^ {2}line 4: Line is not valid JSON: /),
      '    {"item_id": "broken", ',
      expect.stringMatching(/^ {2}line 8: Line is not valid JSON: /),
      '    {"item_id": "broken", ',
      '',
    ]);
    const json = JSON.parse(cli(['rejects', '--run', 'r', '--summary', '--json', '--db', t.db]).stdout) as { rejected: number; codes: { code: string; count: number; examples: unknown[] }[] };
    expect(json.rejected).toBe(10);
    expect(json.codes.map((c) => [c.code, c.count, c.examples.length])).toEqual([['invalid_json', 10, 3]]);
  });
});

/** A C0 control character other than tab and newline, which a terminal acts on. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f]/;

describe('terminal safety: control characters are escaped in human-readable output', () => {
  it('escapes titles in the items table and raw ESC/NUL bytes in rejects reasons and excerpts', () => {
    ingest('evil', [
      JSON.stringify({ item_id: 'y', item_type: 'news', title: '\u001b[2J\u001b]0;pwned\u0007', summary: 's' }),
      '\u001b[2J\u0000garbage',
    ]);
    const table = cli(['items', '--run', 'evil', '--format', 'table', '--db', t.db]);
    expect(table.stdout).not.toMatch(RAW_CONTROL);
    expect(table.stdout).toMatch(/\\x1b\[2J\\x1b\]0;pwned\\x07/);
    for (const args of [['rejects', '--run', 'evil'], ['rejects', '--run', 'evil', '--summary']]) {
      const out = cli([...args, '--db', t.db]).stdout;
      expect(out).toMatch(/\\x1b\[2J\\x00garbage/);
      expect(out).not.toMatch(RAW_CONTROL);
    }
    // JSON output stays JSON: the exact text, escaped by JSON itself.
    const json = JSON.parse(cli(['rejects', '--run', 'evil', '--json', '--db', t.db]).stdout) as { excerpt: string };
    expect(json.excerpt).toBe('\u001b[2J\u0000garbage');
  });

  it('escapes a control character from the command line in the one-line error', () => {
    const r = cli(['runs', 'show', 'x\u001b]0;pwned\u0007', '--db', t.db]);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
  });
});

describe('brand-orchestrator verify', () => {
  it('warns (exit 1) when the latest run was killed, and prints a resume command that works as printed', async () => {
    ingest('good', mixedFeed(50).lines);
    expect(cli(['verify', '--db', t.db]).status).toBe(0);
    const feed = join(t.dir, 'big.ndjson');
    expect(cli(['generate', '--count', '40000', '--seed', '5', '-o', feed]).status).toBe(0);
    // Killed while its worker is stopped before chunk 2: two chunks committed, the rest not.
    const run = startFaultyCli(['ingest', 'big.ndjson', '--db', t.db, '--run-id', 'killed', '--workers', '1', '--chunk-size', '500', '--quiet'],
      t.db, { chunkIndex: 2, kind: 'park' }, t.dir);
    await run.parked(2);
    run.child.kill('SIGKILL');
    await run.exited;
    const r = cli(['verify', '--db', t.db]);
    expect(r.status).toBe(1);
    expect(JSON.parse(cli(['verify', '--db', t.db, '--json']).stdout)).toMatchObject({ ok: false, problems: [], warnings: [expect.stringMatching(/stale/)] });
    const warning = /^warning: the latest run killed is stale: its process stopped after committing ([\d,]+) lines in (\d+) chunks; resume it: (.*)$/m.exec(r.stdout);
    expect(warning).not.toBeNull();
    const resumed = runPrinted(warning?.[3] ?? '', '/'); // from another folder, as printed
    expect(resumed.status).toBe(0);
    expect(cli(['verify', '--db', t.db]).status).toBe(0);
    expect(JSON.parse(cli(['runs', 'show', 'killed', '--db', t.db, '--json']).stdout)).toMatchObject({ status: 'completed', lines_read: 40_000 });
  });

  it('warns when the latest run failed, naming its cause, and when it rejected most of its lines', async () => {
    writeFileSync(join(t.dir, 'bad.ndjson'), `${[...mixedFeed(3).lines, 'x', 'y', 'z', 'w'].join('\n')}\n`);
    await runPipeline({ input: join(t.dir, 'bad.ndjson'), dbPath: t.db, runId: 'bad-feed', maxRejectRatio: 'none' });
    const most = cli(['verify', '--db', t.db]);
    expect(most.status).toBe(1);
    expect(most.stdout).toMatch(/^warning: the latest run bad-feed rejected 4 of 7 non-blank lines; is the feed in the expected format\? See why: .* rejects --db .* --run bad-feed --summary$/m);
    const feed = join(t.dir, 'f.ndjson');
    writeFileSync(feed, `${mixedFeed(300, 10).lines.join('\n')}\n`);
    expect(cli(['ingest', feed, '--db', t.db, '--run-id', 'failing', '--chunk-size', '100', '--max-rejects', '5', '--quiet']).status).toBe(1);
    const failed = cli(['verify', '--db', t.db]);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(/^warning: the latest run failing failed after committing 100 lines in 1 chunk \(ERR_TOO_MANY_REJECTS: .*\); fix the cause, then resume it: .* ingest .*f\.ndjson --db .* --resume failing$/m);
  });

  it('reports a malformed database as a problem with exit 1, and every other command gives a one-line ERR_DB_CORRUPT', () => {
    ingest('r', mixedFeed(3000, 100).lines);
    const fd = openSync(t.db, 'r+');
    const garbage = Buffer.alloc(4096, 0x5a);
    for (let page = 2; page * 4096 < fstatSync(fd).size; page += 3) writeSync(fd, garbage, 0, garbage.length, page * 4096);
    closeSync(fd);
    const v = cli(['verify', '--db', t.db]);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/^problem: .*database disk image is malformed \(SQLITE_CORRUPT\)/m);
    for (const args of [['items', '--run', 'r'], ['rejects', '--run', 'r', '--summary'], ['items', '--run', 'r', '--format', 'table']]) {
      const r = cli([...args, '--db', t.db]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^brand-orchestrator: ERR_DB_CORRUPT: \w+ failed: database disk image is malformed \(SQLITE_CORRUPT\); `verify` reports what is damaged\n$/);
    }
  });

  it('reports a database whose header was overwritten as a problem (exit 1), not as a setup error', () => {
    ingest('r', mixedFeed(10).lines);
    const fd = openSync(t.db, 'r+');
    writeSync(fd, Buffer.alloc(100, 0x5a), 0, 100, 0);
    closeSync(fd);
    const v = cli(['verify', '--db', t.db]);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/^problem: Cannot .* database .*: file is not a database \(SQLITE_NOTADB\)\n$/);
    const runs = cli(['runs', '--db', t.db]);
    expect(runs.stderr).toMatch(/^brand-orchestrator: ERR_DB_CORRUPT: Cannot .* file is not a database \(SQLITE_NOTADB\); `verify` reports what is damaged\n$/);
    expect(runs.status).toBe(1);
  });
});

describe('on an 80-column terminal (COLUMNS=80)', () => {
  const narrow = (args: string[]) => runCli(args, { cwd: t.dir, env: { COLUMNS: '80' } });
  const longest = (text: string) => Math.max(...text.trimEnd().split('\n').map((l) => [...l].length));
  const longId = 'nightly-2026-12-07-with-a-long-descriptive-run-id';

  it('runs: fits the width, the run id cut to a prefix that still resolves it; --json keeps every value', () => {
    ingest(longId, mixedFeed(30, 10).lines);
    const wide = runCli(['runs', '--db', t.db], { cwd: t.dir });
    expect(longest(wide.stdout)).toBeGreaterThan(80); // the natural table would wrap
    const r = narrow(['runs', '--db', t.db]);
    expect(r.status).toBe(0);
    expect(longest(r.stdout)).toBeLessThanOrEqual(80);
    const [header, row] = r.stdout.split('\n');
    expect(header).toMatch(/^run_id\s+status\s+started\s+duration\s+lines\s+inserted\s+rejected/);
    const prefix = /^(\S+)…/.exec(row ?? '')?.[1] ?? '';
    expect(longId.startsWith(prefix) && prefix.length >= 8).toBe(true);
    expect(JSON.parse(narrow(['runs', 'show', prefix, '--db', t.db, '--json']).stdout)).toMatchObject({ run_id: longId });
    expect(JSON.parse(narrow(['runs', '--db', t.db, '--json']).stdout)).toMatchObject([{ run_id: longId }]);
  });

  it('items --format table: titles and ids cut with …, the NDJSON export whole', () => {
    const title = `A very long title ${'that keeps going '.repeat(8)}to the end`;
    ingest('long', [JSON.stringify({ item_id: `item-${'x'.repeat(60)}`, item_type: 'article', title, summary: 's' })]);
    const r = narrow(['items', '--run', 'long', '--db', t.db, '--format', 'table']);
    expect(r.status).toBe(0);
    expect(longest(r.stdout)).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/item-x+… .*A very long title .*…$/m);
    const exported = JSON.parse(narrow(['items', '--run', 'long', '--db', t.db]).stdout) as { title: string; item_id: string };
    expect(exported).toMatchObject({ title, item_id: `item-${'x'.repeat(60)}` });
  });

  it('runs show: the run, its settings and telemetry as aligned key/value lines, no JSON', () => {
    ingest('kv', mixedFeed(30, 10).lines, '--workers', '1');
    const out = narrow(['runs', 'show', 'kv', '--db', t.db]).stdout;
    expect(out).toMatch(/^run {7}kv$/m); // keys padded to the longest, `finished`
    expect(out).toMatch(/^status {4}completed$/m);
    expect(out).toMatch(/^lines {5}30 = 0 blank \+ \d+ inserted \+ 0 updated \+ 0 unchanged \+ \d+ rejected$/m);
    expect(out).toMatch(/^settings\n {2}\w+ +\S/m);
    expect(out).toMatch(/^ {2}workers +1$/m);
    expect(out).toMatch(/^telemetry\n/m);
    expect(out).toMatch(/^ {2}workers\.[\w-]+\.parseMs +[\d.]+$/m);
    expect(out).not.toMatch(/[{}]/);
  });
});
