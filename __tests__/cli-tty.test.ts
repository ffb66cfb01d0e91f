import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, cliEnv, runCli } from './helpers/cli';
import { shellQuote } from '../src/cli/hints';
import { mixedFeed } from './helpers/lines';
import { CLI_PRELOAD, isParked, release, waitUntil, writeFaults } from './helpers/faults';
import { tempDir } from './helpers/tmp';

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\u001b(\[[\d;?]*[A-Za-z]|[78])/g, '');

// The CLI on a pseudo-terminal: util-linux `script` gives it a TTY on stdin, stdout and stderr.
let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-tty-'); });
afterEach(() => t.cleanup());

/** The CLI on an 80-column terminal. */
function onTty(args: string[]): string {
  const command = `stty cols 80; ${['node', CLI, ...args].map(shellQuote).join(' ')}`;
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: t.dir, env: cliEnv(), encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`exit ${String(r.status)}: ${r.stdout}`);
  return r.stdout;
}

function feedFile(n: number, name = 'feed.ndjson'): string {
  const p = join(t.dir, name);
  writeFileSync(p, `${mixedFeed(n, 20).lines.join('\n')}\n`);
  return p;
}

describe('ingest on a terminal', () => {
  it('writes readable log lines (time, level, run id, message), not JSON', () => {
    const out = stripAnsi(onTty(['ingest', feedFile(100), '--db', t.db, '--run-id', 'tty1']));
    const logs = out.split(/\r?\n/).filter((l) => /^\[\d\d:\d\d:\d\d\] /.test(l));
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const l of logs) expect(l).toMatch(/^\[\d\d:\d\d:\d\d\] (INFO|WARN): \[tty1\] \S/);
    expect(logs.join('\n')).toMatch(/INFO: \[tty1\] run tty1 completed in /);
    expect(out).not.toMatch(/"level"/);
  });

  it('fits the progress bar to 80 columns, rejects and ETA included, also for a .gz file (its size estimated)', () => {
    const gz = join(t.dir, 'feed.ndjson.gz');
    writeFileSync(gz, gzipSync(readFileSync(feedFile(3000))));
    for (const [input, db] of [[gz, t.db], [join(t.dir, 'feed.ndjson'), join(t.dir, 'other.sqlite')]] as const) {
      // cli-progress starts each frame at column 1 (ESC [1G).
      // eslint-disable-next-line no-control-regex
      const frames = onTty(['ingest', input, '--db', db, '--chunk-size', '500']).split(/\u001b\[1G|[\r\n]+/).map(stripAnsi)
        .filter((f) => / lines · /.test(f));
      expect(frames.length).toBeGreaterThan(0);
      for (const f of frames) expect(f.trimEnd().length).toBeLessThan(80);
      expect(frames.at(-1)).toMatch(/^3,000 lines · [\d,]+ items\/s · [\d,]+ rejected · 100% · ETA 0s/);
    }
  });

  it('after Ctrl-C stops redrawing the bar, so the "finishing" notice stays readable', async () => {
    expect(runCli(['generate', '--count', '80000', '--seed', '3', '-o', 'big.ndjson'], { cwd: t.dir }).status).toBe(0);
    const pidFile = join(t.dir, 'pid');
    // The worker stops before chunk 2 until the notice is out: the run is under way and cannot end first.
    writeFaults(t.db, { chunkIndex: 2, kind: 'park' });
    const command = `echo $$ > ${shellQuote(pidFile)}; exec ${['node', '--require', CLI_PRELOAD, CLI, 'ingest', 'big.ndjson', '--db', t.db, '--workers', '1', '--chunk-size', '500'].map(shellQuote).join(' ')}`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: t.dir, env: cliEnv() });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await waitUntil(() => isParked(t.db, 2) && /[1-9][\d,]* lines · /.test(out), 'the bar to show committed lines');
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGINT');
    await waitUntil(() => out.includes('SIGINT: finishing in-flight chunks'), 'the SIGINT notice');
    release(t.db, 2);
    expect(await exited).toBe(130);
    const after = out.slice(out.indexOf('SIGINT: finishing in-flight chunks'));
    expect(after).toMatch(/^SIGINT: finishing in-flight chunks, then stopping \(SIGINT again to exit at once\)/);
    expect(after).not.toMatch(/items\/s · /); // no bar frame after the notice
    expect(after).toMatch(/run \S+ cancelled in /);
  });
});

describe('runs on a terminal', () => {
  it('adds a sparkline of the last runs\' items/s, which a pipe does not get', () => {
    const feed = feedFile(300);
    for (const id of ['s1', 's2', 's3']) expect(runCli(['ingest', feed, '--db', t.db, '--run-id', id, '--quiet'], { cwd: t.dir }).status).toBe(0);
    const out = stripAnsi(onTty(['runs', '--db', t.db]));
    expect(out).toMatch(/^items\/s, last 3 runs \(oldest first\): [▁▂▃▄▅▆▇█]{3} {2}[\d,]+-[\d,]+\r?$/m);
    const piped = runCli(['runs', '--db', t.db], { cwd: t.dir });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toContain('s3');
    expect(piped.stdout).not.toMatch(/items\/s, last|[▁▂▃▄▅▆▇█]/);
    expect(stripAnsi(onTty(['runs', '--db', t.db, '--json']))).not.toMatch(/items\/s, last/);
  });
});
