#!/usr/bin/env bash
# Peak RSS of the export commands (items / rejects, table and NDJSON) on a run
# of N rows, measured with GNU time. Not a test: run it by hand after
# `npm run build`, e.g. `scripts/export-memory.sh 30000 300000`, and compare
# the sizes: bounded memory means the peak does not grow with the rows.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=(node "$PWD/dist/src/cli/main.js")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-8s %-40s %12s %9s\n' rows command peak_rss_kb seconds
for n in "${@:-300000}"; do
  db="$work/export-$n.sqlite"
  "${CLI[@]}" generate --count "$n" --seed 11 -o "$work/good.ndjson"
  "${CLI[@]}" generate --count "$n" --seed 12 --bad-ratio 1 -o "$work/bad.ndjson"
  "${CLI[@]}" ingest "$work/good.ndjson" --db "$db" --run-id items --quiet
  "${CLI[@]}" ingest "$work/bad.ndjson" --db "$db" --run-id rejects --max-reject-ratio none --quiet
  for args in "items --run items --format table" "items --run items" "rejects --run rejects" "rejects --run rejects --json" "rejects --run rejects --summary"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f '%M %e' -o "$work/time" "${CLI[@]}" $args --db "$db" > "$work/out"
    read -r rss secs < "$work/time"
    printf '%-8s %-40s %12s %9s\n' "$n" "$args" "$rss" "$secs"
  done
done
