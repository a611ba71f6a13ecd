#!/usr/bin/env bash
# Integration test on a REAL Slurm (single node, localhost): a datapact job array of 4
# shards must produce exactly the dataset of a single-machine run, file for file, byte
# for byte.
#
#   tests/slurm/array_equals_local.sh
#
# Steps:
#   1. tools/slurm/cluster.sh check (exit 77 = SKIP) / install (idempotent) / start in a
#      temp state dir (munged, slurmctld, slurmd; stopped again on exit, by PID).
#   2. Write a small scenario (>= 3 chunks), `datapact validate` it, run it locally
#      into DIR_LOCAL.
#   3. sbatch --array=0-3 --wait tools/slurm/datapact-array.sbatch into DIR_SLURM.
#      Check: `datapact status DIR_SLURM` exits 0; every part file in DIR_LOCAL has a
#      byte-identical twin in DIR_SLURM and vice versa (cmp); the manifests are equal
#      except "shards" (1 vs 4); `datapact verify` passes on both (hashes and row
#      counts match the manifest, no unlisted part); the shard records
#      cover every chunk once (shard i has chunks i, i+4, ...); no temporary (dot)
#      files are left.
#   4. Delete shard 2's parts, record and the manifest (status must then fail), and
#      re-run that one task as `sbatch --array=2`: without DATAPACT_SHARDS the sbatch
#      script must refuse it (Slurm would say the array has 1 task), with
#      DATAPACT_SHARDS=4 it must restore exactly the same dataset (checks of 3 again).
#
# Exit: 0 PASS, 1 FAIL (job logs printed), 77 SKIP (this machine cannot run Slurm).
#
# Environment (all optional):
#   DATAPACT_BIN        datapact binary (default: target/release/datapact of this checkout;
#                       it is copied into the temp dir so a concurrent rebuild cannot
#                       change it between the local and the Slurm run)
#   SLURM_IT_KEEP=1     keep the temp dir (default: removed on PASS, kept on FAIL)
#   SLURM_IT_TMPDIR     parent of the temp dir (default: $TMPDIR or /tmp)
#   SLURM_IT_JOB_TIMEOUT  seconds to wait for the array (default 300)
#   SLURM_LOCAL_CTLD_PORT / SLURM_LOCAL_SLURMD_PORT  ports; by default the first free
#                       pair of 6817/6818, 16817/16818, 26817/26818 is used
# shellcheck disable=SC2317 # cleanup & co. are called from traps
set -uo pipefail

PROG=array_equals_local
SKIP=77
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
cluster=$repo/tools/slurm/cluster.sh
sbatch_script=$repo/tools/slurm/datapact-array.sbatch
JOB_TIMEOUT=${SLURM_IT_JOB_TIMEOUT:-300}
SHARDS=4
MIN_CHUNKS=3

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

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

# ------------------------------------------------------------------ skip / setup
rc=0
why=$("$cluster" check 2>&1) || rc=$?
why=$(printf '%s' "$why" | sed 's/^cluster\.sh: //' | tr '\n' ' ')
if ((rc == SKIP)); then
    echo "SKIP: $PROG: ${why:-this machine cannot run a local Slurm}"
    exit "$SKIP"
elif ((rc != 0)); then
    echo "FAIL: $PROG: cluster.sh check failed (rc $rc): $why"
    exit 1
fi
log "check: $why"

src_bin=${DATAPACT_BIN:-$repo/target/release/datapact}
if [[ ! -x $src_bin ]]; then
    echo "FAIL: $PROG: datapact binary not found at $src_bin" \
        "(build it: cargo build --release -p datapact, or set DATAPACT_BIN)"
    exit 1
fi

WORK=$(mktemp -d "${SLURM_IT_TMPDIR:-${TMPDIR:-/tmp}}/datapact-slurm-it.XXXXXX") || exit 1
WORK=$(cd "$WORK" && pwd -P)
STATE=$WORK/slurm-state
DIR_LOCAL=$WORK/out-local
DIR_SLURM=$WORK/out-slurm
LOGS=$WORK/logs
SCENARIO=$WORK/slurm-it.toml
BIN=$WORK/datapact
mkdir -p "$STATE" "$LOGS"
cp "$src_bin" "$BIN" || exit 1
log "work dir $WORK; binary $src_bin ($("$BIN" --version 2>/dev/null || echo '?'))"

JOBID=
JOBIDS=()
CLUSTER_STARTED=0
RESULT=FAIL
FAILS=()
fail() { FAILS+=("$*"); log "FAIL: $*"; }

print_job_logs() {
    local f found=0
    for f in "$LOGS"/*.out; do
        [[ -e $f ]] || continue
        found=1
        printf '==> %s <==\n' "$f"
        cat "$f"
    done
    ((found)) || echo "(no job output files in $LOGS)"
    local j
    for j in "${JOBIDS[@]}"; do
        [[ -s $STATE/slurmctld.log ]] || break
        printf '==> %s (lines about job %s) <==\n' "$STATE/slurmctld.log" "$j"
        grep -E "JobId=${j}([^0-9]|\$)" "$STATE/slurmctld.log" | tail -n 40 || true
    done
}

cleanup() {
    local rc=$? stop_rc=0
    trap - EXIT INT TERM
    t0=$EPOCHREALTIME
    if ((CLUSTER_STARTED)); then
        # A job still queued or running (timeout, interrupt) must not outlive the daemons.
        if [[ -n $JOBID ]] && [[ -n $(timeout 10 squeue -h -j "$JOBID" 2>/dev/null) ]]; then
            log "cancelling job $JOBID"
            timeout 10 scancel "$JOBID" || true
            for _ in $(seq 1 100); do
                [[ -z $(timeout 10 squeue -h -j "$JOBID" 2>/dev/null) ]] && break
                sleep 0.1
            done
        fi
        "$cluster" stop "$STATE" || stop_rc=$?
        if ((stop_rc != 0)); then
            fail "cluster.sh stop failed (rc $stop_rc); PID files left in $STATE"
            rc=1
        fi
        lap stop
    fi
    if [[ $RESULT != PASS ]]; then
        ((rc == 0)) && rc=1
        echo "---------------------------------------------------------------- job logs"
        print_job_logs
    fi
    echo "---------------------------------------------------------------- timings"
    print_times
    if [[ $RESULT == PASS && $rc -eq 0 ]]; then
        echo "PASS: $PROG: $SHARDS Slurm array tasks == local run ($NCHUNKS chunks," \
            "$NPARTS part files byte-identical), also after re-running shard 2 alone"
        if [[ ${SLURM_IT_KEEP:-0} == 1 ]]; then echo "  kept $WORK"; else rm -rf "$WORK"; fi
    else
        echo "FAIL: $PROG (${#FAILS[@]} problem(s)); files kept in $WORK"
        local f
        for f in "${FAILS[@]}"; do echo "  - $f"; done
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------ 1. install + start
"$cluster" install || { fail "cluster.sh install failed"; exit 1; }
lap install

port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
if [[ -z ${SLURM_LOCAL_CTLD_PORT:-} && -z ${SLURM_LOCAL_SLURMD_PORT:-} ]]; then
    for base in 6817 16817 26817; do
        if ! port_busy "$base" && ! port_busy $((base + 1)); then
            export SLURM_LOCAL_CTLD_PORT=$base SLURM_LOCAL_SLURMD_PORT=$((base + 1))
            break
        fi
        log "ports $base/$((base + 1)) in use (another local cluster?); trying the next pair"
    done
fi

CLUSTER_STARTED=1 # cluster.sh stop is a no-op for daemons it did not start
env_line=$("$cluster" start "$STATE") || { fail "cluster.sh start failed"; exit 1; }
eval "$env_line"
[[ -n ${SLURM_CONF:-} && -f $SLURM_CONF ]] || { fail "cluster.sh start did not give SLURM_CONF"; exit 1; }
lap start

# ---------------------------------------------------------- 2. scenario + local run
# 144 cells x 5000 replications x 3 mechanisms x 20 users = 43.2e6 user-campaigns; at
# ~1e7 per chunk that is 5 chunks (33 cells each, the last 12), so with 4 shards task 0
# computes chunks 0 and 4, and the last chunk is a short one.
cat >"$SCENARIO" <<'EOF'
# datapact Slurm integration test (tests/slurm/array_equals_local.sh)
mechanisms = ["C", "S", "M"]

[scenario]
name = "slurm-it"
seed = 7
replications = 5000

[population]
users = 20

[sweep]
game.value = { from = 0.0, to = 0.3, steps = 12 }
game.payment = { from = 0.0, to = 0.3, steps = 12 }

[output]
trace = "rounds"
EOF
"$BIN" validate "$SCENARIO" >&2 || { fail "datapact validate rejected the scenario"; exit 1; }

"$BIN" run "$SCENARIO" --out "$DIR_LOCAL" -q >"$LOGS/local-run.log" 2>&1 || {
    cat "$LOGS/local-run.log" >&2
    fail "local run failed"
    exit 1
}
# Hashes and row counts of every part against the manifest; the local tree never changes, so
# it is verified once (the Slurm tree after every comparison).
"$BIN" verify "$DIR_LOCAL" >"$LOGS/verify-local.log" 2>&1 || {
    cat "$LOGS/verify-local.log" >&2
    fail "datapact verify $DIR_LOCAL failed"
    exit 1
}
lap local
NCHUNKS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chunks"])' \
    "$DIR_LOCAL/manifest.json") || { fail "cannot read chunks from $DIR_LOCAL/manifest.json"; exit 1; }
log "local run: $NCHUNKS chunks"
if ((NCHUNKS < MIN_CHUNKS)); then
    fail "scenario has only $NCHUNKS chunks (< $MIN_CHUNKS); raise replications or grid size"
    exit 1
fi

# ------------------------------------------------------------------ Slurm helpers
export DATAPACT_BIN=$BIN DATAPACT_SCENARIO=$SCENARIO DATAPACT_OUT=$DIR_SLURM DATAPACT_ARGS=-q

# submit NAME ARRAY: sbatch --wait the array job from $LOGS (so the job logs,
# %x-%A_%a.out, land there); sets JOBID and SB_RC, records the job in JOBIDS.
submit() {
    local name=$1 array=$2
    SB_RC=0
    (cd "$LOGS" && timeout "$JOB_TIMEOUT" sbatch --parsable --wait --array="$array" \
        --export=ALL "$sbatch_script" >"$LOGS/sbatch-$name.stdout" 2>"$LOGS/sbatch-$name.stderr") || SB_RC=$?
    JOBID=$(head -n1 "$LOGS/sbatch-$name.stdout" 2>/dev/null | cut -d';' -f1)
    if ! [[ $JOBID =~ ^[0-9]+$ ]]; then
        fail "$name: no job id from sbatch (stdout: $(cat "$LOGS/sbatch-$name.stdout" 2>/dev/null)," \
            "stderr: $(cat "$LOGS/sbatch-$name.stderr" 2>/dev/null))"
        JOBID=
        return
    fi
    JOBIDS+=("$JOBID")
    ((SB_RC == 124)) && fail "$name: sbatch --wait timed out after ${JOB_TIMEOUT}s (job $JOBID)"
    log "$name: job $JOBID --array=$array finished, sbatch exit $SB_RC"
}

# nlogs JOBID: number of job output files of that job.
nlogs() { find "$LOGS" -maxdepth 1 -name "datapact-${1}_*.out" | wc -l; }

# status_rc: exit code of `datapact status DIR_SLURM` (output shown).
status_rc() {
    local rc=0
    "$BIN" status "$DIR_SLURM" >"$LOGS/status.log" 2>&1 || rc=$?
    sed 's/^/  status: /' "$LOGS/status.log" >&2
    return "$rc"
}

# compare_outputs LABEL: DIR_SLURM equals DIR_LOCAL (status, part files, manifests).
compare_outputs() {
    local label=$1 st_rc=0 mc_rc=0 ndiff=0 p t stray line
    status_rc || st_rc=$?
    ((st_rc == 0)) || fail "$label: datapact status $DIR_SLURM exited $st_rc"

    # Part files: the same set of paths in both trees (all tables, i.e. all top-level
    # directories not starting with _ or .), each pair byte-identical.
    list_parts "$DIR_LOCAL" >"$LOGS/parts-local.txt"
    list_parts "$DIR_SLURM" >"$LOGS/parts-slurm.txt"
    NPARTS=$(wc -l <"$LOGS/parts-local.txt")
    for t in cells diagnostics rounds; do
        grep -q "^$t/part-[0-9]*\.parquet\$" "$LOGS/parts-local.txt" || fail "local run has no $t part files"
    done
    if ! diff -u "$LOGS/parts-local.txt" "$LOGS/parts-slurm.txt" >"$LOGS/parts.diff"; then
        fail "$label: part file sets differ (-local only, +slurm only):" \
            "$(grep -E '^[+-][^+-]' "$LOGS/parts.diff" | tr '\n' ' ')"
    fi
    while read -r p; do
        [[ -f $DIR_SLURM/$p ]] || continue # reported by the set comparison above
        if ! cmp -s "$DIR_LOCAL/$p" "$DIR_SLURM/$p"; then
            fail "$label: part file differs: $p ($(cmp "$DIR_LOCAL/$p" "$DIR_SLURM/$p" 2>&1 | head -n1))"
            ndiff=$((ndiff + 1))
        fi
    done <"$LOGS/parts-local.txt"
    log "$label: compared $NPARTS part files with cmp: $ndiff differ"
    stray=$(cd "$DIR_SLURM" && find . -name '.*' -not -name . | head -n 5)
    [[ -z $stray ]] || fail "$label: temporary files left in $DIR_SLURM: $stray"

    # Every part's hash and row count as the manifest records, no unlisted part.
    if ! "$BIN" verify "$DIR_SLURM" >"$LOGS/verify-slurm.log" 2>&1; then
        sed 's/^/  verify: /' "$LOGS/verify-slurm.log" >&2
        fail "$label: datapact verify $DIR_SLURM failed"
    fi

    # Manifests (equal except "shards"), shard records.
    python3 "$WORK/check_manifests.py" "$DIR_LOCAL" "$DIR_SLURM" "$SHARDS" \
        >"$LOGS/manifest-check.log" 2>&1 || mc_rc=$?
    sed 's/^/  /' "$LOGS/manifest-check.log" >&2
    if ((mc_rc != 0)); then
        while read -r line; do
            [[ $line == PROBLEM:* ]] && fail "$label: ${line#PROBLEM: }"
        done <"$LOGS/manifest-check.log"
        grep -q '^PROBLEM:' "$LOGS/manifest-check.log" || fail "$label: manifest check crashed (rc $mc_rc)"
    fi
}
list_parts() {
    (cd "$1" && find . -mindepth 2 -path './[._]*' -prune -o -type f -name '*.parquet' \
        -not -name '.*' -printf '%P\n' | sort)
}

cat >"$WORK/check_manifests.py" <<'PY'
import json, os, sys

local, slurm, shards = sys.argv[1], sys.argv[2], int(sys.argv[3])
problems = []
def load(root, base):
    try:
        return json.load(open(os.path.join(base, "manifest.json")))
    except (OSError, ValueError) as e:
        problems.append(f"{root} manifest.json unreadable: {e}")
        return None

ml, ms = load("local", local), load("slurm", slurm)
if ml is None or ms is None:
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1)

# Fields allowed to differ, with the values they must have.
allowed = {"shards": (1, shards)}
for k in sorted(set(ml) | set(ms)):
    a, b = ml.get(k, "<missing>"), ms.get(k, "<missing>")
    if k in allowed:
        if (a, b) != allowed[k]:
            problems.append(f"manifest {k}: local {a!r}, slurm {b!r}, expected {allowed[k]!r}")
    elif a != b:
        problems.append(f"manifest field {k!r} differs: local {str(a)[:200]!r} vs slurm {str(b)[:200]!r}")

# Shard records: shard i of N computed exactly chunks i, i+N, ...
chunks = ms.get("chunks", 0)
rec_dir = os.path.join(slurm, "_shards")
names = sorted(os.listdir(rec_dir)) if os.path.isdir(rec_dir) else []
expect = [f"shard-{i:05d}-of-{shards:05d}.json" for i in range(shards)]
if names != expect:
    problems.append(f"shard records {names}, expected {expect}")
seen = []
for i, n in enumerate(expect):
    try:
        r = json.load(open(os.path.join(rec_dir, n)))
    except (OSError, ValueError) as e:
        problems.append(f"shard record {n}: {e}")
        continue
    want = list(range(i, chunks, shards))
    if (r.get("shard"), r.get("shards")) != (i, shards) or r.get("chunks") != want:
        problems.append(f"{n}: shard {r.get('shard')}/{r.get('shards')} chunks {r.get('chunks')}, "
                        f"expected {i}/{shards} chunks {want}")
    seen += r.get("chunks", [])
if sorted(seen) != list(range(chunks)):
    problems.append(f"shard records cover chunks {sorted(seen)}, expected 0..{chunks - 1}")

print(f"manifest: {chunks} chunks, {len(ms.get('parts', []))} parts, rows {ms.get('rows')}")
for p in problems:
    print("PROBLEM:", p)
sys.exit(1 if problems else 0)
PY

# ---------------------------------------------- 3. the array 0-3, compared to local
submit array "0-$((SHARDS - 1))"
lap slurm
((SB_RC == 0)) || fail "array: sbatch --wait exited $SB_RC (the highest task exit code; job ${JOBID:-?})"
if [[ -n $JOBID ]]; then
    n=$(nlogs "$JOBID")
    ((n == SHARDS)) || fail "array: expected $SHARDS job output files datapact-${JOBID}_*.out, found $n"
fi
compare_outputs array
lap compare

# ------------------------------ 4. re-run one lost shard of the 4 as a 1-task array
# Slurm gives `--array=2` SLURM_ARRAY_TASK_COUNT=1: datapact-array.sbatch must refuse it
# unless DATAPACT_SHARDS=4 says how many shards there are.
lost=2
rm -f "$DIR_SLURM"/*/part-"$(printf '%06d' "$lost")".parquet \
    "$DIR_SLURM/_shards/shard-$(printf '%05d' "$lost")-of-$(printf '%05d' "$SHARDS").json" \
    "$DIR_SLURM/manifest.json"
st=0
status_rc || st=$?
((st != 0)) || fail "rerun: datapact status exited 0 with shard $lost deleted"

submit rerun-unguarded "$lost"
((SB_RC == 2)) || fail "rerun-unguarded: --array=$lost without DATAPACT_SHARDS: sbatch exit $SB_RC, expected 2 (refused)"
if [[ -n $JOBID ]] && ! grep -q 'not 0-(N-1)' "$LOGS/datapact-${JOBID}_$lost.out" 2>/dev/null; then
    fail "rerun-unguarded: no refusal message in datapact-${JOBID}_$lost.out"
fi

export DATAPACT_SHARDS=$SHARDS
submit rerun "$lost"
unset DATAPACT_SHARDS
((SB_RC == 0)) || fail "rerun: sbatch --wait exited $SB_RC (job ${JOBID:-?})"
compare_outputs rerun
lap rerun

((${#FAILS[@]} == 0)) && RESULT=PASS
exit 0 # cleanup (EXIT trap) stops the daemons and prints the summary
