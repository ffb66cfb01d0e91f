/**
 * Every output flag of `ingest` (--summary-file, --metrics-file, --rejects, --rejects-lines)
 * goes through one guard: none can replace the database, its companions or
 * the input, by any name; an output that cannot be written fails the job
 * (exit 1) with the data committed and said so.
 */
import Database from 'better-sqlite3';
import { existsSync, linkSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-outputs-'); });
afterEach(() => t.cleanup());

const cli = (args: string[]) => runCli(args, { cwd: t.dir });
const FLAGS = ['--summary-file', '--metrics-file', '--rejects', '--rejects-lines'] as const;

function seeded(): { feed: string; items: () => number } {
  const feed = join(t.dir, 'feed.ndjson');
  writeFileSync(feed, `${mixedFeed(200, 50).lines.join('\n')}\n`);
  expect(cli(['ingest', feed, '--db', t.db, '--run-id', 'first', '--quiet']).status).toBe(0);
  return {
    feed,
    items: () => {
      const db = new Database(t.db, { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT count(*) FROM intel_items').pluck().get() as number;
      } finally {
        db.close();
      }
    },
  };
}

describe('ingest output flags', () => {
  it.each(FLAGS)('%s refuses the database, its -wal file and the input, by path, symlink and hard link (exit 2, nothing written)', (flag) => {
    const { feed, items } = seeded();
    const before = items();
    const feedBytes = readFileSync(feed);
    // The database is in WAL mode: after a clean close its -wal file is gone, so it is named, not linked.
    symlinkSync(t.db, join(t.dir, 'db-link.json'));
    linkSync(t.db, join(t.dir, 'db-hard.json'));
    symlinkSync(feed, join(t.dir, 'feed-link.json'));
    linkSync(feed, join(t.dir, 'feed-hard.json'));
    const cases: [string, RegExp][] = [
      [t.db, /it is the database/], ['./state.sqlite', /it is the database/], ['db-link.json', /it is the database/], ['db-hard.json', /it is the database/],
      [`${t.db}-wal`, /-wal file/], [feed, /it is the input/], ['feed-link.json', /it is the input/], ['feed-hard.json', /it is the input/],
    ];
    for (const [path, why] of cases) {
      const r = cli(['ingest', feed, '--db', t.db, '--quiet', flag, path]);
      expect({ path, status: r.status }).toEqual({ path, status: 2 });
      expect(r.stderr).toMatch(new RegExp(`^brand-orchestrator: ERR_OUTPUT: Refusing ${flag} `));
      expect(r.stderr).toMatch(why);
    }
    expect(items()).toBe(before);
    expect(readFileSync(feed)).toEqual(feedBytes);
    expect(cli(['verify', '--db', t.db]).status).toBe(0);
  });

  it('refuses two output flags naming the same file', () => {
    const { feed } = seeded();
    const out = join(t.dir, 'out.json');
    const r = cli(['ingest', feed, '--db', t.db, '--summary-file', out, '--metrics-file', './out.json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_OUTPUT: Refusing --metrics-file \.\/out\.json: --summary-file names the same file/);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 1 when a report file cannot be written at the end, with the data committed, the other file written and no temporary file left', () => {
    const feed = join(t.dir, 'feed.ndjson');
    writeFileSync(feed, `${mixedFeed(300).lines.join('\n')}\n`);
    const summary = join(t.dir, 'summary.json');
    // /proc passes the pre-check for root (access() says writable) but takes no new file.
    const r = cli(['ingest', feed, '--db', t.db, '--run-id', 'n1', '--quiet', '--metrics-file', '/proc/bo.prom', '--summary-file', summary]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERR_OUTPUT: Cannot write --metrics-file \/proc\/bo\.prom: /);
    expect(r.stderr).toMatch(/run n1 is completed and its data committed, but an output file could not be written/);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ run_id: 'n1', status: 'completed', inserted: 300 });
    const db = new Database(t.db, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM intel_items').pluck().get()).toBe(300);
    db.close();
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces an existing report file atomically, keeping its permission bits', () => {
    const { feed } = seeded();
    const summary = join(t.dir, 'summary.json');
    writeFileSync(summary, 'old', { mode: 0o640 });
    expect(cli(['ingest', feed, '--db', t.db, '--run-id', 'second', '--quiet', '--summary-file', summary]).status).toBe(0);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ run_id: 'second' });
    expect(statSync(summary).mode & 0o777).toBe(0o640);
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
