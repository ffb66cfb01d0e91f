/**
 * Working time and elapsed time of a run that sat interrupted before its
 * resume. No test waits for the gap: the stored timestamps are moved two
 * hours back between the interruption and the resume, so the gap is known
 * whatever the machine's speed, and every bound below is far from it.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgStore } from '../src/pg/pg-store';
import { runPipeline, type PipelineFailure } from '../src/pipeline';
import type { RunSummary } from '../src/pipeline/types';
import { StateStore } from '../src/store';
import { MIGRATIONS } from '../src/store/schema';
import { itemLine } from './helpers/lines';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(60_000);

const HOUR = 3_600_000;
const GAP = 2 * HOUR;
/** Far above what two short attempts and their bookkeeping take, far below the gap. */
const SLACK = 60_000;

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-working-'); });
afterEach(() => t.cleanup());

/** 400 item lines with one that is not JSON at `badLine`: `maxRejects: 0` fails the run at that line's chunk. */
function feed(badLine = 150): string {
  const lines = Array.from({ length: 400 }, (_, i) => (i + 1 === badLine ? 'not json' : itemLine(`item-${i + 1}`)));
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

async function failure(p: Promise<unknown>): Promise<PipelineFailure & { summary: RunSummary }> {
  const e = await p.then(() => undefined, (err: unknown) => err as PipelineFailure);
  if (e?.summary === undefined) throw new Error('expected the run to fail with a summary');
  return e as PipelineFailure & { summary: RunSummary };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('StateStore#reopenRun()', () => {
  it('adds the time since the run\'s last sign of life, the later of its heartbeat and its end', () => {
    using store = StateStore.open(t.db);
    store.startRun({ runId: 'r', runType: 'batch' });
    store.finishRun('r', 'failed', 'ERR_X: x');
    const before = Date.now();
    const db = new Database(t.db);
    db.prepare('UPDATE runs SET started_at = ?, heartbeat_at = ?, finished_at = ? WHERE run_id = ?')
      .run(iso(before - 3 * HOUR), iso(before - 2.5 * HOUR), iso(before - GAP), 'r');
    db.close();
    const run = store.reopenRun('r');
    const after = Date.now();
    expect(run.interruptedMs).toBeGreaterThanOrEqual(GAP);
    expect(run.interruptedMs).toBeLessThanOrEqual(GAP + (after - before));
  });

  it('counts from the heartbeat of a run left running (its process died), and adds nothing twice when reopened again at once', () => {
    using store = StateStore.open(t.db);
    store.startRun({ runId: 'r', runType: 'batch' });
    const before = Date.now();
    const db = new Database(t.db);
    db.prepare('UPDATE runs SET started_at = ?, heartbeat_at = ? WHERE run_id = ?').run(iso(before - 3 * HOUR), iso(before - GAP), 'r');
    db.close();
    const first = store.reopenRun('r').interruptedMs;
    const between = Date.now();
    expect(first).toBeGreaterThanOrEqual(GAP);
    expect(first).toBeLessThanOrEqual(GAP + (between - before));
    // A second resumer right after sees the heartbeat the first one wrote: only the moments in between count.
    const second = store.reopenRun('r').interruptedMs;
    expect(second - first).toBeGreaterThanOrEqual(0);
    expect(second - first).toBeLessThanOrEqual(Date.now() - before);
  });

  it('reads 0 for the runs of a version 4 database it upgrades', () => {
    const db = new Database(t.db);
    for (const m of MIGRATIONS.slice(0, 4)) db.exec(m);
    db.pragma('user_version = 4');
    db.prepare("INSERT INTO runs (run_id, run_type, started_at, finished_at, status) VALUES ('old', 'batch', '2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z', 'completed')").run();
    db.close();
    using store = StateStore.open(t.db);
    expect(store.getRun('old')).toMatchObject({ interruptedMs: 0 });
  });
});

describe('a PostgreSQL run resumed or joined after a gap', () => {
  let db: ScratchDb;
  beforeEach(async () => { db = await scratchDb(); });
  afterEach(async () => { await db?.drop(); });

  const pgOpts = () => ({ input: join(t.dir, 'feed.ndjson'), db: db.url, workers: 1, maxChunkBytes: 4096 });

  /** A run that failed (maxRejects 0) with chunks left pending, then moved two hours back. */
  async function failedTwoHoursAgo(runId: string): Promise<RunSummary> {
    feed(50);
    const e = await failure(runPipeline({ ...pgOpts(), runId, maxRejects: 0 }));
    expect(e.summary.status).toBe('failed');
    expect(e.summary.linesRead).toBeLessThan(400); // chunks are left for the resume or join
    await db.query(`UPDATE runs SET started_at = started_at - interval '2 hours', heartbeat_at = heartbeat_at - interval '2 hours',
      finished_at = finished_at - interval '2 hours' WHERE run_id = $1`, [runId]);
    return e.summary;
  }

  it('counts a stale run\'s gap once when two processes join it one after the other', async () => {
    await failedTwoHoursAgo('night');
    await db.query("UPDATE runs SET status = 'running', heartbeat_at = finished_at, finished_at = NULL WHERE run_id = 'night'");
    const [row] = await db.query<{ plan_json: never; settings_snapshot_json: Record<string, unknown> }>(
      "SELECT plan_json, settings_snapshot_json FROM runs WHERE run_id = 'night'");
    const store = await PgStore.open({ url: db.url, label: db.name });
    try {
      const join = (ownerToken: string) => store.startOrJoin({
        runId: 'night', runType: 'batch', settings: row?.settings_snapshot_json ?? {}, plan: row?.plan_json as never, join: true, resume: false, ownerToken,
      });
      const first = (await join('a')).run.interruptedMs;
      const second = (await join('b')).run.interruptedMs;
      expect(first).toBeGreaterThanOrEqual(GAP);
      expect(first).toBeLessThan(GAP + SLACK);
      expect(second).toBe(first);
    } finally {
      await store.close();
    }
  });
});
