import Database from 'better-sqlite3';
import { StateStore } from '../src/sqlite';
import type { KeptLine } from '../src/store/chunk-backend';
import { SqliteChunkBackend } from '../src/sqlite/sqlite-chunk-backend';
import { commitEntries as commit, makeRow, tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir(); });
afterEach(() => t.cleanup());

const meta = { chunkIndex: 0, firstLineNo: 1, lineCount: 4, byteStart: 0, byteEnd: 100, checksum: 'abc' };
const kept = (itemId: string, lineHash: string, lineNo: number): KeptLine => ({ kept: true, itemId, lineHash, lineNo });

/** A store with one run, and a backend on a second connection to the same file (as a worker has). */
function setup(): { store: StateStore; backend: SqliteChunkBackend; runId: string; lineHash: (id: string) => unknown } {
  const store = StateStore.open(t.db);
  const { runId } = store.startRun({ runId: 'r1', runType: 'batch' });
  const backend = SqliteChunkBackend.open(t.db);
  const db = new Database(t.db, { readonly: true });
  const lineHash = (id: string) => db.prepare('SELECT line_hash FROM intel_items WHERE item_id = ?').pluck().get(id);
  return { store, backend, runId, lineHash };
}

describe('SqliteChunkBackend#commitChunk()', () => {
  it('writes items, rejects and the checkpoint row together', () => {
    const { store, backend, runId } = setup();
    const r = commit(backend, {
      runId, meta, entries: [makeRow('a'), makeRow('b')], blankLines: 1,
      rejects: [{ lineNo: 3, code: 'invalid_json', reason: 'bad', excerpt: '{' }],
    });
    expect(r).toMatchObject({ committed: { inserted: 2, rejected: 1, blankLines: 1 } });
    expect(store.getChunk(runId, 0)).toMatchObject({ ...meta, inserted: 2, rejected: 1, blankLines: 1 });
    expect(store.listRejects(runId)).toEqual([{ lineNo: 3, code: 'invalid_json', reason: 'bad', excerpt: '{' }]);
    expect(store.chunkTotals(runId)).toMatchObject({ chunks: 1, linesRead: 4, inserted: 2, rejected: 1, blankLines: 1 });
    expect(backend.committedChunk(runId, 0)).toMatchObject({ inserted: 2 });
    expect(backend.committedChunk(runId, 1)).toBeUndefined();
  });

  it('counts each row in line order: an item inserted and then changed in one chunk is 1 inserted + 1 updated', () => {
    const { store, backend, runId } = setup();
    store.upsertIntelItem(runId, makeRow('old'));
    const r = commit(backend, {
      runId, meta, blankLines: 0, rejects: [],
      entries: [makeRow('a'), makeRow('a', { title: 'second' }), makeRow('a', { title: 'second', lineHash: 'other line' }),
        makeRow('old'), makeRow('old', { summary: 'changed' })],
    });
    expect(r).toMatchObject({ committed: { inserted: 1, updated: 2, unchanged: 2 } });
    expect(store.getIntelItem('a')?.title).toBe('second');
    expect(store.getIntelItem('old')?.summary).toBe('changed');
  });

  it('counts a kept line unchanged while the stored row is still its line, and hands back the ones changed since the lookup', () => {
    const { store, backend, runId, lineHash } = setup();
    commit(backend, { runId, meta, entries: [makeRow('a', { lineHash: 'h-a' }), makeRow('b', { lineHash: 'h-b' })], blankLines: 0, rejects: [] });
    expect(backend.storedLineHashes(['a', 'b', 'zz'])).toEqual(new Map([['a', 'h-a'], ['b', 'h-b']]));
    const run2 = store.startRun({ runType: 'batch' }).runId;
    const m1 = { ...meta, chunkIndex: 1 };
    // After the lookup, before this chunk's turn, an earlier chunk changes b.
    store.upsertIntelItem(run2, makeRow('b', { title: 'changed by an earlier chunk', lineHash: 'h-b2' }));
    const stale = commit(backend, {
      runId: run2, meta: m1, blankLines: 0, rejects: [], entries: [kept('a', 'h-a', 1), kept('b', 'h-b', 2), makeRow('c')],
    });
    expect(stale).toEqual({ stale: [kept('b', 'h-b', 2)] });
    // Nothing of the chunk was written.
    expect(store.getIntelItem('c')).toBeUndefined();
    expect(store.getChunk(run2, 1)).toBeUndefined();
    // The caller parses the stale line, stages it beside the rows still staged, and commits again.
    backend.stage((put) => put(makeRow('b', { lineHash: 'h-b' }), 2));
    const done = backend.commitChunk({ runId: run2, meta: m1, blankLines: 0, rejects: [], kept: [kept('a', 'h-a', 1)] });
    expect(done).toMatchObject({ committed: { inserted: 1, updated: 1, unchanged: 1 } });
    expect(store.getIntelItem('b')).toMatchObject({ title: 'Title b', runId: run2 });
    expect(lineHash('b')).toBe('h-b');
    expect(store.getIntelItem('a')?.runId).toBe(runId); // unchanged: not rewritten
  });

  it('leaves nothing behind when the transaction fails after its writes', () => {
    const { store, backend, runId } = setup();
    commit(backend, { runId, meta, entries: [makeRow('a')], blankLines: 0, rejects: [] });
    // The same chunk again: its checkpoint row (the last write) collides.
    expect(() => commit(backend, {
      runId, meta, entries: [makeRow('b')], blankLines: 0, rejects: [{ lineNo: 2, code: 'invalid_json', reason: 'r', excerpt: 'e' }],
    })).toThrow(/UNIQUE|PRIMARY/);
    expect(store.getIntelItem('b')).toBeUndefined();
    expect(store.listRejects(runId)).toEqual([]);
    expect(store.chunkTotals(runId)).toMatchObject({ chunks: 1, inserted: 1 });
    // The failed chunk's row is still staged; the next chunk starts from an empty stage.
    expect(commit(backend, { runId, meta: { ...meta, chunkIndex: 1 }, entries: [makeRow('c')], blankLines: 0, rejects: [] }))
      .toMatchObject({ committed: { inserted: 1 } });
    expect(store.getIntelItem('b')).toBeUndefined();
  });

  it('stages without the write lock, and keeps the stage through a busy commit for the retry', () => {
    const { store, runId } = setup();
    const other = new Database(t.db);
    other.exec('BEGIN IMMEDIATE');
    const quick = SqliteChunkBackend.open(t.db, { busyTimeoutMs: 0 });
    quick.clearStage();
    quick.stage((put) => { put(makeRow('a'), 1); put(makeRow('b'), 2); });
    const c = { runId, meta, kept: [], blankLines: 0, rejects: [] };
    expect(() => quick.commitChunk(c)).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    other.exec('ROLLBACK');
    expect(quick.commitChunk(c)).toMatchObject({ committed: { inserted: 2 } });
    expect(store.countItems()).toBe(2);
    // A commit empties the stage.
    expect(quick.commitChunk({ ...c, meta: { ...meta, chunkIndex: 1 } })).toMatchObject({ committed: { inserted: 0, updated: 0, unchanged: 0 } });
    other.close();
    quick.close();
  });

  it('throws SQLITE_BUSY (for the caller to retry) while another connection holds the write lock', () => {
    const { backend, runId } = setup();
    const other = new Database(t.db);
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    const quick = SqliteChunkBackend.open(t.db, { busyTimeoutMs: 0 });
    expect(() => commit(quick, { runId, meta, entries: [makeRow('a')], blankLines: 0, rejects: [] })).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    other.exec('ROLLBACK');
    expect(commit(backend, { runId, meta, entries: [makeRow('a')], blankLines: 0, rejects: [] })).toMatchObject({ committed: { inserted: 1 } });
    other.close();
    quick.close();
  });
});

describe('StateStore#upsertIntelItemsBatch() and the chunk path', () => {
  it('write through one engine: the same rows give the same table and counts either way', () => {
    const rows = [makeRow('a'), makeRow('b'), makeRow('a', { title: 'again' }), makeRow('b')];
    const viaStore = tempDir();
    const s = StateStore.open(viaStore.db);
    s.startRun({ runId: 'r1', runType: 'batch' });
    const counts = s.upsertIntelItemsBatch('r1', rows);
    const { store, backend, runId } = setup();
    const r = commit(backend, { runId, meta, entries: rows, blankLines: 0, rejects: [] });
    expect(r).toMatchObject({ committed: counts });
    const strip = (i: { updatedAt: string; createdAt: string } | undefined) => ({ ...i, updatedAt: '', createdAt: '' });
    for (const id of ['a', 'b']) expect(strip(store.getIntelItem(id))).toEqual(strip(s.getIntelItem(id)));
    s.close();
    viaStore.cleanup();
  });
});
