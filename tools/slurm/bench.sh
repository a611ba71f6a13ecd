#!/usr/bin/env bash
# What a job array costs over one local run of the same scenario, on this machine: the
# 3-node test cluster of cluster.sh (each node 1 CPU, all on this machine's cores) against
# `datapact run --threads $(nproc)`, interleaved, REPEATS times each.
#
#   tools/slurm/bench.sh [REPEATS [SHARDS]]        (root; defaults 3 and 8)
#
# Environment: DATAPACT_BIN (default target/release/datapact), BENCH_SCENARIO (default
# baseline), BENCH_SET (a --set for it; default scenario.replications=20000, ~40 CPU-seconds).
# Prints one line per run and a summary; wall times from submit to the array's last task
# leaving the queue (squeue polled every 0.1 s; the report job is not counted).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
REPEATS=${1:-3}
SHARDS=${2:-8}
BIN=${DATAPACT_BIN:-$repo/target/release/datapact}
SCENARIO=${BENCH_SCENARIO:-baseline}
SET=${BENCH_SET:-scenario.replications=20000}
WORK=$(mktemp -d /tmp/datapact-slurm-bench.XXXXXX)
STATE=$WORK/state

cleanup() {
    "$here/cluster.sh" stop "$STATE" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$here/cluster.sh" install >&2
eval "$("$here/cluster.sh" start "$STATE" --nodes 3 2>/dev/null)"
threads=$(nproc)
"$BIN" validate "$SCENARIO" --set "$SET" | sed -n '/cells/,/campaigns/p'
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

local_run() {
    local out=$WORK/local-$1 t0
    t0=$(now)
    "$BIN" run "$SCENARIO" --set "$SET" --out "$out" --threads "$threads" -q >/dev/null
    secs "$t0" "$(now)"
    rm -rf "$out"
}

# array_run I [SUBMIT ARGS]: seconds from submit until no task of the array is queued; then
# waits for the report job too (not counted), so that it does not overlap the next run.
array_run() {
    local out=$WORK/array-$1 t0 said job report
    shift
    t0=$(now)
    said=$("$BIN" submit "$SCENARIO" --set "$SET" --shards "$SHARDS" --out "$out" "$@")
    job=$(awk '$1 == "array" && $2 == "job" { print $3 }' <<<"$said")
    report=$(awk '$1 == "report" && $2 == "job" { print $3 }' <<<"$said")
    while [[ -n $(squeue -h -j "$job" 2>/dev/null) ]]; do sleep 0.1; done
    secs "$t0" "$(now)"
    while [[ -n $(squeue -h -j "$report" 2>/dev/null) ]]; do sleep 0.5; done
    "$BIN" status "$out" >/dev/null || echo "status of $out failed" >&2
    rm -rf "$out"
}

declare -a L=() A=() B=()
for ((r = 1; r <= REPEATS; r++)); do
    L+=("$(local_run "$r")")
    A+=("$(array_run "a$r")")
    B+=("$(array_run "b$r" --max-running 2)")
    echo "run $r: local ${L[-1]} s, array of $SHARDS on 3 nodes ${A[-1]} s," \
        "same with --max-running 2 ${B[-1]} s (load $(cut -d' ' -f1 /proc/loadavg))"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ml=$(median "${L[@]}") ma=$(median "${A[@]}") mb=$(median "${B[@]}")
echo "median: local --threads $threads $ml s; array $ma s ($(awk -v a="$ma" -v b="$ml" 'BEGIN { printf "%.2fx", a / b }'));" \
    "array --max-running 2 $mb s ($(awk -v a="$mb" -v b="$ml" 'BEGIN { printf "%.2fx", a / b }'))"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
