import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, cliEnv, runCli } from './helpers/cli';
import { shellQuote } from '../src/cli/hints';
import { mixedFeed } from './helpers/lines';
import { CLI_PRELOAD, isParked, release, waitUntil, writeFaults } from './helpers/faults';
import { tempDir } from './helpers/tmp';

// The CLI on a pseudo-terminal: util-linux `script` gives it a TTY on stdin, stdout and stderr.
let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-tty-'); });
afterEach(() => t.cleanup());

function onTty(args: string[]): string {
  const command = ['node', CLI, ...args].map(shellQuote).join(' ');
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
    const out = onTty(['ingest', feedFile(100), '--db', t.db, '--run-id', 'tty1']);
    const logs = out.split(/\r?\n/).filter((l) => /^\d\d:\d\d:\d\d /.test(l));
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const l of logs) expect(l).toMatch(/^\d\d:\d\d:\d\d (INFO |WARN ) \[tty1\] \S/);
    expect(logs.join('\n')).toMatch(/INFO {2}\[tty1\] run tty1 completed in /);
    expect(out).not.toMatch(/"level"/);
  });

  it('shows no percentage or ETA for a .gz file, whose size on disk is not what the pipeline counts', () => {
    const gz = join(t.dir, 'feed.ndjson.gz');
    writeFileSync(gz, gzipSync(readFileSync(feedFile(3000))));
    const out = onTty(['ingest', gz, '--db', t.db, '--chunk-size', '500']);
    expect(out).toMatch(/ingest [\d,]+ lines \| [\d,]+ items\/s/);
    expect(out).not.toMatch(/\d+% \|/);
    expect(out).not.toMatch(/ETA/);
    const plain = onTty(['ingest', join(t.dir, 'feed.ndjson'), '--db', join(t.dir, 'other.sqlite'), '--chunk-size', '500']);
    expect(plain).toMatch(/100% \|/);
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
    await waitUntil(() => isParked(t.db, 2) && /[1-9][\d,]* lines \|/.test(out), 'the bar to show committed lines');
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGINT');
    await waitUntil(() => out.includes('SIGINT: finishing in-flight chunks'), 'the SIGINT notice');
    release(t.db, 2);
    expect(await exited).toBe(130);
    const after = out.slice(out.indexOf('SIGINT: finishing in-flight chunks'));
    expect(after).toMatch(/^SIGINT: finishing in-flight chunks, then stopping \(SIGINT again to exit at once\)/);
    expect(after).not.toMatch(/items\/s \|/); // no bar frame after the notice
    expect(after).toMatch(/run \S+ cancelled in /);
  });
});
