import Database from 'better-sqlite3';
import { StateStore } from '../src/store';
import type { KeptLine } from '../src/store/chunk-backend';
import { SqliteChunkBackend } from '../src/store/sqlite-chunk-backend';
import { makeRow, tempDir } from './helpers/tmp';

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
    const r = backend.commitChunk({
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
    const r = backend.commitChunk({
      runId, meta, blankLines: 0, rejects: [],
      entries: [makeRow('a'), makeRow('a', { title: 'second' }), makeRow('a', { title: 'second', lineHash: 'other line' }),
        makeRow('old'), makeRow('old', { summary: 'changed' })],
    });
    expect(r).toMatchObject({ committed: { inserted: 1, updated: 2, unchanged: 2 } });
    expect(store.getIntelItem('a')?.title).toBe('second');
    expect(store.getIntelItem('old')?.summary).toBe('changed');
  });

  it('counts a kept line unchanged while the stored row is still its line, and hands back the ones an earlier line changed', () => {
    const { store, backend, runId, lineHash } = setup();
    backend.commitChunk({ runId, meta, entries: [makeRow('a', { lineHash: 'h-a' }), makeRow('b', { lineHash: 'h-b' })], blankLines: 0, rejects: [] });
    expect(backend.storedLineHashes(['a', 'b', 'zz'])).toEqual(new Map([['a', 'h-a'], ['b', 'h-b']]));
    const run2 = store.startRun({ runType: 'batch' }).runId;
    const m1 = { ...meta, chunkIndex: 1 };
    const stale = backend.commitChunk({
      runId: run2, meta: m1, blankLines: 0, rejects: [],
      entries: [kept('a', 'h-a', 1), makeRow('b', { title: 'changed by an earlier line', lineHash: 'h-b2' }), kept('b', 'h-b', 3)],
    });
    expect(stale).toEqual({ stale: [kept('b', 'h-b', 3)] });
    // Nothing of the chunk was written.
    expect(store.getIntelItem('b')?.title).toBe('Title b');
    expect(store.getChunk(run2, 1)).toBeUndefined();
    // The caller parses the stale line and commits again.
    const done = backend.commitChunk({
      runId: run2, meta: m1, blankLines: 0, rejects: [],
      entries: [kept('a', 'h-a', 1), makeRow('b', { title: 'changed by an earlier line', lineHash: 'h-b2' }), makeRow('b', { lineHash: 'h-b' })],
    });
    expect(done).toMatchObject({ committed: { inserted: 0, updated: 2, unchanged: 1 } });
    expect(store.getIntelItem('b')).toMatchObject({ title: 'Title b', runId: run2 });
    expect(lineHash('b')).toBe('h-b');
    expect(store.getIntelItem('a')?.runId).toBe(runId); // unchanged: not rewritten
  });

  it('leaves nothing behind when the transaction fails after its writes', () => {
    const { store, backend, runId } = setup();
    backend.commitChunk({ runId, meta, entries: [makeRow('a')], blankLines: 0, rejects: [] });
    // The same chunk again: its checkpoint row (the last write) collides.
    expect(() => backend.commitChunk({
      runId, meta, entries: [makeRow('b')], blankLines: 0, rejects: [{ lineNo: 2, code: 'invalid_json', reason: 'r', excerpt: 'e' }],
    })).toThrow(/UNIQUE|PRIMARY/);
    expect(store.getIntelItem('b')).toBeUndefined();
    expect(store.listRejects(runId)).toEqual([]);
    expect(store.chunkTotals(runId)).toMatchObject({ chunks: 1, inserted: 1 });
  });

  it('throws SQLITE_BUSY (for the caller to retry) while another connection holds the write lock', () => {
    const { backend, runId } = setup();
    const other = new Database(t.db);
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    const quick = SqliteChunkBackend.open(t.db, { busyTimeoutMs: 0 });
    expect(() => quick.commitChunk({ runId, meta, entries: [makeRow('a')], blankLines: 0, rejects: [] })).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    other.exec('ROLLBACK');
    expect(backend.commitChunk({ runId, meta, entries: [makeRow('a')], blankLines: 0, rejects: [] })).toMatchObject({ committed: { inserted: 1 } });
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
    const r = backend.commitChunk({ runId, meta, entries: rows, blankLines: 0, rejects: [] });
    expect(r).toMatchObject({ committed: counts });
    const strip = (i: { updatedAt: string; createdAt: string } | undefined) => ({ ...i, updatedAt: '', createdAt: '' });
    for (const id of ['a', 'b']) expect(strip(store.getIntelItem(id))).toEqual(strip(s.getIntelItem(id)));
    s.close();
    viaStore.cleanup();
  });
});
