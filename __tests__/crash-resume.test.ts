/**
 * kill -9 at known points of a run (workers parked by the fault fixture
 * before reading a chunk, or inside a chunk's transaction holding the write
 * lock), then a resume: the tables equal one clean ingest. The test acts
 * when the workers say where they stopped, never after a delay.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startFaultyCli, type Fault } from './helpers/faults';
import { tempDir } from './helpers/tmp';

const CLI = resolve(__dirname, '../dist/src/cli/main.js');
let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-kill-'); });
afterEach(() => t.cleanup());

function committedChunks(db: string, runId: string): number[] {
  const d = new Database(db, { fileMustExist: true }); // read-write, so that closing it removes -wal and -shm
  try {
    return d.prepare('SELECT chunk_index FROM run_chunks WHERE run_id = ? ORDER BY chunk_index').pluck().all(runId) as number[];
  } finally {
    d.close();
  }
}

function dump(db: string): { items: unknown[]; rejects: unknown[] } {
  const d = new Database(db, { fileMustExist: true }); // read-write, so that closing it removes -wal and -shm
  const out = {
    items: d.prepare('SELECT item_id, item_type, title, summary, claims_json, evidence_json, scores_json, risk_flags_json, explainability_json, trend_score, decision, decision_reason FROM intel_items ORDER BY item_id').all(),
    rejects: d.prepare('SELECT line_no, code, reason, excerpt FROM run_rejects ORDER BY line_no').all(),
  };
  d.close();
  return out;
}

describe('kill -9 and resume', () => {
  it('after SIGKILLs with workers stopped before a chunk and inside a chunk\'s transaction, a resume leaves the tables of one clean ingest', async () => {
    const feed = join(t.dir, 'feed.ndjson');
    expect(spawnSync(process.execPath, [CLI, 'generate', '--count', '40000', '--bad-ratio', '0.01', '--seed', '5', '-o', feed]).status).toBe(0);
    const db = join(t.dir, 'crash.sqlite');
    const ingest = ['ingest', feed, '--db', db, '--workers', '2', '--chunk-size', '1000', '--quiet'];
    /** Starts the run (or resumes it), waits until a worker parks at each of `parkAt`, and kills the process. */
    async function killWhenParked(args: string[], faults: Fault[], parkAt: number[]): Promise<number[]> {
      const run = startFaultyCli([...ingest, ...args], db, faults, t.dir);
      for (const c of parkAt) await run.parked(c);
      run.child.kill('SIGKILL');
      expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // The dead owner is detected at once: `runs` shows the run as stale.
      const runs = JSON.parse(spawnSync(process.execPath, [CLI, 'runs', '--db', db, '--json'], { encoding: 'utf8' }).stdout) as { run_id: string; status: string; stale: boolean }[];
      expect(runs.find((r) => r.run_id === 'k')).toMatchObject({ status: 'running', stale: true });
      return committedChunks(db, 'k');
    }

    // Both workers stopped before reading chunks 5 and 6: the run holds some, not all, chunks.
    const first = await killWhenParked(['--run-id', 'k'], [{ chunkIndex: 5, kind: 'park' }, { chunkIndex: 6, kind: 'park' }], [5, 6]);
    expect(first.length).toBeGreaterThan(0);
    expect(first).not.toContain(5);
    expect(first).not.toContain(6);
    // A worker stopped inside chunk 5's transaction, its rows written but not committed: none of them survive.
    const second = await killWhenParked(['--resume', 'k'], [{ chunkIndex: 5, kind: 'park-in-transaction' }], [5]);
    expect(second).not.toContain(5);
    expect(second).toEqual(expect.arrayContaining(first));
    // Both workers stopped again further on.
    const third = await killWhenParked(['--resume', 'k'], [{ chunkIndex: 20, kind: 'park' }, { chunkIndex: 21, kind: 'park' }], [20, 21]);
    expect(third).toContain(5);
    expect(third).not.toContain(20);
    expect(third.length).toBeLessThan(40);

    const r = spawnSync(process.execPath, [CLI, ...ingest, '--resume', 'k', '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const clean = join(t.dir, 'clean.sqlite');
    const once = spawnSync(process.execPath, [CLI, 'ingest', feed, '--db', clean, '--workers', '1', '--chunk-size', '1000', '--json'], { encoding: 'utf8' });
    expect(once.status).toBe(0);
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--db', db], { encoding: 'utf8' });
    expect(verify.stdout).toMatch(/^ok/);
    expect(verify.status).toBe(0);
    expect(dump(db)).toEqual(dump(clean));
    const d = new Database(db, { fileMustExist: true }); // read-write, so that closing it removes -wal and -shm
    const run = d.prepare("SELECT * FROM runs WHERE run_id = 'k'").get() as Record<string, number | string>;
    d.close();
    expect(run).toMatchObject({ status: 'completed', lines_read: 40000 });
    expect(run.lines_read).toBe((JSON.parse(once.stdout) as { lines_read: number }).lines_read);
    expect(committedChunks(db, 'k')).toHaveLength(40);
    // No litter after three kills and a resume: no lock file, journal, -wal or -shm is left beside the databases.
    expect(readdirSync(t.dir).filter((f) => /\.lock$|-journal$|-wal$|-shm$/.test(f))).toEqual([]);
  }, 180_000);
});
