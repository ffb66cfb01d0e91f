import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir } from './helpers/tmp';

const CLI = resolve(__dirname, '../dist/src/cli/main.js');
let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-kill-'); });
afterEach(() => t.cleanup());

function runStatus(db: string, runId: string): string | undefined {
  try {
    const d = new Database(db, { readonly: true, fileMustExist: true });
    const s = d.prepare('SELECT status FROM runs WHERE run_id = ?').pluck().get(runId) as string | undefined;
    d.close();
    return s;
  } catch {
    return undefined;
  }
}

function dump(db: string): { items: unknown[]; rejects: unknown[] } {
  const d = new Database(db, { readonly: true });
  const out = {
    items: d.prepare('SELECT item_id, item_type, title, summary, claims_json, evidence_json, scores_json, risk_flags_json, explainability_json, trend_score, decision, decision_reason FROM intel_items ORDER BY item_id').all(),
    rejects: d.prepare('SELECT line_no, code, reason, excerpt FROM run_rejects ORDER BY line_no').all(),
  };
  d.close();
  return out;
}

describe('kill -9 and resume', () => {
  it('after SIGKILLs at random moments and a final resume, the tables equal one clean ingest', async () => {
    const feed = join(t.dir, 'feed.ndjson');
    expect(spawnSync(process.execPath, [CLI, 'generate', '--count', '40000', '--bad-ratio', '0.01', '--seed', '5', '-o', feed]).status).toBe(0);
    const db = join(t.dir, 'crash.sqlite');
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let kills = 0;
    let interrupted = 0; // kills that left a run with some, not all, chunks committed
    for (let round = 0; round < 4; round++) {
      const status = runStatus(db, 'k');
      if (status === 'completed') break;
      const args = status === undefined ? ['--run-id', 'k'] : ['--resume', 'k'];
      const child = spawn(process.execPath, [CLI, 'ingest', feed, '--db', db, '--workers', '2', '--chunk-size', '1000', '--quiet', ...args]);
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      const delay = 300 + Math.floor(rand() * 900);
      const timer = setTimeout(() => { child.kill('SIGKILL'); kills++; }, delay);
      await exited;
      clearTimeout(timer);
      if (runStatus(db, 'k') === 'running') {
        const d = new Database(db, { readonly: true });
        const n = d.prepare("SELECT count(*) FROM run_chunks WHERE run_id = 'k'").pluck().get() as number;
        d.close();
        if (n > 0 && n < 40) interrupted++;
        // The dead owner is detected at once: `runs` shows the run as stale.
        const runs = JSON.parse(spawnSync(process.execPath, [CLI, 'runs', '--db', db, '--json'], { encoding: 'utf8' }).stdout) as { runId: string; stale: boolean }[];
        expect(runs.find((r) => r.runId === 'k')?.stale).toBe(true);
      }
    }
    expect(kills).toBeGreaterThan(0);
    expect(interrupted).toBeGreaterThan(0);
    // Final resume (or first start, if no kill left a run behind).
    const status = runStatus(db, 'k');
    if (status !== 'completed') {
      const args = status === undefined ? ['--run-id', 'k'] : ['--resume', 'k'];
      const r = spawnSync(process.execPath, [CLI, 'ingest', feed, '--db', db, '--workers', '2', '--chunk-size', '1000', '--json', ...args], { encoding: 'utf8' });
      expect(r.status).toBe(0);
    }
    const clean = join(t.dir, 'clean.sqlite');
    const once = spawnSync(process.execPath, [CLI, 'ingest', feed, '--db', clean, '--workers', '1', '--chunk-size', '1000', '--json'], { encoding: 'utf8' });
    expect(once.status).toBe(0);
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--db', db], { encoding: 'utf8' });
    expect(verify.stdout).toMatch(/^ok/);
    expect(verify.status).toBe(0);
    expect(dump(db)).toEqual(dump(clean));
    const d = new Database(db, { readonly: true });
    const run = d.prepare("SELECT * FROM runs WHERE run_id = 'k'").get() as Record<string, number | string>;
    d.close();
    expect(run).toMatchObject({ status: 'completed', lines_read: 40000 });
    expect(run.lines_read).toBe((JSON.parse(once.stdout) as { linesRead: number }).linesRead);
  }, 180_000);
});
