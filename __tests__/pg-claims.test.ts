/**
 * Chunk claims of a shared PostgreSQL run, on the real store: a claim whose
 * reply was lost with its connection (committed on the server, never seen
 * by the process) is taken up again by that process's next claim, instead
 * of sitting claimed for as long as the process renews its leases, which
 * held up every later chunk that waited for it (seen in pg-faults.test.ts
 * under load: the connection dropped just as a claim committed).
 */
import { PgStore, newOwnerToken } from '../src/pg/pg-store';
import { pgOutage } from '../src/pg/outage';
import { scratchDb, type ScratchDb } from './helpers/pg';

let d: ScratchDb;
let store: PgStore;
const LEASE_MS = 60_000;

beforeAll(async () => {
  d = await scratchDb();
  store = await PgStore.open({ url: d.url, label: d.name }, { leaseMs: LEASE_MS, outage: pgOutage(0) });
});
afterAll(async () => {
  await store.close();
  await d.drop();
});

async function newRun(runId: string, owner: string): Promise<void> {
  await store.startOrJoin({
    runId, runType: 'ingest', join: false, resume: false, ownerToken: owner, settings: {},
    plan: { inputBytes: 4000, chunkBytes: 1000, chunks: 4, fingerprint: 'f' },
  });
}

test('a claim whose reply was lost is taken up again by the same process, and by no other while its lease runs', async () => {
  const me = newOwnerToken();
  const other = newOwnerToken();
  await newRun('lost-reply', me);
  await store.claimChunks('lost-reply', me, 2, LEASE_MS); // its reply "lost": the process holds neither chunk
  // Another live process does not take them: their lease runs.
  expect(await store.claimChunks('lost-reply', other, 4, LEASE_MS)).toEqual([2, 3]);
  // The process that claimed them, holding neither, takes them up again.
  expect(await store.claimChunks('lost-reply', me, 4, LEASE_MS)).toEqual([0, 1]);
});

test('a claim never hands out again a chunk the process holds', async () => {
  const me = newOwnerToken();
  await newRun('held', me);
  expect(await store.claimChunks('held', me, 2, LEASE_MS)).toEqual([0, 1]);
  expect(await store.claimChunks('held', me, 4, LEASE_MS, [0, 1])).toEqual([2, 3]);
  expect(await store.claimChunks('held', me, 4, LEASE_MS, [0, 1, 2, 3])).toEqual([]);
});
