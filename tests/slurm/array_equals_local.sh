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
# shellcheck disable=SC2119 # lib.sh's functions take optional arguments, not the script's
set -uo pipefail

PROG=array_equals_local
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
JOB_TIMEOUT=${SLURM_IT_JOB_TIMEOUT:-300}
SHARDS=4
MIN_CHUNKS=3

# shellcheck source=tests/slurm/lib.sh
. "$here/lib.sh"
TABLES="cells diagnostics rounds"
sbatch_script=$repo/tools/slurm/datapact-array.sbatch

# ------------------------------------------------------------------ skip / setup
preflight
make_work slurm-it

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
start_cluster

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
run_local
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
