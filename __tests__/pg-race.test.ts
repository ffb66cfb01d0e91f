/**
 * A chunk whose merge meets a row that another transaction inserted after
 * the chunk locked its items: the merge waits for that transaction, then
 * the chunk locks the new row, counts the line against it and merges again
 * in the same transaction (a savepoint round), and the run completes with
 * exact counts. On the real local server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { runPipeline } from '../src/backend';
import { generateLines } from '../src/gen/generate';
import { scratchDb, until, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(60_000);

let db: ScratchDb;
const tmp = tempDir('bo-pg-race-');

beforeAll(async () => {
  db = await scratchDb();
});
afterAll(async () => {
  await db?.drop();
  tmp.cleanup();
});

test('an item inserted by another transaction during the merge is counted against its row, and the chunk commits once', async () => {
  const seedFeed = join(tmp.dir, 'seed.ndjson');
  writeFileSync(seedFeed, `${[...generateLines({ count: 1, badRatio: 0, duplicateRatio: 0, seed: 1 })][0]}\n`);
  await runPipeline({ input: seedFeed, db: db.url, runId: 'seed', workers: 1 });

  const lines = [...generateLines({ count: 200, badRatio: 0, duplicateRatio: 0, seed: 3 })];
  const feed = join(tmp.dir, 'feed.ndjson');
  writeFileSync(feed, `${lines.join('\n')}\n`);
  const racedId = (JSON.parse(lines[120] as string) as { item_id: string }).item_id;
  const racedTitle = (JSON.parse(lines[120] as string) as { title: string }).title;

  // Another writer inserts one of the feed's items and holds its transaction open.
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query(`INSERT INTO intel_items (item_id, run_id, item_type, title, summary, claims_json, evidence_json, scores_json,
        risk_flags_json, explainability_json, trend_score, decision, decision_reason, created_at, updated_at, line_hash, content_hash, pos_run, pos_byte)
      SELECT $1, run_id, item_type, 'written by another writer', summary, claims_json, evidence_json, scores_json, risk_flags_json,
        explainability_json, trend_score, decision, decision_reason, created_at, updated_at, NULL, 'other', 0, 0 FROM intel_items LIMIT 1`, [racedId]);

    const run = runPipeline({ input: feed, db: db.url, runId: 'raced', workers: 1 });
    // The chunk found no stored row for the item, so its merge now waits for the other writer's insert.
    // (In this test's database: other test files run workers on the same server at the same time.)
    await until(async () => (await db.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'brand-orchestrator worker' AND wait_event_type = 'Lock'", [db.name])).length > 0,
    'the merge to wait for the other writer');
    await other.query('COMMIT');
    const summary = await run;

    expect(summary).toMatchObject({ status: 'completed', linesRead: 200, inserted: 199, updated: 1, unchanged: 0, rejected: 0 });
    const [row] = await db.query<{ title: string; run_id: string }>('SELECT title, run_id FROM intel_items WHERE item_id = $1', [racedId]);
    expect(row).toEqual({ title: racedTitle, run_id: 'raced' });
    expect(await db.query('SELECT count(*)::int AS n FROM intel_items')).toEqual([{ n: 201 }]);
    const [t] = await db.query<{ conflicts: number }>("SELECT (telemetry_json->>'conflicts')::int AS conflicts FROM telemetry WHERE run_id = 'raced'");
    expect(t?.conflicts).toBeGreaterThanOrEqual(1);
  } finally {
    await other.end();
  }
});
