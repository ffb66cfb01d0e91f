import Database from 'better-sqlite3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import { StateStore } from '../src/sqlite';
import { CLI, runCli } from './helpers/cli';
import { mixedFeed } from './helpers/lines';
import { inPidNamespace, pidNamespaces } from './helpers/namespaces';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-owner-'); });
afterEach(() => t.cleanup());

const lines = mixedFeed(40).lines;

function feedFile(): string {
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

function committedChunks(runId: string): number {
  try {
    const db = new Database(t.db, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT count(*) FROM run_chunks WHERE run_id = ?').pluck().get(runId) as number;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet
  }
}

function runRow(runId: string): { status: string; lines_read: number; owner_token: string | null } {
  const db = new Database(t.db, { readonly: true });
  try {
    return db.prepare('SELECT status, lines_read, owner_token FROM runs WHERE run_id = ?').get(runId) as { status: string; lines_read: number; owner_token: string | null };
  } finally {
    db.close();
  }
}

/**
 * A live `ingest -` (as `prefix`, e.g. PID 1 of its own namespace) that has
 * committed two chunks of 10 lines and waits for more on stdin.
 */
async function liveIngest(runId: string, prefix: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; exit: Promise<number | null>; stderr: () => string }> {
  const [cmd, ...pre] = [...prefix, process.execPath];
  const child = spawn(cmd as string, [...pre, CLI, 'ingest', '-', '--db', t.db, '--run-id', runId, '--chunk-size', '10', '--workers', '1', '--quiet'], { cwd: t.dir });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  child.stdin.write(`${lines.slice(0, 20).join('\n')}\n`);
  for (let i = 0; i < 600 && committedChunks(runId) < 2; i++) await new Promise((r) => setTimeout(r, 50));
  expect(committedChunks(runId)).toBe(2);
  return { child, exit, stderr: () => stderr };
}

describe('ownership of a running run (a token, a lock held for its lifetime, a heartbeat)', () => {
  (pidNamespaces ? it : it.skip)('resumes at once a run whose owner was killed as PID 1 of a container, though a PID 1 is alive here', async () => {
    const owner = await liveIngest('k', inPidNamespace);
    owner.child.kill('SIGKILL'); // unshare --kill-child takes its PID 1 down with it
    await owner.exit;
    expect(runRow('k').status).toBe('running');
    const runs = JSON.parse(runCli(['runs', '--db', t.db, '--json'], { cwd: t.dir }).stdout) as { run_id: string; stale: boolean; owner_pid: number }[];
    expect(runs.find((r) => r.run_id === 'k')).toMatchObject({ owner_pid: 1, stale: true });
    const r = runCli(['ingest', feedFile(), '--db', t.db, '--resume', 'k', '--json'], { cwd: t.dir });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', lines_read: 40, resumed_chunks: 2 });
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.lock'))).toEqual([]); // the dead owner's lock file is gone too
  });

  (pidNamespaces ? it : it.skip)('refuses to resume a live run from another PID namespace; --force takes it over, and the first owner stops without touching the run', async () => {
    const owner = await liveIngest('live');
    const input = feedFile();
    const refused = runCli(['ingest', input, '--db', t.db, '--resume', 'live'], { cwd: t.dir, wrap: inPidNamespace });
    expect(refused.stderr).toMatch(/^brand-orchestrator: ERR_RUN_ACTIVE: Run live is still running: its owner \(pid \d+ on .+\) holds the run's lock; .*--force/);
    expect(refused.status).toBe(2);
    expect(runRow('live').status).toBe('running');

    const forced = runCli(['ingest', input, '--db', t.db, '--resume', 'live', '--force', '--json'], { cwd: t.dir, wrap: inPidNamespace });
    expect(forced.status).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ status: 'completed', lines_read: 40, resumed_chunks: 2 });
    // The first owner learns at its next heartbeat (within 5 s) that the run is no longer its own.
    expect(await owner.exit).toBe(1);
    expect(owner.stderr()).toMatch(/error ERR_RUN_TAKEN_OVER: Run live was taken over by another process/);
    expect(owner.stderr()).not.toMatch(/resume with/);
    expect(runRow('live')).toMatchObject({ status: 'completed', lines_read: 40 });
  }, 30_000);

  it('judges a run without a usable lock by its heartbeat: fresh is refused (ERR_RUN_ACTIVE), stale resumes without force', async () => {
    const input = feedFile();
    { // a run row as another machine (or a version before the lock) leaves it: no lock file to ask
      using store = StateStore.open(t.db);
      store.startRun({ runId: 'r', runType: 'batch', settings: { chunkSize: 10 } });
    }
    await expect(runPipeline({ input, dbPath: t.db, resume: 'r' })).rejects.toMatchObject({
      code: 'ERR_RUN_ACTIVE', message: expect.stringMatching(/^Run r is still running: its owner \(pid \d+ on .+\) sent a heartbeat \d+ s ago/),
    });
    const db = new Database(t.db);
    db.prepare("UPDATE runs SET heartbeat_at = ? WHERE run_id = 'r'").run(new Date(Date.now() - 120_000).toISOString());
    db.close();
    // This process (the row's pid, on this host) is alive: a PID says nothing about who owns the run.
    await expect(runPipeline({ input, dbPath: t.db, resume: 'r' })).resolves.toMatchObject({ status: 'completed', linesRead: 40 });
  });

  it('takes over a run whose owner looks alive with `force`, which needs `resume`', async () => {
    const input = feedFile();
    {
      using store = StateStore.open(t.db);
      store.startRun({ runId: 'r', runType: 'batch', settings: { chunkSize: 10 } });
    }
    await expect(runPipeline({ input, dbPath: t.db, resume: 'r', force: true })).resolves.toMatchObject({ status: 'completed', linesRead: 40 });
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.lock'))).toEqual([]); // a run that ended leaves no lock file
    await expect(runPipeline({ input, dbPath: t.db, force: true })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});

describe('StateStore: a run taken over by another process', () => {
  it("refuses the previous owner's heartbeat and end (ERR_RUN_TAKEN_OVER), leaving the new owner's row as it is", () => {
    using first = StateStore.open(t.db);
    using second = StateStore.open(t.db);
    first.startRun({ runId: 'r', runType: 'batch', ownerToken: 'token-1' });
    first.heartbeat('r');
    second.reopenRun('r', 'token-2');
    expect(() => first.heartbeat('r')).toThrow(expect.objectContaining({ code: 'ERR_RUN_TAKEN_OVER' }));
    expect(() => first.finishRun('r', 'failed', 'gave up')).toThrow(expect.objectContaining({ code: 'ERR_RUN_TAKEN_OVER' }));
    expect(second.getRun('r')).toMatchObject({ status: 'running', ownerToken: 'token-2', notes: null });
    second.heartbeat('r');
    expect(second.finishRun('r', 'completed')).toMatchObject({ status: 'completed' });
  });
});
