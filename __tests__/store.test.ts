import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StateStore, SCHEMA_VERSION } from '../src/sqlite';
import { MIGRATIONS } from '../src/sqlite/schema';
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
    expect(full.connectionSettings()).toEqual({ journalMode: 'wal', foreignKeys: true, synchronous: 'FULL', busyTimeoutMs: 1234, walAutocheckpointPages: 100_000, cacheSizeKib: 16_384 });
    using normal = StateStore.open(t.db);
    expect(normal.connectionSettings()).toEqual({ journalMode: 'wal', foreignKeys: true, synchronous: 'NORMAL', busyTimeoutMs: 5000, walAutocheckpointPages: 100_000, cacheSizeKib: 16_384 });
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
    expect(store.getIntelItem('old')).toMatchObject({ title: 'T', contentHash: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const check = new Database(t.db, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare("SELECT line_hash FROM intel_items WHERE item_id = 'old'").pluck().get()).toBeNull();
    check.close();
  });

  it('upgrades a version 2 database: the stored content hash column goes, rows and line hashes stay', () => {
    const db = new Database(t.db);
    db.exec(MIGRATIONS[0] as string);
    db.exec(MIGRATIONS[1] as string);
    db.pragma('user_version = 2');
    db.prepare(`INSERT INTO runs (run_id, run_type, started_at, status) VALUES ('r1', 'batch', '2024-01-01', 'completed')`).run();
    db.prepare(`INSERT INTO intel_items (item_id, run_id, item_type, title, summary, claims_json, evidence_json, scores_json,
      risk_flags_json, explainability_json, content_hash, created_at, updated_at, line_hash)
      VALUES ('old', 'r1', 'news', 'T', 'S', '[]', '[]', 'null', '[]', '[]', 'h', '2024-01-01', '2024-01-01', 'lh')`).run();
    db.close();
    using store = StateStore.open(t.db);
    expect(store.getIntelItem('old')).toMatchObject({ title: 'T', createdAt: '2024-01-01' });
    const check = new Database(t.db, { readonly: true });
    const cols = (check.pragma('table_info(intel_items)') as { name: string }[]).map((c) => c.name);
    expect(cols).not.toContain('content_hash');
    expect(check.prepare("SELECT line_hash FROM intel_items WHERE item_id = 'old'").pluck().get()).toBe('lh');
    check.close();
    // A later hand edit of the content still drops the line hash (the trigger survives the upgrade).
    const edit = new Database(t.db);
    edit.prepare("UPDATE intel_items SET title = 'edited' WHERE item_id = 'old'").run();
    expect(edit.prepare("SELECT line_hash FROM intel_items WHERE item_id = 'old'").pluck().get()).toBeNull();
    edit.close();
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

  it('tells updates from inserts when the last insert went to another table or rows were deleted', () => {
    using store = StateStore.open(t.db);
    store.startRun({ runId: 'r1', runType: 'batch' });
    expect(store.upsertIntelItemsBatch('r1', [makeRow('a')])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    // This connection's last insert is now a runs row (rowid 4), above every item's rowid (1).
    for (const id of ['r2', 'r3', 'r4']) store.startRun({ runId: id, runType: 'batch' });
    expect(store.upsertIntelItemsBatch('r4', [makeRow('a', { title: 'Second' })])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    expect(store.upsertIntelItemsBatch('r4', [makeRow('a', { title: 'Third' }), makeRow('b')])).toEqual({ inserted: 1, updated: 1, unchanged: 0 });
    // The last insert rowid (2, item b) is now above the largest rowid left.
    const raw = new Database(t.db);
    raw.prepare("DELETE FROM intel_items WHERE item_id = 'b'").run();
    raw.close();
    expect(store.upsertIntelItemsBatch('r4', [makeRow('a', { title: 'Fourth' })])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    expect(store.upsertIntelItemsBatch('r4', [makeRow('c'), makeRow('a', { title: 'Fifth' })])).toEqual({ inserted: 1, updated: 1, unchanged: 0 });
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
    // The connection's first batch failed: the next one still writes, and only its own rows.
    expect(store.upsertIntelItemsBatch(run.runId, [makeRow('c')])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    expect(store.countItems()).toBe(1);
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

describe('StateStore per-thread connections', () => {
  it('lets two worker threads, each with its own store, write to one WAL database', async () => {
    StateStore.open(t.db).close();
    const storeJs = resolve(__dirname, '../dist/src/sqlite/index.js');
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
