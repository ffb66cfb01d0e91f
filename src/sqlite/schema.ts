/**
 * Forward-only migrations. `PRAGMA user_version` holds the number of the last
 * migration applied; opening an older database applies the rest, opening a
 * newer one fails (see `migrate` in connection.ts). Never edit a shipped
 * migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // v1: the schema of spec section 2.
  `
  CREATE TABLE runs (
    run_id                 TEXT PRIMARY KEY,
    run_type               TEXT NOT NULL,
    started_at             TEXT NOT NULL,
    finished_at            TEXT,
    status                 TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    settings_snapshot_json TEXT NOT NULL DEFAULT '{}',
    notes                  TEXT,
    lines_read             INTEGER NOT NULL DEFAULT 0,
    blank_lines            INTEGER NOT NULL DEFAULT 0,
    inserted               INTEGER NOT NULL DEFAULT 0,
    updated                INTEGER NOT NULL DEFAULT 0,
    unchanged              INTEGER NOT NULL DEFAULT 0,
    rejected               INTEGER NOT NULL DEFAULT 0,
    chunks                 INTEGER NOT NULL DEFAULT 0,
    heartbeat_at           TEXT,
    owner_pid              INTEGER,
    owner_host             TEXT
  );
  CREATE INDEX idx_runs_started_at ON runs (started_at);

  CREATE TABLE intel_items (
    item_id             TEXT PRIMARY KEY,
    run_id              TEXT NOT NULL REFERENCES runs (run_id),
    item_type           TEXT NOT NULL,
    title               TEXT NOT NULL,
    summary             TEXT NOT NULL,
    claims_json         TEXT NOT NULL DEFAULT '[]',
    evidence_json       TEXT NOT NULL DEFAULT '[]',
    scores_json         TEXT NOT NULL DEFAULT 'null',
    risk_flags_json     TEXT NOT NULL DEFAULT '[]',
    explainability_json TEXT NOT NULL DEFAULT '[]',
    trend_score         REAL,
    decision            TEXT CHECK (decision IS NULL OR decision IN ('promote', 'monitor', 'block')),
    decision_reason     TEXT,
    content_hash        TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
  );
  -- Composite, leading with run_id: serves "items of a run in created_at order".
  CREATE INDEX idx_intel_items_run_id ON intel_items (run_id, created_at);
  CREATE INDEX idx_intel_items_created_at ON intel_items (created_at);

  CREATE TABLE telemetry (
    run_id         TEXT PRIMARY KEY REFERENCES runs (run_id),
    telemetry_json TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
  );

  -- One row per committed chunk, written in the same transaction as its items.
  CREATE TABLE run_chunks (
    run_id        TEXT NOT NULL REFERENCES runs (run_id),
    chunk_index   INTEGER NOT NULL,
    first_line_no INTEGER NOT NULL,
    line_count    INTEGER NOT NULL,
    byte_start    INTEGER NOT NULL,
    byte_end      INTEGER NOT NULL,
    checksum      TEXT NOT NULL,
    blank_lines   INTEGER NOT NULL,
    inserted      INTEGER NOT NULL,
    updated       INTEGER NOT NULL,
    unchanged     INTEGER NOT NULL,
    rejected      INTEGER NOT NULL,
    committed_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, chunk_index)
  ) WITHOUT ROWID;

  CREATE TABLE run_rejects (
    run_id  TEXT NOT NULL REFERENCES runs (run_id),
    line_no INTEGER NOT NULL,
    code    TEXT NOT NULL,
    reason  TEXT NOT NULL,
    excerpt TEXT NOT NULL,
    PRIMARY KEY (run_id, line_no)
  ) WITHOUT ROWID;
  `,
  // v2: the hash of the line that produced each row, so an unchanged line is
  // recognised without parsing it (src/domain/line-hash.ts). NULL: unknown.
  // Any other writer that changes a row's content without setting line_hash
  // (a hand edit, an older version of this code) drops it, so the next
  // delivery of that item is parsed, not trusted.
  `
  ALTER TABLE intel_items ADD COLUMN line_hash TEXT;
  CREATE TRIGGER intel_items_content_changed
  AFTER UPDATE OF item_type, title, summary, claims_json, evidence_json, scores_json, risk_flags_json,
    explainability_json, trend_score, decision, decision_reason, content_hash ON intel_items
  WHEN NEW.line_hash IS OLD.line_hash AND NEW.line_hash IS NOT NULL
  BEGIN
    UPDATE intel_items SET line_hash = NULL WHERE item_id = NEW.item_id;
  END;
  `,
  // v3: no stored content hash. The upsert compares the content columns
  // themselves in SQL (see ItemsRepo), which costs less than hashing every
  // parsed row in JavaScript; `IntelItem.contentHash` is computed on read.
  // idx_intel_items_run_id on run_id alone: a run's new rows then append at
  // the end of its entries (rowid order) instead of landing on random leaf
  // pages by created_at, which cost ~20% of the upsert (docs/performance.md).
  `
  DROP INDEX idx_intel_items_run_id;
  CREATE INDEX idx_intel_items_run_id ON intel_items (run_id);
  DROP TRIGGER intel_items_content_changed;
  ALTER TABLE intel_items DROP COLUMN content_hash;
  CREATE TRIGGER intel_items_content_changed
  AFTER UPDATE OF item_type, title, summary, claims_json, evidence_json, scores_json, risk_flags_json,
    explainability_json, trend_score, decision, decision_reason ON intel_items
  WHEN NEW.line_hash IS OLD.line_hash AND NEW.line_hash IS NOT NULL
  BEGIN
    UPDATE intel_items SET line_hash = NULL WHERE item_id = NEW.item_id;
  END;
  `,
  // v4: who owns a running run, valid across PID namespaces and reboots: a
  // token drawn by the process that started or resumed it. Its heartbeat and
  // its end are written only while the row still holds its token, and it
  // holds a lock named after the token (see run-owner.ts). NULL: a run
  // started before v4, judged by its heartbeat alone.
  `
  ALTER TABLE runs ADD COLUMN owner_token TEXT;
  `,
  // v5: how long a run sat interrupted, so that its working time leaves out
  // the hours between a crash (or a failure, a cancel) and its resume. Each
  // resume adds the time since the run's last sign of life in the statement
  // that takes the run over (see RunsRepo#reopen). 0: never resumed, or
  // resumed before v5.
  `
  ALTER TABLE runs ADD COLUMN interrupted_ms INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
