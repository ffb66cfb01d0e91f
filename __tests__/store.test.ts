import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StateStore, SCHEMA_VERSION } from '../src/store';
import { MIGRATIONS } from '../src/store/schema';
import { BrandOrchestratorError } from '../src/errors';
import { makeRow, tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir(); });
afterEach(() => t.cleanup());

function codeOf(fn: () => unknown): string | undefined {
  try { fn(); } catch (e) { return (e as BrandOrchestratorError).code; }
  return undefined;
}

describe('StateStore.open()', () => {
  it('creates parent folders, the schema, both seed indexes and user_version', () => {
    const path = join(t.dir, 'a', 'b', 'state.sqlite');
    const store = StateStore.open(path);
    store.close();
    expect(existsSync(path)).toBe(true);
    const db = new Database(path, { readonly: true });
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index')").all() as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['runs', 'intel_items', 'telemetry', 'run_chunks', 'run_rejects',
      'idx_intel_items_run_id', 'idx_intel_items_created_at']));
    const lead = db.prepare("SELECT name FROM pragma_index_info('idx_intel_items_run_id') WHERE seqno = 0").pluck().get();
    expect(lead).toBe('run_id');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('sets WAL, foreign_keys, synchronous, busy timeout, checkpoint interval and the TEMP store (file, 16 KiB pages)', () => {
    using full = StateStore.open(t.db, { synchronous: 'FULL', busyTimeoutMs: 1234 });
    expect(full.connectionSettings()).toEqual({ journalMode: 'wal', foreignKeys: true, synchronous: 'FULL', busyTimeoutMs: 1234, walAutocheckpointPages: 100_000, tempStore: 'FILE', tempPageSize: 16_384 });
    using normal = StateStore.open(t.db);
    expect(normal.connectionSettings()).toEqual({ journalMode: 'wal', foreignKeys: true, synchronous: 'NORMAL', busyTimeoutMs: 5000, walAutocheckpointPages: 100_000, tempStore: 'FILE', tempPageSize: 16_384 });
  });

  it('upgrades an empty database file (user_version 0) to the current schema', () => {
    new Database(t.db).close();
    using store = StateStore.open(t.db);
    expect(store.countItems()).toBe(0);
    const db = new Database(t.db, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('upgrades a version 1 database (no line_hash column) keeping its rows', () => {
    const db = new Database(t.db);
    db.exec(MIGRATIONS[0] as string);
    db.pragma('user_version = 1');
    db.prepare(`INSERT INTO runs (run_id, run_type, started_at, status) VALUES ('r1', 'batch', '2024-01-01', 'completed')`).run();
    db.prepare(`INSERT INTO intel_items (item_id, run_id, item_type, title, summary, claims_json, evidence_json, scores_json,
      risk_flags_json, explainability_json, content_hash, created_at, updated_at)
      VALUES ('old', 'r1', 'news', 'T', 'S', '[]', '[]', 'null', '[]', '[]', 'h', '2024-01-01', '2024-01-01')`).run();
    db.close();
    using store = StateStore.open(t.db);
    expect(store.getIntelItem('old')).toMatchObject({ title: 'T', contentHash: 'h' });
    expect(store.storedLineHash('old')).toBeNull();
    const check = new Database(t.db, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });

  it('reopens a current database without touching its data', () => {
    const s1 = StateStore.open(t.db);
    const run = s1.startRun({ runType: 'batch' });
    s1.upsertIntelItem(run.runId, makeRow('x'));
    s1.close();
    using s2 = StateStore.open(t.db);
    expect(s2.countItems()).toBe(1);
  });

  it('refuses a database whose schema is newer, with ERR_SCHEMA_TOO_NEW', () => {
    const db = new Database(t.db);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(codeOf(() => StateStore.open(t.db))).toBe('ERR_SCHEMA_TOO_NEW');
    expect(() => StateStore.open(t.db)).toThrow(/newer than this version/);
  });

  it('rejects misspelled and invalid options', () => {
    expect(() => StateStore.open(t.db, { synchronus: 'FULL' } as never)).toThrow(/Unknown store option `synchronus`/);
    expect(() => StateStore.open(t.db, { synchronous: 'OFF' as never })).toThrow(/'NORMAL' or 'FULL', got "OFF"/);
    expect(() => StateStore.open(t.db, { busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
  });

  it('opens read-only without creating anything, and fails clearly on a missing file', () => {
    expect(codeOf(() => StateStore.open(join(t.dir, 'missing.sqlite'), { readonly: true }))).toBe('ERR_DB');
    StateStore.open(t.db).close();
    using ro = StateStore.open(t.db, { readonly: true });
    expect(ro.listRuns()).toEqual([]);
    expect(() => ro.startRun({ runType: 'x' })).toThrow();
  });
});

describe('StateStore#close()', () => {
  it('makes every later call throw ERR_STORE_CLOSED instead of silently reopening', () => {
    const store = StateStore.open(t.db);
    store.close();
    expect(store.isOpen).toBe(false);
    expect(codeOf(() => store.countItems())).toBe('ERR_STORE_CLOSED');
    expect(codeOf(() => store.startRun({ runType: 'x' }))).toBe('ERR_STORE_CLOSED');
    expect(() => store.close()).not.toThrow();
  });

  it('is called by `using` at the end of the block (context manager)', () => {
    let outer: StateStore | undefined;
    {
      using store = StateStore.open(t.db);
      outer = store;
      expect(store.isOpen).toBe(true);
    }
    expect(outer.isOpen).toBe(false);
  });
});

describe('StateStore#transaction()', () => {
  it('commits every statement when the callback returns', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    store.transaction(() => {
      store.upsertIntelItem(run.runId, makeRow('a'));
      store.upsertIntelItem(run.runId, makeRow('b'));
    });
    expect(store.countItems()).toBe(2);
  });

  it('rolls back every statement when the callback throws', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    expect(() => store.transaction(() => {
      store.upsertIntelItem(run.runId, makeRow('a'));
      throw new Error('boom');
    })).toThrow('boom');
    expect(store.countItems()).toBe(0);
  });

  it('nests: an inner failure rolls back only the inner savepoint when caught', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    store.transaction(() => {
      store.upsertIntelItem(run.runId, makeRow('outer'));
      try {
        store.transaction(() => {
          store.upsertIntelItem(run.runId, makeRow('inner'));
          throw new Error('inner');
        });
      } catch { /* expected */ }
    });
    expect(store.getIntelItem('outer')).toBeDefined();
    expect(store.getIntelItem('inner')).toBeUndefined();
  });

  it('refuses an async callback', () => {
    using store = StateStore.open(t.db);
    expect(() => store.transaction(async () => 1)).toThrow(/promise/i);
  });
});

describe('StateStore runs', () => {
  it('starts a run with a generated id and finishes it with counters and notes', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'nightly', settings: { chunkSize: 10 } });
    expect(run.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.status).toBe('running');
    expect(run.settings).toEqual({ chunkSize: 10 });
    const done = store.finishRun(run.runId, 'completed', 'ok', { linesRead: 3, inserted: 2, rejected: 1, chunks: 1 });
    expect(done).toMatchObject({ status: 'completed', notes: 'ok', linesRead: 3, inserted: 2, rejected: 1, chunks: 1 });
    expect(done.finishedAt).not.toBeNull();
  });

  it('rejects a duplicate run id with ERR_RUN_EXISTS', () => {
    using store = StateStore.open(t.db);
    store.startRun({ runId: 'r1', runType: 'batch' });
    expect(codeOf(() => store.startRun({ runId: 'r1', runType: 'batch' }))).toBe('ERR_RUN_EXISTS');
  });

  it('reports an unknown run with ERR_RUN_NOT_FOUND', () => {
    using store = StateStore.open(t.db);
    expect(codeOf(() => store.finishRun('nope', 'completed'))).toBe('ERR_RUN_NOT_FOUND');
    expect(codeOf(() => store.getRun('nope'))).toBe('ERR_RUN_NOT_FOUND');
    expect(codeOf(() => store.upsertIntelItem('nope', makeRow('a')))).toBe('ERR_RUN_NOT_FOUND');
    expect(codeOf(() => store.writeTelemetry('nope', {}))).toBe('ERR_RUN_NOT_FOUND');
  });

  it('lists runs newest first, limited and filtered by status', () => {
    using store = StateStore.open(t.db);
    for (const id of ['r1', 'r2', 'r3']) store.startRun({ runId: id, runType: 'batch' });
    store.finishRun('r2', 'failed', 'broken');
    expect(store.listRuns().map((r) => r.runId)).toEqual(['r3', 'r2', 'r1']);
    expect(store.listRuns({ limit: 1 }).map((r) => r.runId)).toEqual(['r3']);
    expect(store.listRuns({ status: 'failed' }).map((r) => r.runId)).toEqual(['r2']);
  });

  it('refuses to finish a run as running', () => {
    using store = StateStore.open(t.db);
    store.startRun({ runId: 'r1', runType: 'batch' });
    expect(codeOf(() => store.finishRun('r1', 'running'))).toBe('ERR_INVALID_OPTION');
  });
});

describe('StateStore#upsertIntelItemsBatch()', () => {
  it('inserts new items, updates changed ones and counts identical ones unchanged', () => {
    using store = StateStore.open(t.db);
    const r1 = store.startRun({ runId: 'r1', runType: 'batch' });
    expect(store.upsertIntelItemsBatch(r1.runId, [makeRow('a'), makeRow('b'), makeRow('c')]))
      .toEqual({ inserted: 3, updated: 0, unchanged: 0 });
    const before = store.getIntelItem('a');
    const r2 = store.startRun({ runId: 'r2', runType: 'batch' });
    const counts = store.upsertIntelItemsBatch(r2.runId, [makeRow('a', { title: 'New title' }), makeRow('b'), makeRow('d')]);
    expect(counts).toEqual({ inserted: 1, updated: 1, unchanged: 1 });
    const a = store.getIntelItem('a');
    expect(a?.title).toBe('New title');
    expect(a?.runId).toBe('r2');
    expect(a?.createdAt).toBe(before?.createdAt);
    expect(a!.updatedAt >= before!.updatedAt).toBe(true);
    // Unchanged content is not rewritten: it still belongs to the run that last changed it.
    expect(store.getIntelItem('b')?.runId).toBe('r1');
    expect(store.countItems('r2')).toBe(2);
  });

  it('keeps a given created_at and defaults a missing one to the ingest time', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    const t0 = new Date().toISOString();
    store.upsertIntelItemsBatch(run.runId, [makeRow('a', { createdAt: '2024-01-02T03:04:05.000Z' }), makeRow('b')]);
    expect(store.getIntelItem('a')?.createdAt).toBe('2024-01-02T03:04:05.000Z');
    expect(store.getIntelItem('b')!.createdAt >= t0).toBe(true);
  });

  it('is all or nothing: a failing item rolls back the whole batch', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    const bad = makeRow('bad', { decision: 'maybe' as never }); // violates the CHECK constraint
    expect(() => store.upsertIntelItemsBatch(run.runId, [makeRow('a'), makeRow('b'), bad])).toThrow();
    expect(store.countItems()).toBe(0);
  });

  it('round-trips the five JSON columns, parsed once into typed camelCase objects', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    store.upsertIntelItem(run.runId, makeRow('a', {
      claimsJson: '["c1","c2 ✓"]', evidenceJson: '["https://apnews.com/1"]', scoresJson: 'null',
      riskFlagsJson: '["doxxing"]', explainabilityJson: '["x","y"]', trendScore: null,
    }));
    const [item] = store.listIntelItemsForRun(run.runId);
    expect(item).toMatchObject({
      itemId: 'a', runId: run.runId, claims: ['c1', 'c2 ✓'], evidence: ['https://apnews.com/1'], scores: null,
      riskFlags: ['doxxing'], explainability: ['x', 'y'], trendScore: null,
    });
  });

  it('stores SQL-looking text verbatim', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    const evil = "x'); DROP TABLE intel_items; --";
    store.upsertIntelItem(run.runId, makeRow(evil, { title: evil }));
    expect(store.getIntelItem(evil)?.title).toBe(evil);
    expect(store.countItems()).toBe(1);
  });
});

describe('StateStore reads', () => {
  it('lists and iterates a run in created_at then insertion order', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    store.upsertIntelItemsBatch(run.runId, [
      makeRow('late', { createdAt: '2024-03-01T00:00:00.000Z' }),
      makeRow('early2', { createdAt: '2024-01-01T00:00:00.000Z' }),
      makeRow('early1', { createdAt: '2024-01-01T00:00:00.000Z' }),
    ]);
    const ids = store.listIntelItemsForRun(run.runId).map((i) => i.itemId);
    expect(ids).toEqual(['early2', 'early1', 'late']);
    expect([...store.iterateIntelItemsForRun(run.runId)].map((i) => i.itemId)).toEqual(ids);
    expect(store.countItems(run.runId)).toBe(3);
    expect(store.countItems('other')).toBe(0);
    expect(store.getIntelItem('nope')).toBeUndefined();
  });

  it('writes and reads telemetry, replacing the previous document', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    expect(store.readTelemetry(run.runId)).toBeUndefined();
    store.writeTelemetry(run.runId, { a: 1 });
    store.writeTelemetry(run.runId, { a: 2, nested: { b: [1] } });
    expect(store.readTelemetry(run.runId)).toEqual({ a: 2, nested: { b: [1] } });
  });
});

describe('StateStore#commitChunk()', () => {
  const meta = { chunkIndex: 0, firstLineNo: 1, lineCount: 4, byteStart: 0, byteEnd: 100, checksum: 'abc' };

  it('writes items, rejects and the checkpoint row together', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    const cp = store.commitChunk(run.runId, {
      meta, rows: [makeRow('a'), makeRow('b')], blankLines: 1,
      rejects: [{ lineNo: 3, code: 'invalid_json', reason: 'bad', excerpt: '{' }],
    });
    expect(cp).toMatchObject({ inserted: 2, rejected: 1, blankLines: 1 });
    expect(store.getChunk(run.runId, 0)).toMatchObject({ ...meta, inserted: 2, rejected: 1, blankLines: 1 });
    expect(store.listRejects(run.runId)).toEqual([{ lineNo: 3, code: 'invalid_json', reason: 'bad', excerpt: '{' }]);
    expect(store.chunkTotals(run.runId)).toMatchObject({ chunks: 1, linesRead: 4, inserted: 2, rejected: 1, blankLines: 1 });
  });

  it('confirms a skipped (same) line under the lock, and parses it after all if its row changed', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    store.commitChunk(run.runId, { meta, rows: [makeRow('a', { lineHash: 'h-a' }), makeRow('b', { lineHash: 'h-b' })], blankLines: 0, rejects: [] });
    expect(store.storedLineHash('a')).toBe('h-a');
    expect(store.storedLineHash('zz')).toBeUndefined();
    const reparsed: number[] = [];
    const reparse = (lineNo: number, bytes: Uint8Array) => {
      const text = Buffer.from(bytes).toString('utf8');
      reparsed.push(lineNo);
      return text === 'bad'
        ? { ok: false as const, reject: { lineNo, code: 'invalid_json' as const, reason: 'r', excerpt: text } }
        : { ok: true as const, row: makeRow(text, { title: 'new title' }) };
    };
    const run2 = store.startRun({ runType: 'batch' });
    const cp = store.commitChunk(run2.runId, {
      meta,
      rows: [
        { same: { itemId: 'a', lineHash: 'h-a', lineNo: 1, bytes: Buffer.from('a') } }, // still the stored line: unchanged, not parsed
        makeRow('b', { title: 'changed by an earlier line', lineHash: 'h-b2' }),
        { same: { itemId: 'b', lineHash: 'h-b', lineNo: 3, bytes: Buffer.from('b') } }, // its row changed just above: parsed, wins
        { same: { itemId: 'c', lineHash: 'h-c', lineNo: 4, bytes: Buffer.from('bad') } },
      ],
      blankLines: 0, rejects: [], reparse,
    });
    expect(reparsed).toEqual([3, 4]);
    expect(cp).toMatchObject({ inserted: 0, updated: 2, unchanged: 1, rejected: 1 });
    expect(store.getIntelItem('b')).toMatchObject({ title: 'new title', runId: run2.runId });
    expect(store.storedLineHash('b')).toBe('h-b');
    expect(store.listRejects(run2.runId)).toEqual([{ lineNo: 4, code: 'invalid_json', reason: 'r', excerpt: 'bad' }]);
  });

  it('records the line of an unchanged row stored before line hashes, once, without rewriting it', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    store.upsertIntelItem(run.runId, makeRow('a'));
    expect(store.storedLineHash('a')).toBeNull();
    const run2 = store.startRun({ runType: 'batch' });
    const before = store.getIntelItem('a');
    expect(store.upsertIntelItem(run2.runId, makeRow('a', { lineHash: 'h1' }))).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    expect(store.storedLineHash('a')).toBe('h1');
    expect(store.getIntelItem('a')).toEqual(before); // run_id and updated_at kept
    // Once a row has a line hash, the same content from yet another line writes nothing.
    expect(store.upsertIntelItem(run2.runId, makeRow('a', { lineHash: 'h2' }))).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    expect(store.storedLineHash('a')).toBe('h1');
  });

  it('leaves nothing behind when the transaction fails after its writes', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    expect(() => store.commitChunk(run.runId, {
      meta, rows: [makeRow('a')], blankLines: 0, rejects: [{ lineNo: 2, code: 'invalid_json', reason: 'r', excerpt: 'e' }],
    }, { beforeCommit: () => { throw new Error('crash before commit'); } })).toThrow('crash before commit');
    expect(store.countItems()).toBe(0);
    expect(store.listRejects(run.runId)).toEqual([]);
    expect(store.getChunk(run.runId, 0)).toBeUndefined();
  });

  it('commits on a retry after the very first commit of a connection failed inside its transaction', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    const chunk = { meta, rows: [makeRow('a')], blankLines: 0, rejects: [] };
    expect(() => store.commitChunk(run.runId, chunk, { beforeCommit: () => { throw new Error('fault'); } })).toThrow('fault');
    expect(store.commitChunk(run.runId, chunk)).toMatchObject({ inserted: 1 });
    // A staging batch that fails (two rows at one position) leaves staging usable.
    expect(() => store.stageRows([{ ord: 1, row: makeRow('b') }, { ord: 1, row: makeRow('c') }])).toThrow(/UNIQUE|PRIMARY/);
    store.resetStaging();
    store.stageRows([{ ord: 1, row: makeRow('b') }]);
    expect(store.commitChunk(run.runId, { ...chunk, meta: { ...meta, chunkIndex: 1 }, rows: [], preStaged: true })).toMatchObject({ inserted: 1 });
    expect(store.countItems()).toBe(2);
  });

  it('commits rows staged beforehand (outside the lock), and keeps them staged when a commit fails, for the retry', () => {
    using store = StateStore.open(t.db);
    const seed = store.startRun({ runType: 'batch' });
    store.upsertIntelItem(seed.runId, makeRow('a', { lineHash: 'h-a' }));
    const run = store.startRun({ runType: 'batch' });
    store.resetStaging();
    store.stageRows([{ ord: 1, row: makeRow('b', { lineHash: 'h-b' }) }, { ord: 2, row: makeRow('c', { lineHash: 'h-c0' }) }]);
    store.stageRows([{ ord: 4, row: makeRow('b', { title: 'b again', lineHash: 'h-b2' }) }]);
    const reparse = (lineNo: number, bytes: Uint8Array) => ({ ok: true as const, row: makeRow(Buffer.from(bytes).toString('utf8'), { title: `reparsed ${lineNo}` }) });
    const chunk = {
      meta, preStaged: true, blankLines: 0, rejects: [], reparse,
      rows: [
        { same: { itemId: 'a', lineHash: 'h-a', lineNo: 3, bytes: Buffer.from('a') } }, // unchanged: no staged line of `a` before it
        { same: { itemId: 'c', lineHash: 'h-c', lineNo: 5, bytes: Buffer.from('c') } }, // `c` was staged at line 2: parsed again
      ],
    };
    expect(() => store.commitChunk(run.runId, chunk, { beforeCommit: () => { throw new Error('crash before commit'); } }))
      .toThrow('crash before commit');
    expect(store.countItems()).toBe(1);
    const cp = store.commitChunk(run.runId, chunk); // the retry finds the staged rows again
    expect(cp).toMatchObject({ inserted: 2, updated: 2, unchanged: 1 });
    expect(store.getIntelItem('b')).toMatchObject({ title: 'b again' });
    expect(store.getIntelItem('c')).toMatchObject({ title: 'reparsed 5' });
    expect(store.storedLineHash('c')).toBe('h-c');
    expect(store.getIntelItem('a')?.runId).toBe(seed.runId);
    // Merged rows leave the staging table: an empty commit changes nothing.
    expect(store.commitChunk(run.runId, { ...chunk, meta: { ...meta, chunkIndex: 1 }, rows: [] })).toMatchObject({ inserted: 0, updated: 0, unchanged: 0 });
    expect(() => store.commitChunk(run.runId, { ...chunk, meta: { ...meta, chunkIndex: 2 }, rows: [makeRow('d')] }))
      .toThrow('with `preStaged`, `rows` holds only skipped lines');
  });
});

describe('StateStore per-thread connections', () => {
  it('lets two worker threads, each with its own store, write to one WAL database', async () => {
    StateStore.open(t.db).close();
    const storeJs = resolve(__dirname, '../dist/src/store/index.js');
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const { StateStore } = require(${JSON.stringify(storeJs)});
      const store = StateStore.open(workerData.db, { busyTimeoutMs: 10000 });
      const run = store.startRun({ runId: workerData.runId, runType: 'thread' });
      for (let i = 0; i < 20; i++) {
        store.upsertIntelItemsBatch(run.runId, [workerData.rows[i]]);
      }
      store.close();
      parentPort.postMessage('done');`;
    const spawn = (runId: string) => new Promise<void>((res, rej) => {
      const rows = Array.from({ length: 20 }, (_, i) => makeRow(`${runId}-${i}`));
      const w = new Worker(code, { eval: true, workerData: { db: t.db, runId, rows } });
      w.once('message', () => res());
      w.once('error', rej);
    });
    await Promise.all([spawn('t1'), spawn('t2')]);
    using store = StateStore.open(t.db);
    expect(store.countItems('t1')).toBe(20);
    expect(store.countItems('t2')).toBe(20);
    expect(store.checkIntegrity()).toEqual([]);
  });
});
