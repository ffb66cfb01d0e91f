-- The simplest PostgreSQL alternative to `ingest`: psql copies the raw lines
-- into a TEMP table and upserts them with one INSERT ... SELECT of the jsonb
-- fields into the same table and indexes, in one transaction. Like
-- bench/sqlite3-recipe.sql it checks, scores and gates nothing, keeps no
-- rejects and no checkpoints; a line that is not JSON aborts it (PostgreSQL 15
-- has no json_valid; the generated feed has none).
-- Run (bench/pg-peers.bench.ts does) with the feed on stdin, on a database
-- that already has the schema:
--   psql -X -q -d DB -f bench/psql-recipe.sql < FEED
\set ON_ERROR_STOP on
-- CSV whose quote (0x01) and delimiter (0x02) never occur in NDJSON (raw
-- control characters are not valid JSON): each line is one field, verbatim.
CREATE TEMP TABLE raw (n bigint GENERATED ALWAYS AS IDENTITY, line text);
\copy raw (line) FROM pstdin WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
BEGIN;
INSERT INTO runs (run_id, run_type, started_at, status) VALUES ('peer', 'psql', now(), 'running');
-- One INSERT cannot update a row twice, so a repeated id keeps its last line
-- (DISTINCT ON, newest n first), as the sqlite3 recipe's ORDER BY rowid does.
-- OFFSET 0 keeps the subquery apart, so each line is parsed once, not once
-- per field read from it.
INSERT INTO intel_items (item_id, run_id, item_type, title, summary, claims_json, evidence_json, scores_json,
  risk_flags_json, explainability_json, trend_score, decision, decision_reason, created_at, updated_at,
  line_hash, content_hash, pos_run, pos_byte)
SELECT j->>'item_id', 'peer', j->>'item_type', j->>'title', j->>'summary', coalesce(j->'claims', '[]')::json,
  coalesce(j->'evidence', '[]')::json, coalesce(j->'scores', 'null')::json, coalesce(j->'risk_flags', '[]')::json,
  coalesce(j->'explainability', '[]')::json, NULL, j->>'decision', j->>'decision_reason',
  coalesce((j->>'created_at')::timestamptz, now()), now(), NULL, h,
  (SELECT run_seq FROM runs WHERE run_id = 'peer'), n
FROM (
  SELECT DISTINCT ON (j->>'item_id') n, j, h
  FROM (SELECT n, line::jsonb AS j, md5(line) AS h FROM raw WHERE line IS NOT NULL OFFSET 0) AS parsed
  WHERE j->>'item_id' IS NOT NULL AND j->>'title' IS NOT NULL
  ORDER BY j->>'item_id', n DESC
) AS last
ON CONFLICT (item_id) DO UPDATE SET run_id = excluded.run_id, item_type = excluded.item_type, title = excluded.title,
  summary = excluded.summary, claims_json = excluded.claims_json, evidence_json = excluded.evidence_json,
  scores_json = excluded.scores_json, risk_flags_json = excluded.risk_flags_json,
  explainability_json = excluded.explainability_json, decision = excluded.decision,
  decision_reason = excluded.decision_reason, updated_at = excluded.updated_at, content_hash = excluded.content_hash,
  pos_run = excluded.pos_run, pos_byte = excluded.pos_byte;
UPDATE runs SET status = 'completed' WHERE run_id = 'peer';
COMMIT;
