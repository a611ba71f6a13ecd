#!/usr/bin/env bash
# Smoke test of the local Slurm harness, without the datapact binary:
#   tools/slurm/smoke.sh STATE_DIR
# 1. cluster.sh check / install (skipped if installed) / start STATE_DIR
# 2. sbatch --array=0-3 --wait of a tiny inline job writing
#    $OUT/part-$SLURM_ARRAY_TASK_ID-of-$SLURM_ARRAY_TASK_COUNT.txt; checks all 4 files
# 3. the same through datapact-array.sbatch with a stub DATAPACT_BIN
# The daemons are always stopped on exit. Exit 77 if this machine cannot run Slurm.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
cluster=$here/cluster.sh
PROG=${0##*/}
JOB_TIMEOUT=${SMOKE_JOB_TIMEOUT:-120}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[[ $# -eq 1 ]] || { echo "usage: $PROG STATE_DIR" >&2; exit 2; }
mkdir -p "$1"
STATE=$(cd "$1" && pwd -P)

t0=$EPOCHREALTIME
lap() { # lap NAME: print seconds since the last lap
    local now=$EPOCHREALTIME
    log "$(awk -v n="$1" -v a="$t0" -v b="$now" 'BEGIN { printf "time %-8s %6.2f s", n, b - a }')"
    t0=$now
}

rc=0
"$cluster" check || rc=$?
((rc == 0)) || exit "$rc"
"$cluster" install
lap install

cleanup() {
    local rc=$?
    t0=$EPOCHREALTIME
    "$cluster" stop "$STATE" || { log "WARNING: stop failed; see $STATE/*.pid"; rc=1; }
    lap stop
    exit "$rc"
}
trap cleanup EXIT
eval "$("$cluster" start "$STATE")"
: "${SLURM_CONF:?cluster.sh start did not print SLURM_CONF}"
lap start

# check_parts DIR: the 4 part files exist and name the right task count.
check_parts() {
    local dir=$1 i f missing=0
    for i in 0 1 2 3; do
        f=$dir/part-$i-of-4.txt
        if [[ -s $f ]]; then
            log "ok  $f: $(<"$f")"
        else
            log "missing $f"
            missing=1
        fi
    done
    ((missing == 0)) || { ls -la "$dir" >&2 || true; return 1; }
}

# --- 1. tiny inline job -------------------------------------------------------------
OUT=$STATE/smoke-out
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$STATE"
# shellcheck disable=SC2016 # expanded by the job's shell, not here
timeout "$JOB_TIMEOUT" sbatch --array=0-3 --wait --job-name=smoke \
    --output="$STATE/%x-%A_%a.out" --export=ALL,OUT="$OUT" \
    --wrap='echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT on $(hostname -s)" \
        >"$OUT/part-$SLURM_ARRAY_TASK_ID-of-$SLURM_ARRAY_TASK_COUNT.txt"' >&2 ||
    die "inline array job failed or timed out (rc $?)"
check_parts "$OUT" || die "inline array job did not write all part files"
lap array

# --- 2. datapact-array.sbatch with a stub binary ----------------------------------
stub=$STATE/datapact-stub
cat >"$stub" <<'STUB'
#!/bin/sh
# Stand-in for `datapact run SCENARIO --out DIR --resume --threads N [ARGS]`.
set -eu
[ "$1" = run ] && [ "$3" = --out ] && [ "$5" = --resume ] && [ "$6" = --threads ] || { echo "bad args: $*" >&2; exit 2; }
echo "scenario=$2 threads=$7 extra=$8" \
    >"$4/part-$SLURM_ARRAY_TASK_ID-of-$SLURM_ARRAY_TASK_COUNT.txt"
STUB
chmod +x "$stub"
OUT2=$STATE/sbatch-out
rm -rf "$OUT2"
mkdir -p "$OUT2"
timeout "$JOB_TIMEOUT" sbatch --array=0-3 --wait \
    --export=ALL,DATAPACT_BIN="$stub",DATAPACT_SCENARIO=scenarios/smoke.toml,DATAPACT_OUT="$OUT2",DATAPACT_ARGS=--smoke \
    "$here/datapact-array.sbatch" >&2 ||
    die "datapact-array.sbatch job failed or timed out (rc $?)"
check_parts "$OUT2" || die "datapact-array.sbatch did not write all part files"
ls "$STATE"/datapact-*_0.out >/dev/null 2>&1 || die "no datapact-<job>_0.out in the submit dir"
lap sbatch

log "PASS"
