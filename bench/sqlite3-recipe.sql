-- The simplest alternative to `ingest`: the sqlite3 CLI loads the raw lines
-- into a TEMP table and upserts them with one INSERT ... SELECT json_extract
-- into the same table and indexes, in one transaction. It checks, scores and
-- gates nothing, keeps no rejects and no checkpoints.
-- Run (bench/peers.bench.ts does, with FEED replaced by the feed's path):
--   sqlite3 DB < this-file
-- on a database that already has the schema (the bench opens it once with StateStore.open).
-- The bench also runs it committed per chunk, as ingest commits: the upsert
-- between the two "-- chunk" lines in its own transaction for each range of
-- DEFAULT_CHUNK_SIZE lines (FIRST and LAST replaced by the range's rowids).
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
-- The page cache of one ingest connection, and a TEMP table in memory.
PRAGMA cache_size = -16384;
PRAGMA temp_store = MEMORY;
.mode ascii
.separator "\037" "\n"
CREATE TEMP TABLE raw (line TEXT);
.import FEED raw
BEGIN;
INSERT INTO runs (run_id, run_type, started_at, status) VALUES ('peer', 'sqlite3', datetime('now'), 'running');
-- chunk
INSERT INTO intel_items (item_id, run_id, item_type, title, summary, claims_json, evidence_json, scores_json,
  risk_flags_json, explainability_json, trend_score, decision, decision_reason, created_at, updated_at)
SELECT json_extract(line, '$.item_id'), 'peer', json_extract(line, '$.item_type'), json_extract(line, '$.title'),
  json_extract(line, '$.summary'), coalesce(json_extract(line, '$.claims'), '[]'),
  coalesce(json_extract(line, '$.evidence'), '[]'), coalesce(json_extract(line, '$.scores'), 'null'),
  coalesce(json_extract(line, '$.risk_flags'), '[]'), coalesce(json_extract(line, '$.explainability'), '[]'),
  NULL, json_extract(line, '$.decision'), json_extract(line, '$.decision_reason'),
  coalesce(json_extract(line, '$.created_at'), strftime('%Y-%m-%dT%H:%M:%fZ')), strftime('%Y-%m-%dT%H:%M:%fZ')
FROM temp.raw
WHERE rowid BETWEEN FIRST AND LAST AND json_valid(line) AND json_extract(line, '$.item_id') IS NOT NULL AND json_extract(line, '$.title') IS NOT NULL
ORDER BY rowid
ON CONFLICT (item_id) DO UPDATE SET run_id = excluded.run_id, item_type = excluded.item_type, title = excluded.title,
  summary = excluded.summary, claims_json = excluded.claims_json, evidence_json = excluded.evidence_json,
  scores_json = excluded.scores_json, risk_flags_json = excluded.risk_flags_json,
  explainability_json = excluded.explainability_json, decision = excluded.decision,
  decision_reason = excluded.decision_reason, updated_at = excluded.updated_at;
-- chunk
UPDATE runs SET status = 'completed', finished_at = datetime('now') WHERE run_id = 'peer';
COMMIT;
