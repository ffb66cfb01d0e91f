/**
 * What the reading commands do with rows they cannot trust: a stored column
 * that is not valid JSON is named (item and column) with a stable code, never
 * a stack trace, and `verify` lists it; feed text that a terminal would obey
 * or hide prints escaped in every item output.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli';
import { itemLine } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-rows-'); });
afterEach(() => t.cleanup());

const cli = (args: string[]) => runCli(args, { cwd: t.dir });

function ingest(lines: string[]): void {
  const feed = join(t.dir, 'feed.ndjson');
  writeFileSync(feed, `${lines.join('\n')}\n`);
  expect(cli(['ingest', feed, '--db', t.db, '--run-id', 'r', '--quiet']).status).toBe(0);
}

describe('a stored row that does not parse', () => {
  it('is reported by items get and items --run (NDJSON and table) as ERR_DB_CORRUPT naming the item and column, and verify finds it', () => {
    ingest([itemLine('good'), itemLine('bad')]);
    const db = new Database(t.db);
    db.prepare("UPDATE intel_items SET scores_json = '{\"impact\":1,\"trend_score\":NaN}' WHERE item_id = 'bad'").run();
    db.close();
    for (const args of [['items', 'get', 'bad'], ['items', '--run', 'r'], ['items', '--run', 'r', '--format', 'table']]) {
      const r = cli([...args, '--db', t.db]);
      expect({ args, status: r.status }).toEqual({ args, status: 1 });
      expect(r.stderr).toMatch(/^brand-orchestrator: ERR_DB_CORRUPT: Item "bad": its scores_json column does not hold valid JSON/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(cli(['items', 'get', 'good', '--db', t.db]).status).toBe(0);
    const v = cli(['verify', '--db', t.db]);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/^problem: item "bad": scores_json not valid JSON$/m);
  });
});

describe('feed text in item outputs', () => {
  const hostile = 'A\u2028B\u200bC\u009b31mD\u202eE\ufeffF';
  it('is escaped in items --format table, and JSON-escaped (same value) in items get and items --run', () => {
    ingest([itemLine('x1', { title: hostile })]);
    const table = cli(['items', '--run', 'r', '--format', 'table', '--db', t.db]);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain('A\\u2028B\\u200bC\\x9b31mD\\u202eE\\ufeffF');
    const get = cli(['items', 'get', 'x1', '--db', t.db]);
    const exported = cli(['items', '--run', 'r', '--db', t.db]);
    for (const out of [get.stdout, exported.stdout]) {
      expect(out).not.toMatch(/[\u2028\u200b\u009b\u202e\ufeff]/);
      expect(out).toContain('A\\u2028B\\u200bC\\u009b31mD\\u202eE\\ufeffF');
    }
    expect((JSON.parse(get.stdout) as { title: string }).title).toBe(hostile);
    expect((JSON.parse(exported.stdout) as { title: string }).title).toBe(hostile);
  });
});
