import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../src/config';
import { parseIntelLine } from '../src/domain';
import { CancelledError, TooManyRejectsError, WorkerError } from '../src/errors';
import { runPipeline } from '../src/backend';
import { BufferPool } from '../src/pipeline/buffers';
import { StateStore } from '../src/sqlite';
import { itemLine, mixedFeed } from './helpers/lines';
import { runWithFaults } from './helpers/faults';
import { tempDir } from './helpers/tmp';

// The originals, called with `this` bound by the spies below.
const takeReal = BufferPool.prototype.take;
const giveReal = BufferPool.prototype.give;

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-pipe-'); });
afterEach(() => t.cleanup());

function writeFeed(name: string, lines: string[], trailingNewline = true): string {
  const p = join(t.dir, name);
  writeFileSync(p, lines.join('\n') + (trailingNewline ? '\n' : ''));
  return p;
}

/** Everything that must be identical between runs, timestamps aside. */
function tableDump(dbPath: string): unknown {
  const db = new Database(dbPath, { readonly: true });
  try {
    return {
      items: db.prepare(`SELECT item_id, item_type, title, summary, claims_json, evidence_json, scores_json, risk_flags_json,
        explainability_json, trend_score, decision, decision_reason FROM intel_items ORDER BY item_id`).all(),
      rejects: db.prepare('SELECT line_no, code, reason, excerpt FROM run_rejects ORDER BY line_no').all(),
      chunks: db.prepare(`SELECT chunk_index, first_line_no, line_count, byte_start, byte_end, checksum, blank_lines, inserted,
        updated, unchanged, rejected FROM run_chunks ORDER BY chunk_index`).all(),
    };
  } finally {
    db.close();
  }
}

describe('runPipeline()', () => {
  it('ingests a mixed feed: exact counts, rejects recorded with line numbers, run completed', async () => {
    const feed = mixedFeed(3000, 97, 250);
    const input = writeFeed('feed.ndjson', feed.lines);
    const summary = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 500 });
    expect(summary).toMatchObject({
      status: 'completed', linesRead: 3000, blankLines: feed.blank, inserted: feed.good, updated: 0, unchanged: 0,
      rejected: feed.bad, chunks: 6, workers: 2, chunkSize: 500,
    });
    expect(summary.linesRead).toBe(summary.blankLines + summary.inserted + summary.updated + summary.unchanged + summary.rejected);
    using store = StateStore.open(t.db);
    expect(store.countItems(summary.runId)).toBe(feed.good);
    const rejects = store.listRejects(summary.runId);
    expect(rejects).toHaveLength(feed.bad);
    expect(rejects[0]).toMatchObject({ lineNo: 97, code: 'not_an_object' });
    expect(rejects.find((r) => r.lineNo === 194)).toMatchObject({ code: 'invalid_json' });
    const run = store.getRun(summary.runId);
    expect(run).toMatchObject({ status: 'completed', linesRead: 3000, inserted: feed.good, rejected: feed.bad, chunks: 6 });
    const tel = store.readTelemetry(summary.runId) as {
      workers: Record<string, { lines: number; parseMs: number; writeMs: number }>; chunkLatencyMs: { count: number };
      elapsedMs: number; workerThreads: number; poolUtilization: number; writeLockShare: number;
    };
    expect(tel.chunkLatencyMs.count).toBe(6);
    const perThread = Object.values(tel.workers);
    expect(perThread.reduce((a, w) => a + w.lines, 0)).toBe(3000);
    // Utilisation from the workers' own timings (piscina 5.3's getter gave 0.0009 here).
    const busy = perThread.reduce((a, w) => a + w.parseMs + w.writeMs, 0);
    const written = perThread.reduce((a, w) => a + w.writeMs, 0);
    expect(tel.workerThreads).toBe(2);
    expect(tel.poolUtilization).toBeGreaterThan(0.01);
    expect(tel.poolUtilization).toBeLessThanOrEqual(1);
    expect(tel.poolUtilization).toBeCloseTo(busy / (tel.elapsedMs * 2), 2);
    expect(tel.writeLockShare).toBeGreaterThan(0);
    expect(tel.writeLockShare).toBeLessThanOrEqual(1);
    expect(tel.writeLockShare).toBeCloseTo(written / tel.elapsedMs, 2);
  });

  it('gives the outcome of upserting the lines one by one, in order: duplicates in and across chunks, flips, skipped lines, rows without a line hash', async () => {
    const config = loadConfig({});
    const seedLines = ['x0', 'x1', 'x4', 'x5', 'x6'].map((id) => itemLine(id));
    // x0: the stored line (skipped), then a change, then the stored line again (must be re-parsed: the row changed).
    // x1: a change, then back to the stored content in other bytes. x2: new, twice the same. x3: new, A B A.
    // x4: the stored line twice. x5: the stored line once. x6: the stored content in other bytes (no line hash yet below).
    const lines = [
      itemLine('x0'), itemLine('x1', { title: 'changed x1' }), itemLine('x2'), itemLine('x3', { summary: 'A' }),
      itemLine('x0', { title: 'changed x0' }), itemLine('x4'), itemLine('x3', { summary: 'B' }), itemLine('x2'),
      itemLine('x1', { unknown_field: 1 }), itemLine('x0'), itemLine('x3', { summary: 'A' }), itemLine('x4'), itemLine('x5'),
      itemLine('x6', { ignored: true }),
    ];
    const input = writeFeed('flips.ndjson', lines);
    // What upserting the parsed lines one by one, in line order, makes of them.
    const perRow = join(t.dir, 'per-row.sqlite');
    let expected: { inserted: number; updated: number; unchanged: number };
    {
      using store = StateStore.open(perRow);
      const rows = (ls: string[]) => ls.map((l, i) => {
        const r = parseIntelLine(l, i + 1, config);
        if (!r.ok) throw new Error(r.reject.reason);
        return r.row;
      });
      store.upsertIntelItemsBatch(store.startRun({ runType: 'seed' }).runId, rows(seedLines));
      expected = store.upsertIntelItemsBatch(store.startRun({ runType: 'second' }).runId, rows(lines));
    }
    for (const chunkSize of [3, 100]) {
      const db = join(t.dir, `staged-${chunkSize}.sqlite`);
      await runPipeline({ input: writeFeed(`seed-${chunkSize}.ndjson`, seedLines), dbPath: db, workers: 2, chunkSize });
      // x6 as stored before line hashes: its unchanged delivery gives it one without rewriting it.
      const raw = new Database(db);
      raw.prepare("UPDATE intel_items SET line_hash = NULL WHERE item_id = 'x6'").run();
      const before6 = raw.prepare("SELECT run_id, updated_at FROM intel_items WHERE item_id = 'x6'").get();
      raw.close();
      const s = await runPipeline({ input, dbPath: db, workers: 2, chunkSize });
      expect({ inserted: s.inserted, updated: s.updated, unchanged: s.unchanged }).toEqual(expected);
      expect(s).toMatchObject({ inserted: 2, updated: 6, unchanged: 6 });
      expect((tableDump(db) as { items: unknown }).items).toEqual((tableDump(perRow) as { items: unknown }).items);
      const check = new Database(db, { readonly: true });
      const x6 = check.prepare("SELECT run_id, updated_at, line_hash FROM intel_items WHERE item_id = 'x6'").get() as Record<string, unknown>;
      const x5 = check.prepare("SELECT run_id FROM intel_items WHERE item_id = 'x5'").get() as { run_id: string };
      check.close();
      expect({ run_id: x6.run_id, updated_at: x6.updated_at }).toEqual(before6); // not rewritten
      expect(x6.line_hash).toEqual(expect.any(String)); // but now known
      expect(x5.run_id).not.toBe(s.runId); // unchanged rows keep the run that last wrote them
    }
  });

  it('leaves identical tables with 1, 2 and 4 workers, duplicates resolved to the last line', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 1200; i++) lines.push(itemLine(`dup-${i % 400}`, { title: `version from line ${i + 1}` }));
    const input = writeFeed('dups.ndjson', lines);
    const dumps: unknown[] = [];
    for (const workers of [1, 2, 4]) {
      const db = join(t.dir, `w${workers}.sqlite`);
      const s = await runPipeline({ input, dbPath: db, workers, chunkSize: 100 });
      expect(s).toMatchObject({ inserted: 400, updated: 800, unchanged: 0 });
      dumps.push(tableDump(db));
      // Again: each line now differs from the row an earlier line left, even
      // the last version, whose line matches what the first run stored (it is
      // skipped unparsed at first, then parsed under the lock).
      const again = await runPipeline({ input, dbPath: db, workers, chunkSize: 100 });
      expect(again).toMatchObject({ inserted: 0, updated: 1200, unchanged: 0 });
      expect(tableDump(db)).toMatchObject({ items: (dumps.at(-1) as { items: unknown }).items });
      const one = new Database(db, { readonly: true });
      expect(one.prepare("SELECT title FROM intel_items WHERE item_id = 'dup-7'").pluck().get()).toBe('version from line 808');
      one.close();
    }
    expect(dumps[1]).toEqual(dumps[0]);
    expect(dumps[2]).toEqual(dumps[0]);
  });

  it('counts everything unchanged when the same input is ingested again', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(1000, 0, 0).lines);
    const first = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 300 });
    const second = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 300 });
    expect(first.inserted).toBe(1000);
    expect(second).toMatchObject({ inserted: 0, updated: 0, unchanged: 1000, status: 'completed' });
  });

  it('skips lines identical to the stored ones without parsing them, and parses again when the config changes', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(600, 0, 0).lines);
    await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 100 });
    const db = new Database(t.db);
    try {
      expect(db.prepare('SELECT count(*) FROM intel_items WHERE line_hash IS NULL').pluck().get()).toBe(0);
      const original = db.prepare("SELECT line_hash FROM intel_items WHERE item_id = 'item-5'").pluck().get() as string;
      const tamper = () => db.prepare("UPDATE intel_items SET title = 'tampered' WHERE item_id = 'item-5'").run();
      const titleOf5 = () => db.prepare("SELECT title FROM intel_items WHERE item_id = 'item-5'").pluck().get();
      // A hand edit of the content drops the row's line hash (a trigger), so its line is parsed next time and wins.
      tamper();
      expect(db.prepare("SELECT line_hash FROM intel_items WHERE item_id = 'item-5'").pluck().get()).toBeNull();
      const healed = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 100 });
      expect(healed).toMatchObject({ unchanged: 599, updated: 1 });
      expect(titleOf5()).toBe('Title of item-5 — ünïcödé ✓');
      // Tampered *and* given back its line hash: parsing the line would notice (its
      // content hash differs from the stored one); skipping it does not.
      tamper();
      db.prepare("UPDATE intel_items SET line_hash = ? WHERE item_id = 'item-5'").run(original);
      const same = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 100 });
      expect(same).toMatchObject({ unchanged: 600, updated: 0 });
      expect(titleOf5()).toBe('tampered');
      // parseAll: every line is parsed, so the tampered row is noticed and rewritten.
      const all = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 100, parseAll: true });
      expect(all).toMatchObject({ unchanged: 599, updated: 1 });
      expect(titleOf5()).toBe('Title of item-5 — ünïcödé ✓');
      tamper();
      // Other weights: the same lines give other rows, so every line is parsed again.
      const config = loadConfig({}, { weights: { impact: 2, timeliness: 1, virality: 1, relevance: 1, confidence: 1 } });
      const reweighted = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 100, config });
      expect(reweighted).toMatchObject({ unchanged: 0, updated: 600 });
      expect(titleOf5()).toBe('Title of item-5 — ünïcödé ✓');
      // Rows stored without a line hash (older databases) are parsed once, then skipped.
      db.prepare('UPDATE intel_items SET line_hash = NULL').run();
      const first = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 100, config });
      expect(first).toMatchObject({ unchanged: 600, updated: 0 });
      expect(db.prepare('SELECT count(*) FROM intel_items WHERE line_hash IS NULL').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('handles empty input, a missing trailing newline, CRLF and a BOM', async () => {
    const empty = await runPipeline({ input: writeFeed('empty.ndjson', [], false), dbPath: t.db, workers: 1 });
    expect(empty).toMatchObject({ status: 'completed', linesRead: 0, chunks: 0 });
    const crlf = '\uFEFF' + [itemLine('a'), itemLine('b'), itemLine('c')].join('\r\n');
    const p = join(t.dir, 'crlf.ndjson');
    writeFileSync(p, crlf);
    const s = await runPipeline({ input: p, dbPath: t.db, workers: 1, chunkSize: 2 });
    expect(s).toMatchObject({ linesRead: 3, inserted: 3, rejected: 0, chunks: 2 });
    // A first line holding only a BOM is blank, like a line of only (Unicode) spaces.
    const bomOnly = join(t.dir, 'bom-only.ndjson');
    writeFileSync(bomOnly, `\uFEFF\r\n${itemLine('d')}\n\u00a0\n${itemLine('e')}\n`);
    const b = await runPipeline({ input: bomOnly, dbPath: t.db, workers: 1 });
    expect(b).toMatchObject({ linesRead: 4, blankLines: 2, inserted: 2, rejected: 0 });
  });

  it('reads gzip files, Node Readables and iterables of lines or objects', async () => {
    const lines = mixedFeed(50).lines;
    const gz = join(t.dir, 'feed.ndjson.gz');
    writeFileSync(gz, gzipSync(lines.join('\n') + '\n'));
    expect(await runPipeline({ input: gz, dbPath: join(t.dir, 'a.sqlite'), workers: 1 })).toMatchObject({ inserted: 50 });
    const stream = Readable.from([Buffer.from(lines.slice(0, 20).join('\n')), Buffer.from('\n' + lines.slice(20).join('\n'))]);
    expect(await runPipeline({ input: stream, dbPath: join(t.dir, 'b.sqlite'), workers: 2, chunkSize: 7 })).toMatchObject({ inserted: 50, linesRead: 50 });
    expect(await runPipeline({ input: lines, dbPath: join(t.dir, 'c.sqlite'), workers: 1 })).toMatchObject({ inserted: 50 });
    async function* objects() { for (const l of lines) yield JSON.parse(l) as object; }
    expect(await runPipeline({ input: objects(), dbPath: join(t.dir, 'd.sqlite'), workers: 1 })).toMatchObject({ inserted: 50 });
  });

  it('rejects over-long lines and invalid UTF-8 without losing their neighbours', async () => {
    const p = join(t.dir, 'hostile.ndjson');
    const big = itemLine('big', { summary: 'x'.repeat(5000) });
    writeFileSync(p, Buffer.concat([
      Buffer.from(itemLine('ok1') + '\n' + big + '\n'),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
      Buffer.from(itemLine('ok2') + '\n'),
    ]));
    const s = await runPipeline({ input: p, dbPath: t.db, workers: 1, maxLineBytes: 1024 });
    expect(s).toMatchObject({ linesRead: 4, inserted: 2, rejected: 2 });
    using store = StateStore.open(t.db);
    expect(store.listRejects(s.runId).map((r) => [r.lineNo, r.code])).toEqual([[2, 'line_too_long'], [3, 'invalid_utf8']]);
    expect(store.listRejects(s.runId)[0]!.excerpt.length).toBeLessThanOrEqual(200);
  });

  it('names the limit, not a false size, for a line far over it (the chunker keeps only its head)', async () => {
    const input = writeFeed('long.ndjson', [itemLine('a'), itemLine('huge', { summary: 'x'.repeat(50_000) }), itemLine('b')]);
    const s = await runPipeline({ input, dbPath: t.db, workers: 1, maxLineBytes: 1024 });
    expect(s).toMatchObject({ linesRead: 3, inserted: 2, rejected: 1 });
    using store = StateStore.open(t.db);
    const [r] = store.listRejects(s.runId);
    expect(r).toMatchObject({ lineNo: 2, code: 'line_too_long', reason: 'Line is longer than the limit of 1024 bytes' });
  });

  it('keeps only each reject\'s own bytes: many large bad lines in one chunk lose no valid line', async () => {
    // Each bad line is ~900 KB; a reject that kept its line alive (an excerpt
    // or reason sliced from it) would hold ~36 MB per 40 of them, past the
    // worker's heap limit below, and the chunk would fail on every attempt.
    const big = 'x'.repeat(900_000);
    const bad = (i: number) => (i % 2 === 0
      ? `{"item_id": "bad-${i}", "title": "${big}` // invalid_json: the excerpt is the line's head
      : JSON.stringify({ item_id: `bad-${i}`, item_type: 'news', title: 't', summary: '', decision: big })); // invalid_value: the reason quotes the decision
    const lines = [
      ...mixedFeed(300).lines,
      ...Array.from({ length: 80 }, (_, i) => bad(i)),
      ...Array.from({ length: 300 }, (_, i) => itemLine(`tail-${i}`)),
    ];
    const input = writeFeed('big-rejects.ndjson', lines);
    const s = await runPipeline({ input, dbPath: t.db, workers: 1, workerResourceLimits: { maxOldGenerationSizeMb: 32 } });
    expect(s).toMatchObject({ status: 'completed', linesRead: 680, inserted: 600, rejected: 80 });
    using store = StateStore.open(t.db);
    const rejects = store.listRejects(s.runId);
    expect(rejects.map((r) => r.code)).toEqual(Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? 'invalid_json' : 'invalid_value')));
    expect(Math.max(...rejects.map((r) => r.excerpt.length + r.reason.length))).toBeLessThan(1000);
  });

  it('rolls back a chunk whose transaction throws, retries it and completes', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(400).lines);
    const s = await runWithFaults({
      input, dbPath: t.db, workers: 2, chunkSize: 100, faultInjection: { chunkIndex: 2, kind: 'throw-in-transaction', failAttempts: 1 },
    });
    expect(s).toMatchObject({ status: 'completed', inserted: 400, chunks: 4 });
    using store = StateStore.open(t.db);
    expect((store.readTelemetry(s.runId) as { retries: number }).retries).toBe(1);
  });

  it('fails the run naming the chunk once the retry budget is spent, keeping only whole chunks', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(400).lines);
    const err = await runWithFaults({
      input, dbPath: t.db, workers: 2, chunkSize: 100, maxAttempts: 2,
      faultInjection: { chunkIndex: 1, kind: 'throw-in-transaction', failAttempts: 99 },
    }).catch((e: unknown) => e);
    if (!(err instanceof WorkerError)) throw err;
    expect(err.code).toBe('ERR_WORKER');
    expect(err.message).toMatch(/Chunk 1 \(lines 101-200\) failed after 2 attempts: injected fault inside the transaction/);
    const summary = err.summary; // typed as always present on a WorkerError
    expect(summary.status).toBe('failed');
    using store = StateStore.open(t.db);
    expect(store.getRun(summary.runId).status).toBe('failed');
    const items = store.countItems();
    expect(items % 100).toBe(0); // whole chunks only
    expect(store.getChunk(summary.runId, 1)).toBeUndefined();
    expect(store.getIntelItem('item-150')).toBeUndefined();
    expect(items).toBe(store.chunkTotals(summary.runId).inserted);
  });

  it('replaces a worker thread that exits and retries its chunk', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(300).lines);
    const s = await runWithFaults({ input, dbPath: t.db, workers: 2, chunkSize: 100, faultInjection: { chunkIndex: 0, kind: 'exit' } });
    expect(s).toMatchObject({ status: 'completed', inserted: 300 });
  });

  it('stops on an aborted signal: whole chunks only, run cancelled, rejects with an AbortError carrying the partial summary', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(5000).lines);
    const ac = new AbortController();
    const err = await runPipeline({
      input, dbPath: t.db, workers: 2, chunkSize: 100, signal: ac.signal, progressIntervalMs: 0,
      onProgress: (e) => { if (e.chunksDone >= 3) ac.abort(); },
    }).catch((e: unknown) => e);
    if (!(err instanceof CancelledError) || err.summary === undefined) throw err;
    expect(err).toMatchObject({ name: 'AbortError', code: 'ERR_CANCELLED', message: 'The run was cancelled' });
    const s = err.summary;
    expect(s.status).toBe('cancelled');
    expect(s.linesRead).toBeGreaterThanOrEqual(300);
    expect(s.linesRead).toBeLessThan(5000);
    expect(s.linesRead % 100).toBe(0);
    using store = StateStore.open(t.db);
    expect(store.getRun(s.runId).status).toBe('cancelled');
    expect(store.countItems()).toBe(s.inserted);
  });

  it('fails with ERR_TOO_MANY_REJECTS when maxRejects is exceeded, committed chunks kept', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(2000, 10).lines);
    const err = await runPipeline({ input, dbPath: t.db, workers: 1, chunkSize: 200, maxRejects: 30 }).catch((e: unknown) => e);
    if (!(err instanceof TooManyRejectsError)) throw err;
    expect(err.code).toBe('ERR_TOO_MANY_REJECTS');
    expect(err.summary.status).toBe('failed'); // typed as always present on a TooManyRejectsError
    expect(err.summary.rejected).toBeGreaterThan(30);
    using store = StateStore.open(t.db);
    expect(store.countItems()).toBe(err.summary.inserted);
  });

  it('reports throttled progress and a final event that matches the summary', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(1000, 50).lines);
    const events: number[] = [];
    const s = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 100, progressIntervalMs: 0, onProgress: (e) => events.push(e.linesRead) });
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events[events.length - 1]).toBe(s.linesRead);
    expect([...events].sort((a, b) => a - b)).toEqual(events);
  });

  it('closes every connection: no WAL file is left behind', async () => {
    const input = writeFeed('feed.ndjson', mixedFeed(300).lines);
    await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 50 });
    expect(existsSync(`${t.db}-wal`)).toBe(false);
  });

  it('keeps no reference to input it has already dispatched (memory stays flat on long feeds)', async () => {
    // A regression test: racing every read against one long-lived "stopped"
    // promise kept every piece read alive until the run ended.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const refs: WeakRef<Uint8Array>[] = [];
    const alive: number[] = [];
    const PIECES = 120;
    const LAG = 30; // far more pieces than can be in flight (maxInFlight 2 x 100-line chunks)
    async function* feed(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < PIECES; i++) {
        if (i >= LAG && i % 10 === 0) {
          await new Promise((r) => setImmediate(r)); // lets WeakRefs from earlier jobs be cleared
          gc();
          alive.push(refs.slice(0, i - LAG).filter((r) => r.deref() !== undefined).length);
        }
        const lines = [];
        for (let j = 0; j < 100; j++) lines.push(itemLine(`item-${i}-${j}`));
        const piece = Buffer.from(`${lines.join('\n')}\n`);
        refs.push(new WeakRef(piece));
        yield piece;
      }
    }
    const s = await runPipeline({ input: feed(), dbPath: t.db, workers: 1, chunkSize: 100, maxInFlight: 2 });
    expect(s).toMatchObject({ status: 'completed', inserted: PIECES * 100 });
    expect(alive).toHaveLength(9);
    expect(alive).toEqual(alive.map(() => 0));
  });

  it('gets chunk buffers back from the workers and reuses them', async () => {
    const pad = 'p'.repeat(2000);
    const lines = Array.from({ length: 12_000 }, (_, i) => itemLine(`item-${i}`, { summary: pad }));
    const input = writeFeed('feed.ndjson', lines);
    const chunkBytes = 1000 * lines[0]!.length; // ~2.2 MB
    let bigAllocations = 0; // smaller ones are the first chunk's buffer growing
    let returned = 0;
    const take = jest.spyOn(BufferPool.prototype, 'take').mockImplementation(function (this: BufferPool, min: number) {
      const idle = this.idle;
      const buf = takeReal.call(this, min);
      if (this.idle === idle && buf.byteLength >= chunkBytes) bigAllocations++;
      return buf;
    });
    const give = jest.spyOn(BufferPool.prototype, 'give').mockImplementation(function (this: BufferPool, buf: ArrayBuffer) {
      if (buf.byteLength >= chunkBytes) returned++;
      giveReal.call(this, buf);
    });
    try {
      const s = await runPipeline({ input, dbPath: t.db, workers: 2, chunkSize: 1000, maxInFlight: 3 });
      expect(s).toMatchObject({ status: 'completed', chunks: 12, inserted: 12_000 });
    } finally {
      take.mockRestore();
      give.mockRestore();
    }
    expect(returned).toBeGreaterThanOrEqual(12); // every chunk's buffer came back from its worker
    expect(bigAllocations).toBeLessThanOrEqual(6); // 3 in flight + 1 being filled, plus slack; 12 without reuse
  });

  it('validates options at the boundary with clear messages', async () => {
    await expect(runPipeline({ input: 'x', parseAll: 'yes' as never })).rejects.toThrow('Expected `parseAll` to be a boolean, got "yes" (string)');
    await expect(runPipeline({ input: 'x', workers: 0 })).rejects.toThrow('Expected `workers` to be an integer from 1 to 64, got 0 (number)');
    await expect(runPipeline({ input: 'x', chunkSize: 1.5 })).rejects.toThrow(/`chunkSize` to be an integer/);
    await expect(runPipeline({ input: 'x', wokers: 2 } as never)).rejects.toThrow(/Unknown option `wokers`/);
    await expect(runPipeline({ input: join(t.dir, 'missing.ndjson'), dbPath: t.db })).rejects.toMatchObject({ code: 'ERR_INPUT' });
    expect(existsSync(t.db)).toBe(false); // nothing is created for an unreadable input
  });
});
