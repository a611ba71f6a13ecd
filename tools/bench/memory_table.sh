#!/usr/bin/env bash
# The memory estimate against the measured peak, over users × mechanism × trace level: one
# Markdown row per run with `datapact validate`'s estimate (runner/src/memory.rs), GNU time's
# peak RSS of the same run and their ratio. The promise (issue 25, docs/reliability.md): the
# estimate is at or above the peak and at most twice it. Rows that break it are marked ✗ and
# the script exits 1.
#
# Usage: tools/bench/memory_table.sh [users...]          (default 10000 100000 1000000)
# Env:   DATAPACT_BIN     binary (default ./target/release/datapact; needs a release build)
#        MECHANISMS       default "C S M async"
#        TRACES           default "cells rounds users events"
#        M_EVENTS_USERS   sizes for M with trace = "events" (default "1000 3000 10000 30000"):
#                         M re-assigns every undecided user after each withdrawal, so its events
#                         grow as n × withdrawals (60 per user at 10^4): 10^5 users would take
#                         ~15 GB, so M's events rows use these sizes instead of the list above.
#        REPS             replications per run (default 2); THREADS (default 2).
# Needs GNU time at /usr/bin/time. Each run is one cell of MODEL.md defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DATAPACT_BIN:-./target/release/datapact}
threads=${THREADS:-2}
reps=${REPS:-2}
out=$(mktemp -d "${TMPDIR:-/tmp}/datapact-memory-table.XXXXXX")
trap 'rm -rf "$out"' EXIT
read -r -a mechanisms <<<"${MECHANISMS:-C S M async}"
read -r -a traces <<<"${TRACES:-cells rounds users events}"
read -r -a m_events_users <<<"${M_EVENTS_USERS:-1000 3000 10000 30000}"
users=("$@")
[ ${#users[@]} -eq 0 ] && users=(10000 100000 1000000)
scenario="$out/one.toml"
printf '[scenario]\nname = "memory"\nseed = 1\nreplications = %s\n' "$reps" >"$scenario"
# "needs ~1.3 GiB at 2 thread(s)" -> bytes
to_bytes() { awk '{m = ($2 == "KiB") ? 2^10 : ($2 == "MiB") ? 2^20 : ($2 == "GiB") ? 2^30 : ($2 == "TiB") ? 2^40 : 1; printf "%.0f\n", $1 * m}'; }
bad=0
row() { # users mechanism trace
  local sets=(--set "population.users=$1" --set "scenario.mechanisms=[\"$2\"]" --set "output.trace=$3")
  local est peak ratio mark=""
  est=$("$bin" validate "$scenario" "${sets[@]}" | sed -n 's/.*memory *needs ~\([0-9.]*\) \([KMGT]*i*B\).*/\1 \2/p' | to_bytes)
  rm -rf "$out/run"
  /usr/bin/time -f '%M' -o "$out/time" "$bin" run "$scenario" "${sets[@]}" --threads "$threads" --out "$out/run" -q >/dev/null
  peak=$(($(tail -1 "$out/time") * 1024))
  ratio=$(awk -v e="$est" -v p="$peak" 'BEGIN {printf "%.2f", e / p}')
  if awk -v r="$ratio" 'BEGIN {exit !(r < 1 || r > 2)}'; then mark=" ✗"; bad=1; fi
  awk -v n="$1" -v m="$2" -v t="$3" -v e="$est" -v p="$peak" -v r="$ratio$mark" \
    'BEGIN {printf "| %s | %s | %s | %.0f MiB | %.0f MiB | %s |\n", n, m, t, e / 2^20, p / 2^20, r}'
}
echo "| users | mechanism | trace | estimate | peak RSS | estimate / peak |"
echo "|---|---|---|---|---|---|"
for t in "${traces[@]}"; do for m in "${mechanisms[@]}"; do
  sizes=("${users[@]}")
  [ "$m" = M ] && [ "$t" = events ] && sizes=("${m_events_users[@]}")
  for n in "${sizes[@]}"; do row "$n" "$m" "$t"; done
done; done
exit "$bad"
