/**
 * The run report's data (what the page embeds and shows), read from real
 * databases after real ingests: a run with rejects, a failed run resumed
 * after a gap, a long run summed into fewer points, and PostgreSQL. No test
 * waits for a gap: the stored times are moved back before the resume.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import type { PipelineFailure } from '../src/pipeline';
import { collectReportFrom, renderReportFrom } from '../src/report';
import type { RunReportData } from '../src/report/model';
import { withReadStore } from '../src/backend/open-read-store';
import { parseDbTarget } from '../src/store/target';
import { itemLine, mixedFeed } from './helpers/lines';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(60_000);

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-report-'); });
afterEach(() => t.cleanup());

function feed(lines: string[], name = 'feed.ndjson'): string {
  const p = join(t.dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

function report(db: string, ref: string, o: { maxPoints?: number; recentRuns?: number } = {}): Promise<RunReportData> {
  return withReadStore(parseDbTarget(db), (store) => collectReportFrom(store, ref, o));
}

const sum = (xs: readonly number[]) => xs.reduce((n, x) => n + x, 0);

/** What holds for the report of any run: every figure adds up to the run's counters. */
function expectConsistent(d: RunReportData): void {
  const r = d.run;
  expect(r.linesRead).toBe(r.blankLines + r.inserted + r.updated + r.unchanged + r.rejected);
  expect(sum(d.timeline.points.map((p) => p.lines))).toBe(r.linesRead);
  expect(sum(d.timeline.points.map((p) => p.chunks))).toBe(r.chunks);
  expect(sum(d.timeline.points.map((p) => p.rejected))).toBe(r.rejected);
  expect(d.timeline.points.at(-1)?.cumulativeLines).toBe(r.linesRead);
  const ts = d.timeline.points.map((p) => p.t);
  expect(ts).toEqual([...ts].sort((a, b) => a - b));
  expect(d.rejects.total).toBe(r.rejected);
  expect(sum(d.rejects.codes.map((c) => c.count))).toBe(r.rejected);
  expect(sum(d.rejects.strip.flatMap((s) => s.counts)) + d.rejects.unplaced).toBe(r.rejected);
  for (const s of d.rejects.strip) expect(s.counts).toHaveLength(d.rejects.bins);
  expect(d.recent.filter((x) => x.current).map((x) => x.runId)).toEqual([r.runId]);
}

describe('the report of a SQLite run with rejects', () => {
  it('embeds one point per chunk, rejects per code and over line numbers, decisions and scores, all adding up to the run', async () => {
    const f = mixedFeed(2000, 50, 97); // a bad line every 50, a blank one every 97
    const s = await runPipeline({ input: feed(f.lines), dbPath: t.db, runId: 'nightly', workers: 2, chunkSize: 200 });
    const d = await report(t.db, 'latest');
    expectConsistent(d);
    expect(d.run).toMatchObject({
      runId: 'nightly', status: 'completed', linesRead: 2000, blankLines: f.blank, rejected: f.bad, chunks: 10, workers: 2, chunkSize: 200,
      database: t.db, backend: 'sqlite', nextStep: null, interruptedMs: 0,
    });
    expect(d.run.itemsPerSecond).toBeGreaterThan(0);
    expect(d.timeline).toMatchObject({ groupSize: 1, window: 2, gaps: [] });
    expect(d.timeline.points).toHaveLength(10);
    expect(d.timeline.points.map((p) => [p.firstChunk, p.lastChunk])).toEqual(Array.from({ length: 10 }, (_, i) => [i, i]));
    // mixedFeed's bad lines at even numbers are broken objects.
    expect(d.rejects.codes).toEqual([{ code: 'invalid_json', count: f.bad }]);
    expect(d.rejects).toMatchObject({ linesPerBin: 20, bins: 100, unplaced: 0 });
    // Line 50 (the first bad one) falls in the third bin of 20 lines, line 100 in the fifth.
    expect(d.rejects.strip[0]!.counts.slice(0, 6)).toEqual([0, 0, 1, 0, 1, 0]);
    expect(d.rejects.examples).toHaveLength(3);
    expect(d.rejects.examples[0]).toMatchObject({ lineNo: expect.any(Number), reason: expect.any(String) });
    // Every valid line is a new item of this run; itemLine's scores give each the same trend score.
    const items = s.inserted;
    expect(sum(d.scores.decisions.map((x) => x.count))).toBe(items);
    expect(sum(d.scores.histogram.flatMap((h) => h.counts)) + d.scores.unscored).toBe(items);
    expect(d.scores.histogram.every((h) => h.counts.length === 20)).toBe(true);
    // The telemetry's threads: every chunk and line is one of theirs.
    expect(sum(d.workers.map((w) => w.chunks))).toBe(10);
    expect(sum(d.workers.map((w) => w.lines))).toBe(2000);
    for (const w of d.workers) expect(w.label).toMatch(/^thread-\d+$/);
    expect(d.work.retries).toBe(0);
  });

  it('sums consecutive chunks into at most maxPoints points, the totals unchanged', async () => {
    await runPipeline({ input: feed(mixedFeed(3000, 40).lines), dbPath: t.db, runId: 'long', workers: 1, chunkSize: 100 });
    const d = await report(t.db, 'long', { maxPoints: 7 });
    expectConsistent(d);
    expect(d.timeline.groupSize).toBe(5); // 30 chunks / 7 points, rounded up
    expect(d.timeline.points).toHaveLength(6);
    expect(d.timeline.points.map((p) => p.chunks)).toEqual([5, 5, 5, 5, 5, 5]);
    expect(d.timeline.points[1]).toMatchObject({ firstChunk: 5, lastChunk: 9 });
  });

  it('shows the last runs of the database, oldest first, this one marked, bounded by recentRuns', async () => {
    const p = feed(mixedFeed(300, 30).lines);
    for (const id of ['a', 'b', 'c', 'd']) await runPipeline({ input: p, dbPath: t.db, runId: id, workers: 1 });
    const d = await report(t.db, 'b', { recentRuns: 3 });
    expect(d.recent.map((r) => [r.runId, r.current])).toEqual([['b', true], ['c', false], ['d', false]]);
    expect(d.recent[1]).toMatchObject({ inserted: 0, unchanged: 290, rejected: 10, rejectRatio: 10 / 300 });
    await expect(report(t.db, 'a', { recentRuns: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});

describe('the report of a failed run resumed after a gap', () => {
  const HOUR = 3_600_000;

  it('offers the resume command while failed, then shades the interruption and rates no point across it', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => (i + 1 === 550 ? 'not json' : itemLine(`item-${i + 1}`)));
    const input = feed(lines);
    const failed = await runPipeline({ input, dbPath: t.db, runId: 'r', workers: 1, chunkSize: 100, maxRejects: 0 })
      .then(() => undefined, (err: unknown) => err as PipelineFailure);
    expect(failed?.summary?.status).toBe('failed');
    const before = await report(t.db, 'r');
    expectConsistent(before);
    expect(before.run.status).toBe('failed');
    expect(before.run.chunks).toBe(6); // the chunk with the reject commits, then the run stops
    expect(before.run.nextStep).toMatch(/^resume with: brand-orchestrator ingest \S+feed\.ndjson --db \S+ --resume r$/);
    // Two hours pass before the resume.
    const db = new Database(t.db);
    const back = (c: string) => `${c} = strftime('%Y-%m-%dT%H:%M:%fZ', ${c}, '-2 hours')`;
    db.exec(`UPDATE runs SET ${back('started_at')}, ${back('heartbeat_at')}, ${back('finished_at')}; UPDATE run_chunks SET ${back('committed_at')}`);
    db.close();
    await runPipeline({ input, dbPath: t.db, resume: 'r', workers: 1 });
    const d = await report(t.db, 'r');
    expectConsistent(d);
    expect(d.run).toMatchObject({ status: 'completed', linesRead: 1000, rejected: 1, chunks: 10, nextStep: null });
    expect(d.run.interruptedMs).toBeGreaterThanOrEqual(2 * HOUR);
    expect(d.run.elapsedMs - d.run.workingMs).toBe(d.run.interruptedMs);
    expect(d.timeline.gaps).toHaveLength(1);
    const [gap] = d.timeline.gaps;
    expect(gap!.to - gap!.from).toBeGreaterThanOrEqual(2 * 3600);
    // The gap ends at the first chunk the resume committed (chunk 6), whose rate is not taken across it.
    const after = d.timeline.points.findIndex((p) => p.t === gap!.to);
    expect(d.timeline.points[after]).toMatchObject({ firstChunk: 6, itemsPerSecond: null });
    expect(d.timeline.points.filter((p) => p.itemsPerSecond === null)).toHaveLength(1);
    expect(d.timeline.stalls).toEqual([]);
  });
});

describe('the page', () => {
  it('escapes feed text: a reject excerpt holding markup, entities and terminal escapes is text, the embedded JSON cannot end its script', async () => {
    const hostile = '{"item_id": "x</script><script>window.pwned=1</script>", "title": "&amp; &lt;b&gt; \u001b[2J\u001b]0;pwned\u0007", ';
    await runPipeline({ input: feed([itemLine('ok-1'), hostile, itemLine('ok-2')]), dbPath: t.db, runId: '<img src=x onerror=alert(1)>', workers: 1 });
    const html = await withReadStore(parseDbTarget(t.db), (store) => renderReportFrom(store, 'latest'));
    // Three scripts: the data, Chart.js and the page's own; nothing from the feed added one.
    expect(html.match(/<script[\s>]/g)).toHaveLength(3);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('x&lt;/script&gt;&lt;script&gt;window.pwned=1&lt;/script&gt;');
    expect(html).toContain('&amp;amp; &amp;lt;b&amp;gt; \\x1b[2J\\x1b]0;pwned\\x07');
    expect(html).not.toContain('\u001b');
    const data = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html);
    expect(data).not.toBeNull();
    expect(JSON.parse(data![1]!)).toMatchObject({ recent: [{ runId: '<img src=x onerror=alert(1)>' }] });
    expect(html).toContain('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src \'unsafe-inline\'; style-src \'unsafe-inline\'; img-src data:">');
  });
});

describe('the report of a PostgreSQL run', () => {
  let pg: ScratchDb;
  beforeAll(async () => { pg = await scratchDb(); });
  afterAll(async () => { await pg?.drop(); });

  it('adds up as on SQLite, from the chunks every process committed, with the per-thread times of its telemetry', async () => {
    const f = mixedFeed(3000, 60);
    await runPipeline({ input: feed(f.lines), db: pg.url, runId: 'pg-1', workers: 2, maxChunkBytes: 64 * 1024 });
    const d = await report(pg.url, 'pg-1');
    expectConsistent(d);
    expect(d.run).toMatchObject({ backend: 'postgres', status: 'completed', linesRead: 3000, rejected: f.bad, chunkSize: null, chunkBytes: 64 * 1024 });
    expect(d.run.chunks).toBeGreaterThan(5);
    expect(d.timeline.points).toHaveLength(d.run.chunks);
    expect(d.rejects.unplaced).toBe(0);
    expect(sum(d.workers.map((w) => w.chunks))).toBe(d.run.chunks);
    expect(sum(d.scores.decisions.map((x) => x.count))).toBe(f.good);
  });
});

describe('renderRunReport()', () => {
  it('opens the database its options name, read-only, and renders the latest run by default', async () => {
    const { renderRunReport } = await import('../src/index');
    await runPipeline({ input: feed(mixedFeed(200, 20).lines), dbPath: t.db, runId: 'lib', workers: 1 });
    const html = await renderRunReport({ dbPath: t.db });
    expect(html).toContain('<h1>Run lib <span class="status completed">completed</span></h1>');
    expect(await renderRunReport({ db: `file://${t.db}`, run: 'li' })).toContain('<h1>Run lib ');
    await expect(renderRunReport({ dbPath: t.db, db: t.db })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(renderRunReport({ dbPath: t.db, run: 'nope' })).rejects.toMatchObject({ code: 'ERR_RUN_NOT_FOUND' });
  });
});
