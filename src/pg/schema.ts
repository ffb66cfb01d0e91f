/**
 * The PostgreSQL schema: the tables of the SQLite store (spec section 2), in
 * server types, plus what concurrent commits and shared runs need. Forward
 * migrations only, recorded in `brand_orch_schema`; never edit a shipped one.
 */
import type pg from 'pg';
import { StoreError } from '../errors';

export const PG_MIGRATIONS: readonly string[] = [
  // v1
  `
  CREATE TABLE runs (
    run_id                 text PRIMARY KEY,
    -- Run order: a later run's line wins over an earlier run's, whatever the commit order.
    run_seq                bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    run_type               text NOT NULL,
    started_at             timestamptz NOT NULL,
    finished_at            timestamptz,
    status                 text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    settings_snapshot_json jsonb NOT NULL DEFAULT '{}',
    notes                  text,
    lines_read             bigint NOT NULL DEFAULT 0,
    blank_lines            bigint NOT NULL DEFAULT 0,
    inserted               bigint NOT NULL DEFAULT 0,
    updated                bigint NOT NULL DEFAULT 0,
    unchanged              bigint NOT NULL DEFAULT 0,
    rejected               bigint NOT NULL DEFAULT 0,
    chunks                 integer NOT NULL DEFAULT 0,
    heartbeat_at           timestamptz,
    owner_pid              integer,
    owner_host             text,
    owner_token            text,
    -- The chunk plan every joining process must share: input size, fingerprint, bytes per chunk, chunk count.
    plan_json              jsonb
  );
  CREATE INDEX idx_runs_started_at ON runs (started_at);

  CREATE TABLE intel_items (
    item_id             text PRIMARY KEY,
    run_id              text NOT NULL REFERENCES runs (run_id),
    item_type           text NOT NULL,
    title               text NOT NULL,
    summary             text NOT NULL,
    -- json, not jsonb: the text is kept as written, so items read back equal SQLite's.
    claims_json         json NOT NULL,
    evidence_json       json NOT NULL,
    scores_json         json NOT NULL,
    risk_flags_json     json NOT NULL,
    explainability_json json NOT NULL,
    trend_score         double precision,
    decision            text CHECK (decision IS NULL OR decision IN ('promote', 'monitor', 'block')),
    decision_reason     text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    line_hash           text,
    content_hash        text NOT NULL,
    -- The delivering line's position (run_seq, byte offset): an older position never overwrites a newer one.
    pos_run             bigint NOT NULL,
    pos_byte            bigint NOT NULL
  ) WITH (fillfactor = 80);
  -- fillfactor 80: a row rewritten with the same content (only its position
  -- moves, as on every re-ingest) fits on its page as a HOT update, which
  -- writes no index entries.
  CREATE INDEX idx_intel_items_run_id ON intel_items (run_id);
  CREATE INDEX idx_intel_items_created_at ON intel_items (created_at);

  CREATE TABLE telemetry (
    run_id         text PRIMARY KEY REFERENCES runs (run_id),
    telemetry_json jsonb NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
  );

  -- The chunk plan of a run, one row per chunk: claimed under a lease, done
  -- in the same transaction as its items and rejects.
  CREATE TABLE run_chunks (
    run_id       text NOT NULL REFERENCES runs (run_id),
    chunk_index  integer NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'done')),
    lease_owner  text,
    lease_until  timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    byte_start   bigint,
    byte_end     bigint,
    line_count   integer,
    checksum     text,
    blank_lines  integer,
    inserted     integer,
    updated      integer,
    unchanged    integer,
    rejected     integer,
    committed_at timestamptz,
    PRIMARY KEY (run_id, chunk_index)
  );

  -- A reject's line number is its chunk's first line (known once every
  -- earlier chunk is done) plus its line within the chunk: see PgStore.
  CREATE TABLE run_rejects (
    run_id        text NOT NULL REFERENCES runs (run_id),
    chunk_index   integer NOT NULL,
    line_in_chunk integer NOT NULL,
    code          text NOT NULL,
    reason        text NOT NULL,
    excerpt       text NOT NULL,
    PRIMARY KEY (run_id, chunk_index, line_in_chunk)
  );
  `,
  // v2: a chunk being committed publishes its item ids, so that a later chunk
  // whose unchanged lines meet its items knows to move their rows' positions
  // (see PgChunkBackend); emptied when the chunk is done.
  `
  ALTER TABLE run_chunks ADD COLUMN item_ids text[];
  `,
  // v3: the position of the line whose created_at a row holds. An item new in
  // a run keeps the created_at of its first line in input order, whichever
  // chunk commits first; a row of an earlier run (or from before v3: NULL)
  // keeps its created_at.
  `
  ALTER TABLE intel_items ADD COLUMN created_pos_run bigint, ADD COLUMN created_pos_byte bigint;
  `,
  // v4: how long a run sat interrupted (SQLite's v5), so that its working
  // time leaves out the time between its last sign of life and the resume or
  // join that took it over (see PgStore#startOrJoin). 0: never interrupted,
  // or resumed before v4.
  `
  ALTER TABLE runs ADD COLUMN interrupted_ms bigint NOT NULL DEFAULT 0;
  `,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Any fixed number: the advisory lock that makes concurrent first connections migrate one at a time. */
const MIGRATION_LOCK = 0x62_6f_72_63;

/** The schema version of the database `client` is on: 0 when it holds none. Reads only, needs no privilege beyond SELECT. */
export async function schemaVersion(client: pg.Client): Promise<number> {
  // Two statements: a query naming a missing table fails when it is planned, whatever a CASE would pick.
  const { rows: [present] } = await client.query<{ t: boolean }>("SELECT to_regclass('brand_orch_schema') IS NOT NULL AS t");
  if (present?.t !== true) return 0;
  const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM brand_orch_schema');
  return rows[0]?.v ?? 0;
}

function tooNew(where: string, v: number): StoreError {
  return new StoreError('ERR_SCHEMA_TOO_NEW', `${where} has schema version ${v}, newer than this version of brand-orchestrator understands (${PG_SCHEMA_VERSION}); upgrade brand-orchestrator`);
}

/**
 * Brings the schema to {@link PG_SCHEMA_VERSION}, in one transaction; a newer
 * schema is `ERR_SCHEMA_TOO_NEW`. The version is read before any DDL: a
 * deployed schema at the current version needs no CREATE privilege, so a
 * role with only SELECT/INSERT/UPDATE/DELETE on its tables ingests.
 */
export async function migrate(client: pg.Client, where: string): Promise<void> {
  const deployed = await schemaVersion(client);
  if (deployed === PG_SCHEMA_VERSION) return;
  if (deployed > PG_SCHEMA_VERSION) throw tooNew(where, deployed);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS brand_orch_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    // Again under the lock: another process may have migrated meanwhile.
    const current = await schemaVersion(client);
    if (current > PG_SCHEMA_VERSION) throw tooNew(where, current);
    for (let v = current + 1; v <= PG_SCHEMA_VERSION; v++) {
      await client.query(PG_MIGRATIONS[v - 1] as string);
      await client.query('INSERT INTO brand_orch_schema (version) VALUES ($1)', [v]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
