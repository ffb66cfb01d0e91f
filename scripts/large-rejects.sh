#!/usr/bin/env bash
# Issue 15, item 2 at full size: 4,000 valid lines, 300 invalid lines of
# ~900 KB each, 4,000 valid lines, ingested by the built CLI at default
# settings. Prints the run summary (JSON) and the process's peak RSS.
# Usage: npm run build && scripts/large-rejects.sh [work-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-$(mktemp -d)}"
node -e '
  const fs = require("node:fs");
  const out = fs.openSync(process.argv[1], "w");
  const valid = (id) => JSON.stringify({ item_id: id, item_type: "news", title: `Title ${id}`, summary: "s",
    scores: { impact: 20, timeliness: 15, virality: 10, relevance: 22, confidence: 8 } });
  const big = "x".repeat(900_000);
  for (let i = 0; i < 4000; i++) fs.writeSync(out, valid(`head-${i}`) + "\n");
  for (let i = 0; i < 300; i++) fs.writeSync(out, `{"item_id": "bad-${i}", "title": "${big}\n`); // invalid_json
  for (let i = 0; i < 4000; i++) fs.writeSync(out, valid(`tail-${i}`) + "\n");
  fs.closeSync(out);
' "$dir/feed.ndjson"
rm -f "$dir/db.sqlite" "$dir/db.sqlite-wal" "$dir/db.sqlite-shm"
/usr/bin/time -f 'peak RSS %M KB, %e s elapsed' node dist/src/cli/main.js ingest "$dir/feed.ndjson" --db "$dir/db.sqlite" --json || true
