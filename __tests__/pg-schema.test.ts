/**
 * PostgreSQL schema migrations on the real local server: a database at an
 * earlier version is brought forward in place, keeping its data; one newer
 * than this code is refused.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateLines } from '../src/gen/generate';
import { runPipeline } from '../src/backend';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from '../src/pg/schema';
import { PgStore } from '../src/pg/pg-store';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

let db: ScratchDb;
beforeEach(async () => {
  db = await scratchDb();
});
afterEach(async () => {
  await db?.drop();
});

const target = () => ({ url: db.url, label: db.name });

test('a version 1 database is migrated forward, its rows kept', async () => {
  expect(PG_SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
  await db.query('CREATE TABLE brand_orch_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  await db.query(PG_MIGRATIONS[0] as string);
  await db.query('INSERT INTO brand_orch_schema (version) VALUES (1)');
  await db.query("INSERT INTO runs (run_id, run_type, started_at, status) VALUES ('old', 'batch', now(), 'completed')");

  const store = await PgStore.open(target());
  await store.close();

  expect(await db.query('SELECT version FROM brand_orch_schema ORDER BY version')).toEqual(
    Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })));
  expect(await db.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'run_chunks' AND column_name = 'item_ids'"))
    .toEqual([{ column_name: 'item_ids' }]);
  expect(await db.query('SELECT run_id, interrupted_ms::int AS ms FROM runs')).toEqual([{ run_id: 'old', ms: 0 }]);
});

test('a reading command refuses an older schema, saying how to upgrade it, and reads it once an ingest has', async () => {
  await (await PgStore.open(target())).close();
  // Back to version 3, as a database last written by the previous version.
  await db.query(`DELETE FROM brand_orch_schema WHERE version > 3; ALTER TABLE runs DROP COLUMN interrupted_ms`);
  await expect(PgStore.openForRead(target())).rejects.toMatchObject({
    code: 'ERR_DB', message: expect.stringMatching(/has schema version 3; ingest into it once to upgrade it to \d+$/),
  });
  await (await PgStore.open(target())).close();
  const store = await PgStore.openForRead(target());
  await expect(store.listRuns()).resolves.toEqual([]);
  await store.close();
});

test('a database newer than this code is refused with ERR_SCHEMA_TOO_NEW', async () => {
  await (await PgStore.open(target())).close();
  await db.query('INSERT INTO brand_orch_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION + 1]);
  await expect(PgStore.open(target())).rejects.toMatchObject({ code: 'ERR_SCHEMA_TOO_NEW' });
});

test('a role with only SELECT/INSERT/UPDATE/DELETE on a schema at the current version ingests (no DDL is tried)', async () => {
  await (await PgStore.open(target())).close();
  const role = `bo_dml_${db.name.slice(-8)}`;
  await db.query(`DROP ROLE IF EXISTS ${role}`);
  await db.query(`CREATE ROLE ${role} LOGIN`);
  try {
    await db.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
    await db.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    const u = new URL(db.url);
    u.username = role;
    const tmp = tempDir('bo-pg-role-');
    try {
      const feed = join(tmp.dir, 'feed.ndjson');
      writeFileSync(feed, `${[...generateLines({ count: 300, seed: 4 })].join('\n')}\n`);
      const s = await runPipeline({ input: feed, db: u.toString(), workers: 2 });
      expect(s).toMatchObject({ status: 'completed', linesRead: 300 });
      // The role may not create a table: the schema was not touched.
      await expect(db.query(`SET ROLE ${role}; CREATE TABLE bo_probe (a int)`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      tmp.cleanup();
    }
  } finally {
    await db.query(`DROP OWNED BY ${role}`);
    await db.query(`DROP ROLE ${role}`);
  }
});
