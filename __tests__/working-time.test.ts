/**
 * Working time and elapsed time of a run that sat interrupted before its
 * resume. No test waits for the gap: the stored timestamps are moved two
 * hours back between the interruption and the resume, so the gap is known
 * whatever the machine's speed, and every bound below is far from it.
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtDuration } from '../src/cli/format';
import { PgStore } from '../src/pg/pg-store';
import { runPipeline } from '../src/backend';
import type { PipelineFailure } from '../src/pipeline';
import type { RunSummary } from '../src/pipeline/types';
import { StateStore } from '../src/sqlite';
import { MIGRATIONS } from '../src/sqlite/schema';
import { fromCliJson, logLines, runCli } from './helpers/cli';
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

/** Moves a SQLite run's start, heartbeat and end `ms` back, as if it had stopped that much earlier. */
function moveBack(dbPath: string, runId: string, ms: number): void {
  const db = new Database(dbPath);
  try {
    const r = db.prepare('SELECT started_at, heartbeat_at, finished_at FROM runs WHERE run_id = ?').get(runId) as Record<string, string | null>;
    const back = (v: string | null) => (v === null ? null : iso(Date.parse(v) - ms));
    db.prepare('UPDATE runs SET started_at = ?, heartbeat_at = ?, finished_at = ? WHERE run_id = ?')
      .run(back(r.started_at ?? null), back(r.heartbeat_at ?? null), back(r.finished_at ?? null), runId);
  } finally {
    db.close();
  }
}

/**
 * Working time is the two attempts' own times, not the gap: the first
 * attempt's as its row recorded it (moved back whole, so unchanged), plus
 * the resume's own. Elapsed time includes the gap.
 */
function expectTwoAttempts(s: RunSummary, first: RunSummary): void {
  expect(s.elapsedMs).toBeGreaterThanOrEqual(GAP);
  expect(s.workingMs).toBeLessThan(s.elapsedMs);
  expect(s.workingMs).toBeGreaterThanOrEqual(first.workingMs);
  expect(s.workingMs).toBeLessThan(first.workingMs + s.durationMs + SLACK);
  expect(s.itemsPerSecond).toBe(Math.round(((s.linesRead - s.blankLines) * 1000) / s.workingMs));
}

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

describe('a SQLite run resumed after a gap', () => {
  it('reports its working time apart from its elapsed time: summary, log line, metrics, runs, runs show', () => {
    const input = feed();
    const cli = (args: string[]) => runCli(args, { cwd: t.dir });
    const failed = cli(['ingest', input, '--db', t.db, '--run-id', 'r', '--chunk-size', '100', '--max-rejects', '0', '--json']);
    expect(failed.status).toBe(1);
    const first = fromCliJson<RunSummary>(failed.stdout);
    expect(first).toMatchObject({ status: 'failed', chunks: 2 });
    expect(first.workingMs).toBe(first.elapsedMs); // never interrupted yet
    moveBack(t.db, 'r', GAP);

    const summaryFile = join(t.dir, 'summary.json');
    const metricsFile = join(t.dir, 'bo.prom');
    const resumed = cli(['ingest', input, '--db', t.db, '--resume', 'r', '--workers', '2', '--summary-file', summaryFile, '--metrics-file', metricsFile]);
    expect(resumed.status).toBe(0);
    const s = fromCliJson<RunSummary>(readFileSync(summaryFile, 'utf8'));
    expect(s).toMatchObject({ status: 'completed', linesRead: 400, resumedChunks: 2 });
    expectTwoAttempts(s, first);

    const line = logLines(resumed.stderr).map((l) => l.msg).find((m) => typeof m === 'string' && m.startsWith('run r completed'));
    expect(line).toBe(`run r completed in ${fmtDuration(s.workingMs)} of work (${fmtDuration(s.elapsedMs)} since it started, resumed; `
      + `${s.itemsPerSecond.toLocaleString('en-US')} items/s, 2 workers, chunks of 100)`);
    expect(fmtDuration(s.elapsedMs)).toMatch(/^2h( \d+m)?$/);

    const prom = readFileSync(metricsFile, 'utf8');
    expect(prom).toMatch(new RegExp(`^brand_orchestrator_last_run_duration_seconds ${s.workingMs / 1000}$`, 'm'));
    expect(prom).toMatch(new RegExp(`^brand_orchestrator_last_run_elapsed_seconds ${s.elapsedMs / 1000}$`, 'm'));
    expect(prom).toMatch(new RegExp(`^brand_orchestrator_last_run_items_per_second ${s.itemsPerSecond}$`, 'm'));

    const [listed] = JSON.parse(cli(['runs', '--db', t.db, '--json']).stdout) as Record<string, unknown>[];
    expect(listed).toMatchObject({ run_id: 'r', working_ms: s.workingMs, elapsed_ms: s.elapsedMs, stale: false });
    expect(listed?.interrupted_ms).toBeGreaterThanOrEqual(GAP);
    const row = cli(['runs', '--db', t.db]).stdout.split('\n').find((l) => l.startsWith('r '));
    expect(row).toMatch(new RegExp(`^r\\s+nightly\\s+completed\\s+\\S+ \\S+\\s+${fmtDuration(s.workingMs).replace('.', '\\.')}\\s+400\\s.*\\s${s.itemsPerSecond.toLocaleString('en-US')}$`));
    const show = cli(['runs', 'show', 'r', '--db', t.db]);
    expect(show.stdout).toMatch(new RegExp(`^time {6}${fmtDuration(s.workingMs).replace('.', '\\.')} of work, 2h( \\d+m)? since it started \\(2h( \\d+m)? interrupted\\)$`, 'm'));
    expect(JSON.parse(cli(['runs', 'show', 'r', '--db', t.db, '--json']).stdout)).toMatchObject({ working_ms: s.workingMs, elapsed_ms: s.elapsedMs });
  });

  it('counts from the last heartbeat of a run whose process died (left running, stale)', async () => {
    const input = feed();
    const e = await failure(runPipeline({ input, dbPath: t.db, workers: 1, chunkSize: 100, runId: 'r', maxRejects: 0 }));
    expect(e.summary).toMatchObject({ status: 'failed', chunks: 2 });
    // As if killed two hours ago: still `running`, no end, its last heartbeat at its end, no lock to ask (judged by the heartbeat).
    const db = new Database(t.db);
    db.prepare("UPDATE runs SET status = 'running', heartbeat_at = finished_at, finished_at = NULL, owner_token = NULL WHERE run_id = 'r'").run();
    db.close();
    moveBack(t.db, 'r', GAP);
    const s = await runPipeline({ input, dbPath: t.db, workers: 1, resume: 'r' });
    expect(s).toMatchObject({ status: 'completed', linesRead: 400, resumedChunks: 2 });
    expectTwoAttempts(s, e.summary);
  });

  it('reports equal working and elapsed time for a run never interrupted, its rate over them', async () => {
    const s = await runPipeline({ input: feed(0), dbPath: t.db, workers: 1, chunkSize: 100 });
    expect(s.workingMs).toBe(s.elapsedMs);
    expect(s.workingMs).toBeGreaterThanOrEqual(s.durationMs - 2); // the row spans this call's time (each rounded)
    expect(s.itemsPerSecond).toBe(Math.round((400 * 1000) / s.workingMs));
    using store = StateStore.open(t.db);
    expect(store.getRun(s.runId).interruptedMs).toBe(0);
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

  const interrupted = async (runId: string) =>
    Number((await db.query<{ ms: string }>('SELECT interrupted_ms AS ms FROM runs WHERE run_id = $1', [runId]))[0]?.ms);

  it('resuming a failed run leaves the gap out of its working time', async () => {
    const first = await failedTwoHoursAgo('night');
    const s = await runPipeline({ ...pgOpts(), resume: 'night' });
    expect(s).toMatchObject({ status: 'completed', linesRead: 400 });
    expectTwoAttempts(s, first);
    expect(await interrupted('night')).toBeGreaterThanOrEqual(GAP);
  });

  it('joining a run whose processes all stopped (stale) leaves the gap since its last heartbeat out', async () => {
    const first = await failedTwoHoursAgo('night');
    await db.query("UPDATE runs SET status = 'running', heartbeat_at = finished_at, finished_at = NULL WHERE run_id = 'night'");
    const s = await runPipeline({ ...pgOpts(), runId: 'night', join: true });
    expect(s).toMatchObject({ status: 'completed', linesRead: 400 });
    expectTwoAttempts(s, first);
  });

  it('joining a live run adds no gap: working time is its whole elapsed time', async () => {
    await failedTwoHoursAgo('night');
    // Another process works on it: running, a fresh heartbeat; it started two hours ago.
    await db.query("UPDATE runs SET status = 'running', heartbeat_at = now(), finished_at = NULL WHERE run_id = 'night'");
    const s = await runPipeline({ ...pgOpts(), runId: 'night', join: true });
    expect(s).toMatchObject({ status: 'completed', linesRead: 400 });
    expect(await interrupted('night')).toBe(0);
    expect(s.workingMs).toBe(s.elapsedMs);
    expect(s.elapsedMs).toBeGreaterThanOrEqual(GAP);
  });

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
