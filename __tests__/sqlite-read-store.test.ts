import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateStore } from '../src/sqlite';
import { openReadStore, withReadStore } from '../src/backend/open-read-store';
import { RunClaim, isStale } from '../src/sqlite/run-owner';
import type { ReadStore } from '../src/store/read-store';
import { SqliteReadStore } from '../src/sqlite/sqlite-read-store';
import { commitChunk, makeRow, tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-read-store-'); });
afterEach(() => t.cleanup());

/** A run `r1` with one committed chunk: 3 items and 2 rejects; the store then closed. */
function seed(): void {
  using store = StateStore.open(t.db);
  store.startRun({ runId: 'r1', runType: 'nightly' });
  const meta = { chunkIndex: 0, firstLineNo: 1, lineCount: 5, byteStart: 0, byteEnd: 50, checksum: 'c0' };
  commitChunk(t.db, 'r1', {
    meta, rows: ['a', 'b', 'c'].map((id) => makeRow(id)), blankLines: 0,
    rejects: [{ lineNo: 2, code: 'invalid_json', reason: 'bad', excerpt: '{' }, { lineNo: 4, code: 'invalid_json', reason: 'bad', excerpt: '[' }],
  });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('SqliteReadStore', () => {
  it('answers as the StateStore it wraps, labelled with the path', async () => {
    seed();
    const store: ReadStore = await openReadStore({ kind: 'sqlite', path: t.db });
    try {
      using direct = StateStore.open(t.db, { readonly: true });
      expect(store.kind).toBe('sqlite');
      expect(store.label).toBe(t.db);
      expect(await store.resolveRun('latest')).toEqual(direct.getRun('r1'));
      expect(await store.listRuns()).toEqual(direct.listRuns());
      expect(await store.chunkTotals('r1')).toEqual(direct.chunkTotals('r1'));
      expect(await store.getIntelItem('b')).toEqual(direct.getIntelItem('b'));
      expect(await collect(store.iterateIntelItemsForRun('r1'))).toEqual(direct.listIntelItemsForRun('r1'));
      expect(await collect(store.iterateRejects('r1'))).toEqual(direct.listRejects('r1'));
      expect(await store.rejectCounts('r1')).toEqual([{ code: 'invalid_json', count: 2 }]);
      expect((await store.rejectExamples('r1', 'invalid_json', 1)).map((r) => r.lineNo)).toEqual([2]);
      expect(await store.checkIntegrity()).toEqual([]);
      expect(store.isStale(direct.getRun('r1'))).toBe(false); // running, heartbeat fresh
    } finally {
      await store.close();
    }
  });

  it('judges a running run stale by its lock file next to the database, before its heartbeat', async () => {
    const claim = new RunClaim(t.db);
    {
      using store = StateStore.open(t.db);
      store.startRun({ runId: 'r2', runType: 'nightly', ownerToken: claim.token });
    }
    claim.release(false); // the owner stopped; its lock file stays, free, on this host
    await withReadStore({ kind: 'sqlite', path: t.db }, async (store) => {
      const run = await store.resolveRun('r2');
      expect(isStale(run)).toBe(false); // the heartbeat alone says alive
      expect(store.isStale(run)).toBe(true);
    });
  });

  it('releases the statement of an iteration left early, so the next query runs', async () => {
    seed();
    await withReadStore({ kind: 'sqlite', path: t.db }, async (store) => {
      for await (const item of store.iterateIntelItemsForRun('r1')) {
        expect(item.itemId).toBe('a');
        break;
      }
      expect(await store.rejectCounts('r1')).toHaveLength(1); // better-sqlite3 refuses a query while a statement is mid-iteration
    });
  });

  it('never creates a missing database or its folder (ERR_DB)', async () => {
    const path = join(t.dir, 'no', 'such.sqlite');
    await expect(openReadStore({ kind: 'sqlite', path })).rejects.toMatchObject({ code: 'ERR_DB' });
    expect(() => SqliteReadStore.open(path)).toThrow(expect.objectContaining({ code: 'ERR_DB' }));
    expect(existsSync(join(t.dir, 'no'))).toBe(false);
  });

  it('withReadStore closes the store when the callback throws', async () => {
    seed();
    let seen: ReadStore | undefined;
    await expect(withReadStore({ kind: 'sqlite', path: t.db }, (store) => { seen = store; throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(seen?.listRuns()).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' });
  });
});

describe('SqliteReadStore, litter', () => {
  it('leaves no -wal or -shm file beside the database once closed (it opens the file read-write, and writes nothing)', async () => {
    seed();
    expect(existsSync(`${t.db}-wal`)).toBe(false);
    const before = readFileSync(t.db);
    const store = SqliteReadStore.open(t.db);
    expect((await store.listRuns()).map((r) => r.runId)).toEqual(['r1']);
    expect(await store.checkIntegrity()).toEqual([]);
    await store.close();
    expect([existsSync(`${t.db}-wal`), existsSync(`${t.db}-shm`)]).toEqual([false, false]);
    expect(readFileSync(t.db)).toEqual(before);
  });
});
