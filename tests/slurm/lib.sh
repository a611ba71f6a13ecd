# shellcheck shell=bash
# Shared by the Slurm integration tests (sourced, not run): logging, timings, free ports, and
# the comparison of a Slurm run's output directory with a single-machine run's.
#
# The sourcing script sets PROG and defines fail MESSAGE (records a problem); make_work sets
# the paths the rest uses; compare_outputs also needs SHARDS and TABLES (the tables the
# scenario writes, e.g. "cells diagnostics rounds").
# shellcheck disable=SC2034,SC2317 # variables and functions used by the sourcing script

SLURM_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$SLURM_TESTS/../.." && pwd -P)
cluster=$repo/tools/slurm/cluster.sh

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# ------------------------------------------------------------------ setup
# preflight [--nodes K]: exit 77 (SKIP, with the reason) if this machine cannot run the cluster,
# 1 if the check fails or there is no datapact binary (DATAPACT_BIN, default this checkout's
# target/release/datapact); sets SRC_BIN.
preflight() {
    local rc=0 why
    why=$("$cluster" check "$@" 2>&1) || rc=$?
    why=$(printf '%s' "$why" | sed 's/^cluster\.sh: //' | tr '\n' ' ')
    if ((rc == 77)); then
        echo "SKIP: $PROG: ${why:-this machine cannot run a local Slurm}"
        exit 77
    elif ((rc != 0)); then
        echo "FAIL: $PROG: cluster.sh check failed (rc $rc): $why"
        exit 1
    fi
    log "check: $why"
    SRC_BIN=${DATAPACT_BIN:-$repo/target/release/datapact}
    if [[ ! -x $SRC_BIN ]]; then
        echo "FAIL: $PROG: datapact binary not found at $SRC_BIN" \
            "(build it: cargo build --release -p datapact, or set DATAPACT_BIN)"
        exit 1
    fi
}

# make_work NAME: a new temp dir WORK (under SLURM_IT_TMPDIR, TMPDIR or /tmp) holding STATE
# (the cluster), LOGS, DIR_LOCAL, DIR_SLURM, SCENARIO (NAME.toml) and BIN, a copy of SRC_BIN
# (a concurrent rebuild cannot change it between the local and the Slurm run).
make_work() {
    WORK=$(mktemp -d "${SLURM_IT_TMPDIR:-${TMPDIR:-/tmp}}/datapact-$1.XXXXXX") || exit 1
    WORK=$(cd "$WORK" && pwd -P)
    STATE=$WORK/slurm-state
    DIR_LOCAL=$WORK/out-local
    DIR_SLURM=$WORK/out-slurm
    LOGS=$WORK/logs
    SCENARIO=$WORK/$1.toml
    BIN=$WORK/datapact
    mkdir -p "$STATE" "$LOGS"
    cp "$SRC_BIN" "$BIN" || exit 1
    log "work dir $WORK; binary $SRC_BIN ($("$BIN" --version 2>/dev/null || echo '?'))"
}

# start_cluster [--nodes K]: install Slurm if needed, start the cluster in STATE (free ports)
# and export its SLURM_CONF; sets CLUSTER_STARTED (the caller's cleanup stops it).
start_cluster() {
    local env_line k=1
    [[ ${1:-} == --nodes ]] && k=$2
    "$cluster" install || { fail "cluster.sh install failed"; exit 1; }
    lap install
    pick_ports "$k"
    CLUSTER_STARTED=1 # cluster.sh stop is a no-op for what it did not start
    env_line=$("$cluster" start "$STATE" "$@") || { fail "cluster.sh start $* failed"; exit 1; }
    eval "$env_line"
    [[ -n ${SLURM_CONF:-} && -f $SLURM_CONF ]] || { fail "cluster.sh start did not give SLURM_CONF"; exit 1; }
    lap start
}

# run_local [RUN_ARGS...]: validate SCENARIO, run it into DIR_LOCAL and verify it (the reference
# the Slurm run must equal); sets NCHUNKS.
run_local() {
    "$BIN" validate "$SCENARIO" >&2 || { fail "datapact validate rejected the scenario"; exit 1; }
    "$BIN" run "$SCENARIO" --out "$DIR_LOCAL" -q "$@" >"$LOGS/local-run.log" 2>&1 || {
        cat "$LOGS/local-run.log" >&2
        fail "local run failed"
        exit 1
    }
    # Hashes and row counts of every part against the manifest; the local tree never changes,
    # so it is verified once.
    "$BIN" verify "$DIR_LOCAL" >"$LOGS/verify-local.log" 2>&1 || {
        cat "$LOGS/verify-local.log" >&2
        fail "datapact verify $DIR_LOCAL failed"
        exit 1
    }
    lap local
    NCHUNKS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chunks"])' \
        "$DIR_LOCAL/manifest.json") || { fail "cannot read chunks from $DIR_LOCAL/manifest.json"; exit 1; }
    log "local run: $NCHUNKS chunks"
}

# ----------------------------------------------------------------------- timings
declare -a TIMES=()
t_start=$EPOCHREALTIME
t0=$EPOCHREALTIME
lap() { # lap NAME: record the seconds since the previous lap
    local now=$EPOCHREALTIME line
    line=$(awk -v n="$1" -v a="$t0" -v b="$now" 'BEGIN { printf "%-10s %7.2f s", n, b - a }')
    TIMES+=("$line")
    log "time $line"
    t0=$now
}
print_times() {
    local l
    for l in "${TIMES[@]}"; do printf '  %s\n' "$l"; done
    awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "  %-10s %7.2f s\n", "total", b - a }'
}

# ------------------------------------------------------------------------- ports
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# pick_ports K: unless the caller chose them, export the first base of 6817, 16817, 26817 whose
# ports base (slurmctld) and base+1 .. base+K (slurmd; K = 1 for a single node) are all free,
# as SLURM_LOCAL_CTLD_PORT and SLURM_LOCAL_SLURMD_PORT.
pick_ports() {
    local k=$1 base p free
    [[ -z ${SLURM_LOCAL_CTLD_PORT:-} && -z ${SLURM_LOCAL_SLURMD_PORT:-} ]] || return 0
    for base in 6817 16817 26817; do
        free=1
        for ((p = base; p <= base + k; p++)); do
            port_busy "$p" && free=0
        done
        if ((free)); then
            export SLURM_LOCAL_CTLD_PORT=$base SLURM_LOCAL_SLURMD_PORT=$((base + 1))
            return 0
        fi
        log "ports $base-$((base + k)) in use (another local cluster?); trying the next ones"
    done
}

# ------------------------------------------------------------ output comparison
list_parts() {
    (cd "$1" && find . -mindepth 2 -path './[._]*' -prune -o -type f -name '*.parquet' \
        -not -name '.*' -printf '%P\n' | sort)
}

# status_rc: exit code of `datapact status DIR_SLURM` (output shown).
status_rc() {
    local rc=0
    "$BIN" status "$DIR_SLURM" >"$LOGS/status.log" 2>&1 || rc=$?
    sed 's/^/  status: /' "$LOGS/status.log" >&2
    return "$rc"
}

# compare_outputs LABEL: DIR_SLURM equals DIR_LOCAL: `datapact status` exits 0; the same part
# files, each pair byte-identical (cmp); no temporary files left; `datapact verify` passes;
# the manifests are equal but for "shards" (1 vs SHARDS); the shard records cover every chunk
# once (check_manifests.py). Sets NPARTS and NDIFF (part files that differ or are missing).
compare_outputs() {
    local label=$1 st_rc=0 mc_rc=0 p t stray line
    NDIFF=0
    status_rc || st_rc=$?
    ((st_rc == 0)) || fail "$label: datapact status $DIR_SLURM exited $st_rc"

    # Part files: the same set of paths in both trees (all tables, i.e. all top-level
    # directories not starting with _ or .), each pair byte-identical.
    list_parts "$DIR_LOCAL" >"$LOGS/parts-local.txt"
    list_parts "$DIR_SLURM" >"$LOGS/parts-slurm.txt"
    NPARTS=$(wc -l <"$LOGS/parts-local.txt")
    for t in $TABLES; do
        grep -q "^$t/part-[0-9]*\.parquet\$" "$LOGS/parts-local.txt" || fail "local run has no $t part files"
    done
    if ! diff -u "$LOGS/parts-local.txt" "$LOGS/parts-slurm.txt" >"$LOGS/parts.diff"; then
        fail "$label: part file sets differ (-local only, +slurm only):" \
            "$(grep -E '^[+-][^+-]' "$LOGS/parts.diff" | tr '\n' ' ')"
        NDIFF=$((NDIFF + $(grep -cE '^[+-][^+-]' "$LOGS/parts.diff")))
    fi
    while read -r p; do
        [[ -f $DIR_SLURM/$p ]] || continue # reported by the set comparison above
        if ! cmp -s "$DIR_LOCAL/$p" "$DIR_SLURM/$p"; then
            fail "$label: part file differs: $p ($(cmp "$DIR_LOCAL/$p" "$DIR_SLURM/$p" 2>&1 | head -n1))"
            NDIFF=$((NDIFF + 1))
        fi
    done <"$LOGS/parts-local.txt"
    log "$label: compared $NPARTS part files with cmp: $NDIFF differ or are missing"
    stray=$(cd "$DIR_SLURM" && find . -name '.*' -not -name . | head -n 5)
    [[ -z $stray ]] || fail "$label: temporary files left in $DIR_SLURM: $stray"

    # Every part's hash and row count as the manifest records, no unlisted part.
    if ! "$BIN" verify "$DIR_SLURM" >"$LOGS/verify-slurm.log" 2>&1; then
        sed 's/^/  verify: /' "$LOGS/verify-slurm.log" >&2
        fail "$label: datapact verify $DIR_SLURM failed"
    fi

    # Manifests (equal except "shards"), shard records.
    python3 "$SLURM_TESTS/check_manifests.py" "$DIR_LOCAL" "$DIR_SLURM" "$SHARDS" \
        >"$LOGS/manifest-check.log" 2>&1 || mc_rc=$?
    sed 's/^/  /' "$LOGS/manifest-check.log" >&2
    if ((mc_rc != 0)); then
        while read -r line; do
            [[ $line == PROBLEM:* ]] && fail "$label: ${line#PROBLEM: }"
        done <"$LOGS/manifest-check.log"
        grep -q '^PROBLEM:' "$LOGS/manifest-check.log" || fail "$label: manifest check crashed (rc $mc_rc)"
    fi
}
