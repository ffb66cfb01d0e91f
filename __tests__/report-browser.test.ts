/// <reference lib="dom" />
/**
 * The run report in a real browser: Debian's Chromium (`.ci/run` installs
 * it), driven by playwright-core, headless, every request that is not the
 * file itself aborted and recorded. Each page must draw every chart it has
 * with the expected number of points and bars, show the run's figures, log
 * no error, and load nothing. One of them is the report of a real run of a
 * million lines, which must stay under 1 MB. Screenshots are saved in the
 * test's temp folder (kept when BRAND_ORCH_KEEP_SCREENSHOTS names a folder).
 */
import { copyFileSync, createWriteStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runPipeline } from '../src/backend';
import type { RunSummary } from '../src/pipeline';
import { renderReportFrom } from '../src/report';
import { withReadStore } from '../src/backend/open-read-store';
import { parseDbTarget } from '../src/store/target';
import { itemLine, mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

const CHROMIUM = '/usr/bin/chromium';
const MILLION = 1_000_000;

jest.setTimeout(240_000);

const t = tempDir('bo-report-browser-');
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser test needs Debian's chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it when missing)`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
});

afterAll(async () => {
  await browser?.close();
  t.cleanup();
});

interface Opened {
  page: Page;
  /** Console errors and warnings, and uncaught exceptions. */
  problems: string[];
  /** Every request that was not the page's own file (each was aborted). */
  requests: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.route('**/*', (r) => {
    const url = r.request().url();
    if (url.startsWith('file:')) return r.continue();
    requests.push(url);
    return r.abort();
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, problems, requests };
}

async function reportFile(db: string, runId: string, name: string): Promise<string> {
  const html = await withReadStore(parseDbTarget(db), (store) => renderReportFrom(store, runId));
  const file = join(t.dir, name);
  writeFileSync(file, html);
  return file;
}

/** Per canvas: its chart's type, points or bars per dataset, labels, and whether any pixel was drawn. */
async function charts(page: Page): Promise<Record<string, { drawn: boolean; datasets: number[]; labels: number }>> {
  return page.evaluate(() => {
    const out: Record<string, { drawn: boolean; datasets: number[]; labels: number }> = {};
    for (const canvas of Array.from(document.querySelectorAll('canvas'))) {
      const chart = (window as unknown as { Chart: { getChart: (c: HTMLCanvasElement) => { data: { labels?: unknown[]; datasets: unknown[] }; getDatasetMeta: (i: number) => { data: unknown[] } } | undefined } }).Chart.getChart(canvas);
      const pixels = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
      let drawn = false;
      for (let i = 3; i < pixels.length && !drawn; i += 4) drawn = (pixels[i] ?? 0) > 0;
      out[canvas.id] = {
        drawn: chart !== undefined && drawn,
        datasets: chart === undefined ? [] : chart.data.datasets.map((_d, i) => chart.getDatasetMeta(i).data.length),
        labels: chart?.data.labels?.length ?? 0,
      };
    }
    return out;
  });
}

function keepScreenshot(file: string): void {
  const dir = process.env.BRAND_ORCH_KEEP_SCREENSHOTS;
  if (dir !== undefined && dir !== '') copyFileSync(file, join(dir, file.split('/').at(-1) as string));
}

/** A million short valid lines, scores varying, a bad line every 2,000: the feed is written in ~10 MB slices. */
async function millionLines(path: string): Promise<void> {
  const out = createWriteStream(path);
  let slice: string[] = [];
  for (let i = 1; i <= MILLION; i++) {
    slice.push(i % 2000 === 0 ? `{"item_id": "bad-${i}"`
      : `{"item_id":"m-${i}","item_type":"news","title":"t${i}","summary":"","scores":{"impact":${i % 26},"timeliness":${i % 21},"virality":${(i >> 3) % 21},"relevance":${(i >> 5) % 26},"confidence":${i % 11}}}`);
    if (slice.length === 100_000) {
      if (!out.write(`${slice.join('\n')}\n`)) await once(out, 'drain');
      slice = [];
    }
  }
  out.end();
  await once(out, 'finish');
}

describe('the report of a run with rejects, in Chromium', () => {
  let summary: RunSummary;
  let o: Opened;

  beforeAll(async () => {
    const db = join(t.dir, 'small.sqlite');
    const input = join(t.dir, 'small.ndjson');
    const earlier = join(t.dir, 'earlier.ndjson');
    writeFileSync(earlier, `${mixedFeed(1000, 100).lines.join('\n')}\n`);
    await runPipeline({ input: earlier, dbPath: db, runId: 'earlier', workers: 2, chunkSize: 500 });
    // New items (every tenth an update of an earlier one), a broken line every 100, and two hostile ones: raw
    // control characters make one invalid JSON; the other is JSON whose summary is not a string.
    const lines = Array.from({ length: 4000 }, (_v, i) => (i % 100 === 99 ? '{"item_id": "broken", '
      : itemLine(i % 10 === 0 ? `item-${i + 1}` : `new-${i}`, { title: `night ${i}`, scores: { impact: i % 26, timeliness: 15, virality: i % 21, relevance: 20, confidence: 8 } })));
    // First in the file: the page shows the first examples of each code.
    lines.unshift('{"item_id": "x</script><script>window.pwned=1</script>", "title": "&amp; <b>bold</b> \u001b[2J\u001b]0;pwned\u0007", ');
    lines.unshift(JSON.stringify({ item_id: 'y', item_type: 'news', title: '<img src=x onerror="window.pwned=2">&lt;', summary: 42 }));
    writeFileSync(input, `${lines.join('\n')}\n`);
    summary = await runPipeline({ input, dbPath: db, runId: 'hostile-<i>night</i>', workers: 2, chunkSize: 500 });
    o = await open(await reportFile(db, summary.runId, 'small.html'));
  });
  afterAll(async () => { await o?.page.close(); });

  it('draws every chart with its points and bars, logs nothing and loads nothing', async () => {
    const c = await charts(o.page);
    expect(Object.keys(c).sort()).toEqual([
      'chart-cumulative', 'chart-decisions', 'chart-recent-counts', 'chart-recent-duration', 'chart-recent-rate', 'chart-recent-rejects',
      'chart-reject-codes', 'chart-reject-strip', 'chart-scores', 'chart-throughput', 'chart-workers',
    ]);
    for (const [id, chart] of Object.entries(c)) expect([id, chart.drawn]).toEqual([id, true]);
    expect(c['chart-throughput']!.datasets).toEqual([summary.chunks, summary.chunks]); // items/s and rejected lines per chunk
    expect(c['chart-cumulative']!.datasets).toEqual([summary.chunks + 1]);
    expect(c['chart-reject-codes']!.datasets).toEqual([2]); // invalid_json and wrong_type
    expect(c['chart-reject-strip']!.labels).toBe(98); // bins of 41 lines (4,002 / 100, rounded up)
    expect(c['chart-decisions']!.datasets).toEqual([4]);
    expect(c['chart-scores']!.datasets).toEqual([20, 20, 20, 20]);
    expect(c['chart-recent-rate']!.datasets).toEqual([2]);
    expect(c['chart-recent-counts']!.datasets).toEqual([2, 2, 2, 2]);
    expect(c['chart-workers']!.labels).toBeGreaterThanOrEqual(1);
    expect(await o.page.evaluate(() => document.documentElement.dataset.charts)).toBe('11');
    expect(o.problems).toEqual([]);
    expect(o.requests).toEqual([]);
    const shot = join(t.dir, 'report-small.png');
    await o.page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    keepScreenshot(shot);
  });

  it('shows the run\'s figures: its id, status, the reconciliation and the rejects', async () => {
    const text = await o.page.locator('body').innerText();
    expect(await o.page.locator('h1').innerText()).toBe('Run hostile-<i>night</i> completed');
    const n = (x: number) => x.toLocaleString('en-US');
    expect(summary).toMatchObject({ linesRead: 4002, rejected: 42 });
    expect(await o.page.locator('#reconciliation').innerText()).toBe(
      `lines 4,002 = blank 0 + inserted ${n(summary.inserted)} + updated ${n(summary.updated)} + unchanged ${n(summary.unchanged)} + rejected 42`,
    );
    expect(text).toContain(`${summary.rejected} rejected lines in 2 codes`);
    expect(await o.page.locator('#recent-runs tbody tr').count()).toBe(2);
  });

  it('shows feed text as text: markup, entities and terminal escapes in a reject are not run or rendered', async () => {
    expect(await o.page.evaluate(() => (window as unknown as { pwned?: unknown }).pwned)).toBeUndefined();
    expect(await o.page.locator('script').count()).toBe(3);
    expect(await o.page.locator('#reject-examples b').count()).toBe(0);
    const excerpts = await o.page.locator('#reject-examples code').allInnerTexts();
    const hostile = excerpts.find((e) => e.includes('pwned'));
    expect(hostile).toContain('"x</script><script>window.pwned=1</script>"');
    expect(hostile).toContain('&amp; <b>bold</b> \\x1b[2J\\x1b]0;pwned\\x07');
    expect(excerpts.some((e) => e.includes('<img src=x onerror=\\"window.pwned=2\\">&lt;'))).toBe(true);
    expect(await o.page.locator('#reject-examples img').count()).toBe(0);
  });
});

describe('the report of a run of a million lines', () => {
  it('stays under 1 MB and draws every chart in Chromium', async () => {
    const input = join(t.dir, 'million.ndjson');
    const db = join(t.dir, 'million.sqlite');
    await millionLines(input);
    // Chunks of 5,000 lines: the same run as the default 2,500 in a little less time, and 200 points.
    const s = await runPipeline({ input, dbPath: db, runId: 'million', workers: 2, chunkSize: 5000 });
    expect(s).toMatchObject({ status: 'completed', linesRead: MILLION, rejected: MILLION / 2000, chunks: 200 });
    const file = await reportFile(db, 'million', 'million.html');
    const bytes = statSync(file).size;
    expect(bytes).toBeLessThan(1_000_000);
    process.stdout.write(`report of a ${MILLION.toLocaleString('en-US')}-line run: ${bytes.toLocaleString('en-US')} bytes\n`);
    const o = await open(file);
    try {
      const c = await charts(o.page);
      for (const [id, chart] of Object.entries(c)) expect([id, chart.drawn]).toEqual([id, true]);
      expect(c['chart-throughput']!.datasets).toEqual([200, 200]);
      expect(c['chart-scores']!.datasets).toEqual([20, 20, 20, 20]);
      expect(await o.page.locator('#reconciliation').innerText()).toBe('lines 1,000,000 = blank 0 + inserted 999,500 + updated 0 + unchanged 0 + rejected 500');
      expect(o.problems).toEqual([]);
      expect(o.requests).toEqual([]);
      const shot = join(t.dir, 'report-million.png');
      await o.page.screenshot({ path: shot, fullPage: true });
      keepScreenshot(shot);
    } finally {
      await o.page.close();
    }
  });
});
