import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { logLines, runCli } from './helpers/cli';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-outcome-'); });
afterEach(() => t.cleanup());

const cli = (args: string[], wrap?: string[]) => runCli(args, { cwd: t.dir, wrap });
/** The messages of the CLI's log lines (JSON on a non-terminal stderr), with their levels. */
const messages = (stderr: string) => logLines(stderr).map((l) => ({ level: l.level as string, msg: l.msg as string }));

/**
 * Runs the CLI with a file-size limit (RLIMIT_FSIZE, in KiB for bash):
 * writes past `bytes` into any file fail (EFBIG), as on a full disk.
 */
const fileSizeLimit = (bytes: number) => ['bash', '-c', `ulimit -f ${Math.ceil(bytes / 1024)} && exec "$@"`, 'bash'];

function feed(name: string, count: number, seed: number): string {
  const p = join(t.dir, name);
  expect(cli(['generate', '--count', String(count), '--seed', String(seed), '-o', p]).status).toBe(0);
  return p;
}

function recorded(runId: string): { status: string; lines_read: number; notes: string | null } {
  const db = new Database(t.db, { readonly: true });
  try {
    return db.prepare('SELECT status, lines_read, notes FROM runs WHERE run_id = ?').get(runId) as { status: string; lines_read: number; notes: string | null };
  } finally {
    db.close();
  }
}

describe('ingest: outcomes reported as recorded', () => {
  it('a completed run whose final WAL checkpoint fails is reported completed, with its summary and a warning', () => {
    expect(cli(['ingest', feed('a.ndjson', 3000, 1), '--db', t.db, '--run-id', 'first', '--quiet']).status).toBe(0);
    // The database file may not grow, the WAL may: the run commits, its final checkpoint cannot.
    const limit = fileSizeLimit(statSync(t.db).size + 64 * 1024);
    const b = feed('b.ndjson', 1000, 2);
    const r = cli(['ingest', b, '--db', t.db, '--run-id', 'second', '--workers', '1', '--json'], limit);
    expect(messages(r.stderr)).toEqual([{ level: 'warn', msg: expect.stringMatching(/^ERR_DB: The final WAL checkpoint failed/) }]);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as { status: string; warnings?: string[] };
    expect(summary).toMatchObject({ run_id: 'second', status: 'completed', lines_read: 1000, inserted: 1000 });
    expect(summary.warnings).toEqual([expect.stringMatching(/^ERR_DB: The final WAL checkpoint failed: disk I\/O error \(SQLITE_IOERR\w*\); the run's data is committed/)]);
    expect(recorded('second')).toMatchObject({ status: 'completed', lines_read: 1000 });

    const c = feed('c.ndjson', 1000, 3);
    const human = cli(['ingest', c, '--db', t.db, '--run-id', 'third', '--workers', '1', '--quiet'], limit);
    expect(human.status).toBe(0);
    expect(messages(human.stderr)).toEqual([{ level: 'warn', msg: expect.stringMatching(/^ERR_DB: The final WAL checkpoint failed/) }]);
    expect(cli(['verify', '--db', t.db]).status).toBe(0);
  });

  it('a run that fails when the disk fills names the failing chunk, reports the status the database holds, and prints the summary and how to resume', () => {
    expect(cli(['ingest', feed('a.ndjson', 1000, 1), '--db', t.db, '--run-id', 'first', '--quiet']).status).toBe(0);
    // The WAL fills the "disk" a few chunks in; the final checkpoint cannot grow the database either.
    const limit = fileSizeLimit(statSync(t.db).size + 64 * 1024);
    const input = feed('feed.ndjson', 4000, 4);
    const r = cli(['ingest', input, '--db', t.db, '--run-id', 'full', '--workers', '2', '--chunk-size', '200', '--quiet'], limit);
    expect(r.status).toBe(1);
    const run = recorded('full');
    const msgs = messages(r.stderr).map((m) => m.msg);
    const summaryAt = msgs.findIndex((m) => m.startsWith(`run full ${run.status} in `));
    expect(summaryAt).toBeGreaterThanOrEqual(0);
    expect(msgs[summaryAt + 1]).toMatch(/^lines [\d,]+ = /);
    expect(msgs).toContainEqual(expect.stringMatching(/^error ERR_DB: Chunk \d+ \(lines \d+-\d+\): disk I\/O error/));
    expect(msgs[msgs.length - 1]).toMatch(/^resume with: .*--resume full/);
    expect(r.stderr).not.toMatch(/Finishing run/);
    if (run.status === 'failed') expect(run.notes).toMatch(/^ERR_DB: Chunk \d+ /);
    else expect(msgs).toContainEqual(expect.stringMatching(/the run's end \(failed\) could not be recorded: .*; the database says `running`/));

    const resumed = cli(['ingest', input, '--db', t.db, '--resume', 'full', '--json']);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'completed', lines_read: 4000, inserted: 4000 });
  });
});
