import Database from 'better-sqlite3';
import { closeSync, existsSync, linkSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-rejects-'); });
afterEach(() => t.cleanup());

const cli = (args: string[], input?: string) => runCli(args, { cwd: t.dir, input });

function feedFile(n: number, badEvery = 0): string {
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${mixedFeed(n, badEvery).lines.join('\n')}\n`);
  return p;
}

/** A database holding one completed run, `first`. */
function seededDb(): { feed: string; runs: () => unknown[] } {
  const feed = feedFile(200, 50);
  expect(cli(['ingest', feed, '--db', t.db, '--run-id', 'first', '--quiet']).status).toBe(0);
  return {
    feed,
    runs: () => {
      const db = new Database(t.db, { readonly: true });
      try {
        return db.prepare('SELECT run_id, status, lines_read FROM runs ORDER BY run_id').all();
      } finally {
        db.close();
      }
    },
  };
}

function expectRefused(r: ReturnType<typeof cli>, what: RegExp): void {
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^brand-orchestrator: ERR_OUTPUT: Refusing --rejects /);
  expect(r.stderr).toMatch(what);
}

describe('ingest --rejects PATH', () => {
  it('refuses the database itself and leaves every earlier run intact', () => {
    const { feed, runs } = seededDb();
    const before = runs();
    expectRefused(cli(['ingest', feed, '--db', t.db, '--rejects', t.db]), /it is the database/);
    expect(runs()).toEqual(before);
    expect(cli(['verify', '--db', t.db]).status).toBe(0);
  });

  it('refuses the database through another name: a relative path, a symlink, a hard link', () => {
    const { feed, runs } = seededDb();
    const before = runs();
    symlinkSync(t.db, join(t.dir, 'sym.ndjson'));
    linkSync(t.db, join(t.dir, 'hard.ndjson'));
    for (const name of ['./state.sqlite', 'sym.ndjson', 'hard.ndjson']) {
      expectRefused(cli(['ingest', feed, '--db', t.db, '--rejects', name]), /it is the database/);
    }
    expect(runs()).toEqual(before);
  });

  it("refuses the database's -wal and -shm files, and a database that does not exist yet", () => {
    const feed = feedFile(20);
    expectRefused(cli(['ingest', feed, '--db', t.db, '--rejects', `${t.db}-wal`]), /it is the database's -wal file/);
    expectRefused(cli(['ingest', feed, '--db', t.db, '--rejects', `${t.db}-shm`]), /it is the database's -shm file/);
    const fresh = join(t.dir, 'new.sqlite');
    expectRefused(cli(['ingest', feed, '--db', fresh, '--rejects', fresh]), /it is the database/);
  });

  it('refuses the input feed, by name or as the file behind stdin, and leaves it unchanged', () => {
    const feed = feedFile(100, 10);
    const bytes = readFileSync(feed);
    expectRefused(cli(['ingest', feed, '--db', t.db, '--rejects', feed]), /it is the input/);
    const fd = openSync(feed, 'r');
    try {
      const r = runCli(['ingest', '-', '--db', t.db, '--rejects', 'feed.ndjson'], { cwd: t.dir, stdio: [fd, 'pipe', 'pipe'] });
      expectRefused(r, /it is the input/);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(feed)).toEqual(bytes);
  });

  it('refuses a folder', () => {
    expectRefused(cli(['ingest', feedFile(10), '--db', t.db, '--rejects', t.dir]), /it is a folder/);
  });

  it('keeps an existing rejects file until the run writes the new one: a run that cannot start leaves it as it was', () => {
    const target = join(t.dir, 'rejects.ndjson');
    writeFileSync(target, 'yesterday\n');
    const r = cli(['ingest', join(t.dir, 'missing.ndjson'), '--db', t.db, '--rejects', target]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_INPUT/);
    expect(readFileSync(target, 'utf8')).toBe('yesterday\n');
    expect(readdirSync(t.dir).sort()).toEqual(['rejects.ndjson']); // no temporary file left behind
  });

  it('replaces an existing rejects file with the run\'s rejects, through a symlink too, leaving no temporary file', () => {
    const feed = feedFile(100, 25);
    const target = join(t.dir, 'rejects.ndjson');
    writeFileSync(target, 'yesterday\n');
    symlinkSync(target, join(t.dir, 'latest.ndjson'));
    const r = cli(['ingest', feed, '--db', t.db, '--quiet', '--rejects', 'latest.ndjson']);
    expect(r.status).toBe(0);
    const lines = readFileSync(target, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { line_no: number }).line_no);
    expect(lines).toEqual([25, 50, 75, 100]);
    expect(readFileSync(join(t.dir, 'latest.ndjson'), 'utf8')).toBe(readFileSync(target, 'utf8'));
    expect(readdirSync(t.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('refuses a folder it cannot write to before the run starts', () => {
    const r = cli(['ingest', feedFile(10), '--db', t.db, '--rejects', join(t.dir, 'missing', 'r.ndjson')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_OUTPUT: Cannot write .*missing.*r\.ndjson: folder .*missing does not exist/);
    expect(existsSync(t.db)).toBe(false); // found out before the run started
  });
});
