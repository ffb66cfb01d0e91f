/**
 * `brand-orchestrator report` and `ingest --report` as a user runs them:
 * the page written to a file or stdout, for a completed and a failed run,
 * through the output guard.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-cli-report-'); });
afterEach(() => t.cleanup());

function feedFile(n: number, badEvery = 25): string {
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${mixedFeed(n, badEvery).lines.join('\n')}\n`);
  return p;
}

describe('brand-orchestrator report', () => {
  it('writes the page of the latest run to -o, or to stdout in a pipe', () => {
    expect(runCli(['ingest', feedFile(500), '--db', t.db, '--run-id', 'n1', '--quiet'], { cwd: t.dir }).status).toBe(0);
    const r = runCli(['report', '--db', t.db, '-o', 'run.html'], { cwd: t.dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^wrote the report of run n1 to \S+run\.html \(\d+ KiB\)\n$/);
    const page = readFileSync(join(t.dir, 'run.html'), 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<h1>Run n1 <span class="status completed">completed</span></h1>');
    const piped = runCli(['report', '--db', t.db, '--run', 'n1'], { cwd: t.dir });
    expect(piped.status).toBe(0);
    expect(piped.stdout.replace(/report generated [^ ]+/, '')).toBe(page.replace(/report generated [^ ]+/, ''));
  });

  it('refuses to write over the database, and names an unknown run', () => {
    expect(runCli(['ingest', feedFile(100), '--db', t.db, '--quiet'], { cwd: t.dir }).status).toBe(0);
    const over = runCli(['report', '--db', t.db, '-o', t.db], { cwd: t.dir });
    expect(over.status).toBe(2);
    expect(over.stderr).toMatch(/^brand-orchestrator: ERR_OUTPUT: Refusing --output \S+: it is the database/);
    const unknown = runCli(['report', '--db', t.db, '--run', 'nope', '-o', 'x.html'], { cwd: t.dir });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/ERR_RUN_NOT_FOUND/);
    expect(existsSync(join(t.dir, 'x.html'))).toBe(false);
  });
});

describe('ingest --report', () => {
  it('writes the page at the end of a failed run, with the command that resumes it', () => {
    const r = runCli(['ingest', feedFile(400, 2), '--db', t.db, '--run-id', 'bad', '--max-reject-ratio', '0.1', '--report', 'bad.html'], { cwd: t.dir });
    expect(r.status).toBe(1); // half the lines rejected, over 0.1: ERR_TOO_MANY_REJECTS
    const page = readFileSync(join(t.dir, 'bad.html'), 'utf8');
    expect(page).toContain('<span class="status failed">failed</span>');
    expect(page).toMatch(/<pre id="resume">resume with: node \S+main\.js ingest \S+feed\.ndjson --db \S+ --resume bad --max-reject-ratio none/);
  });

  it('is checked by the output guard before the run: never the input, never the file of another flag', () => {
    const feed = feedFile(100);
    const input = runCli(['ingest', feed, '--db', t.db, '--report', feed], { cwd: t.dir });
    expect(input.status).toBe(2);
    expect(input.stderr).toMatch(/ERR_OUTPUT: Refusing --report \S+: it is the input/);
    const same = runCli(['ingest', feed, '--db', t.db, '--summary-file', 'x', '--report', 'x'], { cwd: t.dir });
    expect(same.status).toBe(2);
    expect(same.stderr).toMatch(/ERR_OUTPUT: Refusing --report x: --summary-file names the same file/);
    expect(existsSync(t.db)).toBe(false);
  });
});
