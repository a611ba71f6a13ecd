#!/usr/bin/env bash
# Peak RSS of `trace = "events"` runs of growing size: shows that memory is bounded (it must not
# grow with the number of events written). Usage: tools/bench/memory.sh [reps...] (default 200 600)
# Needs a release build (cargo build --release -p datapact) and GNU time at /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DATAPACT_BIN:-./target/release/datapact}
threads=${THREADS:-2}
out=${OUT_DIR:-/tmp/datapact-memory}
reps=("$@")
[ ${#reps[@]} -eq 0 ] && reps=(200 600)
printf '%-6s %-12s %-10s %-12s %s\n' reps events wall_s peak_rss_kb events_per_kb
for r in "${reps[@]}"; do
  dir="$out/ev-$r"
  rm -rf "$dir"
  log=$(mktemp)
  /usr/bin/time -v "$bin" run baseline --set output.trace=events \
    --set scenario.replications="$r" --threads "$threads" --out "$dir" -q 2>"$log" >/dev/null
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  events=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows'].get('events', 0))" "$dir/manifest.json")
  printf '%-6s %-12s %-10s %-12s %s\n' "$r" "$events" "$wall" "$rss" "$((events / rss))"
  rm -f "$log"
  [ -n "${KEEP:-}" ] || rm -rf "$dir"
done
