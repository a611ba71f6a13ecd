#!/usr/bin/env bash
# Integration test on a REAL Slurm of three nodes on one machine, one of which dies in the
# middle of a job array: the tasks it ran are requeued and finish on the other nodes, and the
# union of the shards is byte-identical to a single-machine run.
#
#   tests/slurm/multinode.sh
#
# Steps:
#   1. tools/slurm/cluster.sh check/install/start --nodes 3: nodes n1, n2, n3, each a slurmd
#      in its own network namespace (own address, own hostname) and its own PID namespace,
#      one CPU each, SlurmdTimeout 10 s; munged and slurmctld; the output directory is a
#      directory of this machine, which every node sees (see tools/slurm/cluster.sh).
#   2. A scenario of 24 chunks, run locally into DIR_LOCAL (the reference).
#   3. `datapact submit SCENARIO --shards 6` (an array of 6 tasks with --requeue, then a
#      `report` job that waits for it with afterok), into DIR_SLURM.
#   4. As soon as a running task has finished at least one of its chunks and works on the
#      next one, its node is killed whole (`cluster.sh kill-node`: the link cut, the node's
#      PID namespace SIGKILLed, slurmd, slurmstepd and datapact with it). The chunk in
#      flight is left as a hidden temporary file.
#   5. Wait for the array and the report job. Checks: >= 2 distinct nodes ran tasks (the task
#      logs' `on HOST` lines); slurmctld declared the node DOWN and requeued its task(s); each
#      requeued task ran again (attempt 1) on another node, kept exactly the chunks its first
#      attempt had finished and recomputed the rest, the partial one included (never
#      adopted: its temporary is gone, its parts were written after the kill); every task
#      and the report job ended COMPLETED, exit 0; `datapact status` exits 0; every part
#      file is byte-identical to the local run's (cmp), the manifests equal but for
#      "shards", `datapact verify` passes; the report is on disk.
#
# The last line is exactly
#   multinode: nodes used N, node killed NAME, tasks requeued K, outputs identical yes|no
# Exit: 0 PASS (N >= 2, K >= 1, identical, and every other check passed), 1 FAIL (logs
# printed), 77 SKIP (this machine cannot run Slurm or namespaces).
#
# Environment (all optional):
#   DATAPACT_BIN            datapact binary (default: target/release/datapact of this
#                           checkout; copied into the temp dir first)
#   SLURM_IT_KEEP=1         keep the temp dir (default: removed on PASS, kept on FAIL)
#   SLURM_IT_TMPDIR         parent of the temp dir (default: $TMPDIR or /tmp)
#   MULTINODE_DEADLINE      seconds the whole test may take before it gives up and tears the
#                           cluster down (default 540; CI kills it at 600)
#   SLURM_LOCAL_NODE_MODE   netns (default where it works) or multi (multiple-slurmd mode)
# shellcheck disable=SC2317 # cleanup & co. are called from traps
set -uo pipefail

PROG=multinode
NODES=3
SHARDS=6
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
DEADLINE=$((SECONDS + ${MULTINODE_DEADLINE:-540}))

# shellcheck source=tests/slurm/lib.sh
. "$here/lib.sh"
TABLES="cells diagnostics contrasts"

# What the last line reports.
NODES_USED=0
KILLED=none
REQUEUED=0
IDENTICAL=no

summary_line() {
    echo "multinode: nodes used $NODES_USED, node killed $KILLED, tasks requeued $REQUEUED," \
        "outputs identical $IDENTICAL"
}

# ------------------------------------------------------------------ skip / setup
trap summary_line EXIT # until the cleanup trap below takes over
preflight --nodes "$NODES"
make_work multinode

JOBID=
REPORT_JOBID=
CLUSTER_STARTED=0
RESULT=FAIL
FAILS=()
fail() { FAILS+=("$*"); log "FAIL: $*"; }

print_logs() {
    local f
    for f in "$DIR_SLURM"/_slurm/*.out "$LOGS"/*.log; do
        [[ -e $f ]] || continue
        printf '==> %s <==\n' "$f"
        tail -n 40 "$f"
    done
    if [[ -s $STATE/slurmctld.log ]]; then
        printf '==> %s (requeues, node failures, job ends) <==\n' "$STATE/slurmctld.log"
        grep -E 'requeue|Requeu|not responding|DOWN|_job_complete|error' "$STATE/slurmctld.log" | tail -n 40
    fi
}

cleanup() {
    local rc=$? stop_rc=0 j
    trap - EXIT INT TERM
    t0=$EPOCHREALTIME
    if ((CLUSTER_STARTED)); then
        # A job still queued or running (timeout, interrupt) must not outlive the daemons.
        for j in $JOBID $REPORT_JOBID; do
            if [[ -n $(timeout 10 squeue -h -j "$j" 2>/dev/null) ]]; then
                log "cancelling job $j"
                timeout 10 scancel "$j" || true
            fi
        done
        "$cluster" stop "$STATE" || stop_rc=$?
        if ((stop_rc != 0)); then
            fail "cluster.sh stop failed (rc $stop_rc); PID files or namespaces left in $STATE"
            rc=1
        fi
        lap stop
    fi
    ((${#FAILS[@]} == 0)) || RESULT=FAIL
    if [[ $RESULT != PASS ]]; then
        ((rc == 0)) && rc=1
        echo "---------------------------------------------------------------- logs"
        print_logs
    fi
    echo "---------------------------------------------------------------- timings"
    print_times
    if [[ $RESULT == PASS && $rc -eq 0 ]]; then
        echo "PASS: $PROG: $SHARDS tasks on $NODES nodes, node $KILLED killed mid-array," \
            "$REQUEUED task(s) requeued and finished elsewhere, $NPARTS part files byte-identical"
        if [[ ${SLURM_IT_KEEP:-0} == 1 ]]; then echo "  kept $WORK"; else rm -rf "$WORK"; fi
    else
        echo "FAIL: $PROG (${#FAILS[@]} problem(s)); files kept in $WORK"
        local f
        for f in "${FAILS[@]}"; do echo "  - $f"; done
    fi
    summary_line
    exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------ 1. install + start
start_cluster --nodes "$NODES"
sinfo -N -o '%N %T %c %o' | sed 's/^/  /' >&2

# ---------------------------------------------------------- 2. scenario + local run
# 144 cells in chunks of 6: 24 chunks, 4 per shard of 6. 60 000 replications x 3 mechanisms
# x 20 users make a chunk last about half a second on one idle core (a release build; the
# whole run about 11 CPU-seconds): long enough to kill a node in the middle of a task's second
# or third chunk (the test looks every 0.2 s).
cat >"$SCENARIO" <<'EOF'
# datapact multi-node Slurm test (tests/slurm/multinode.sh)
mechanisms = ["C", "S", "M"]

[scenario]
name = "multinode"
seed = 11
replications = 60000

[population]
users = 20

[sweep]
game.value = { from = 0.0, to = 0.3, steps = 12 }
game.payment = { from = 0.0, to = 0.3, steps = 12 }

[output]
trace = "cells"
chunk_cells = 6
EOF
run_local --threads 2
CHUNK_CELLS=6
((NCHUNKS == 4 * SHARDS)) || { fail "scenario has $NCHUNKS chunks, expected $((4 * SHARDS))"; exit 1; }

# ------------------------------------------------------------------ 3. submit
"$BIN" submit "$SCENARIO" --shards "$SHARDS" --out "$DIR_SLURM" -- --time=30 \
    >"$LOGS/submit.log" 2>&1 || {
    cat "$LOGS/submit.log" >&2
    fail "datapact submit failed"
    exit 1
}
sed 's/^/  submit: /' "$LOGS/submit.log" >&2
JOBID=$(awk '$1 == "array" && $2 == "job" { print $3 }' "$LOGS/submit.log")
REPORT_JOBID=$(awk '$1 == "report" && $2 == "job" { print $3 }' "$LOGS/submit.log")
[[ $JOBID =~ ^[0-9]+$ && $REPORT_JOBID =~ ^[0-9]+$ ]] ||
    { fail "no job ids in the output of datapact submit"; exit 1; }
grep -q "datapact status $DIR_SLURM" "$LOGS/submit.log" || fail "datapact submit did not print the progress command"
lap submit

# ------------------------------------------------------- 4. kill a node mid-array
owned() { # owned SHARD: the chunks shard SHARD of SHARDS computes
    local c
    for ((c = $1; c < NCHUNKS; c += SHARDS)); do echo "$c"; done
}
part() { printf 'part-%06d' "$1"; }
recorded() { [[ -f $DIR_SLURM/_chunks/$(part "$1").json ]]; }
in_flight() { [[ -e $DIR_SLURM/cells/.$(part "$1").parquet.tmp ]]; }

# pick_victim: "TASK NODE" of a running task that has finished >= 1 of its chunks, has >= 2
# still to do, and has a chunk in flight.
pick_victim() {
    local task node c done_n total flying
    while read -r task node; do
        [[ $task =~ ^[0-9]+$ && -n $node ]] || continue
        done_n=0 total=0 flying=0
        for c in $(owned "$task"); do
            total=$((total + 1))
            recorded "$c" && done_n=$((done_n + 1))
            in_flight "$c" && flying=1
        done
        if ((done_n >= 1 && done_n <= total - 2 && flying)); then
            echo "$task $node"
            return 0
        fi
    done < <(timeout 10 squeue -h -j "$JOBID" -t R -o '%K %N' 2>/dev/null)
    return 1
}

victim=
while ((SECONDS < DEADLINE - 120)); do
    if victim=$(pick_victim); then break; fi
    [[ -n $(timeout 10 squeue -h -j "$JOBID" 2>/dev/null) ]] || break
    sleep 0.2
done
[[ -n $victim ]] || { fail "no running task was found between two of its chunks to kill its node"; exit 1; }
read -r VICTIM_TASK KILLED <<<"$victim"
kill_epoch=$(date +%s)
"$cluster" kill-node "$STATE" "$KILLED" >"$LOGS/kill.log" 2>&1 || {
    cat "$LOGS/kill.log" >&2
    fail "cluster.sh kill-node $KILLED failed"
    exit 1
}
sed 's/^/  /' "$LOGS/kill.log" >&2
if ! grep -q 'datapact' "$LOGS/kill.log" || ! grep -q 'slurmstepd' "$LOGS/kill.log"; then
    fail "killing node $KILLED did not kill its slurmstepd and datapact: $(tail -n1 "$LOGS/kill.log")"
fi

# The node is dead: what it left of its tasks' shards cannot change any more.
declare -A KEPT_EXPECTED=() PARTIAL=()
victim_tasks=$(awk -v n="$KILLED" '$2 == n { print $1 }' < <(timeout 10 squeue -h -j "$JOBID" -t R -o '%K %N'))
[[ -n $victim_tasks ]] || victim_tasks=$VICTIM_TASK
for t in $victim_tasks; do
    kept=0
    for c in $(owned "$t"); do
        if recorded "$c"; then
            kept=$((kept + 1))
        elif in_flight "$c"; then
            PARTIAL[$c]=$t
        fi
    done
    KEPT_EXPECTED[$t]=$kept
    log "task $t on $KILLED: $kept chunk(s) recorded before the kill"
done
((${#PARTIAL[@]} >= 1)) || fail "the killed node left no partial chunk (nothing to check adoption of)"
log "partial chunk(s) left by the kill: ${!PARTIAL[*]}"
"$BIN" status "$DIR_SLURM" >"$LOGS/status-after-kill.log" 2>&1 || true
sed 's/^/  status: /' "$LOGS/status-after-kill.log" >&2
lap kill

# --------------------------------------------------------- 5. wait for the jobs
while ((SECONDS < DEADLINE - 20)); do
    [[ -z $(timeout 10 squeue -h -j "$JOBID,$REPORT_JOBID" 2>/dev/null) ]] && break
    sleep 1
done
if [[ -n $(timeout 10 squeue -h -j "$JOBID,$REPORT_JOBID" 2>/dev/null) ]]; then
    fail "jobs $JOBID/$REPORT_JOBID still queued or running at the deadline:" \
        "$(squeue -h -j "$JOBID,$REPORT_JOBID" -o '%i %T %r' | tr '\n' ' ')"
    exit 1
fi
lap array

# ------------------------------------------------------------------ 6. checks
# Slurm's view: one record per task (MinJobAge keeps them), with its requeues and end state.
timeout 10 scontrol -o show job "$JOBID" >"$LOGS/scontrol-array.log" 2>&1 || fail "scontrol show job $JOBID failed"
timeout 10 scontrol -o show job "$REPORT_JOBID" >"$LOGS/scontrol-report.log" 2>&1 || fail "scontrol show job $REPORT_JOBID failed"
field() { grep -o "\\b$1=[^ ]*" | head -n1 | cut -d= -f2-; }
ctl_requeued=0
while read -r line; do
    task=$(field ArrayTaskId <<<"$line")
    state=$(field JobState <<<"$line")
    code=$(field ExitCode <<<"$line")
    restarts=$(field Restarts <<<"$line")
    host=$(field BatchHost <<<"$line")
    [[ $state == COMPLETED && $code == 0:0 ]] || fail "task $task ended $state, exit $code"
    if ((restarts > 0)); then
        ctl_requeued=$((ctl_requeued + 1))
        [[ $host != "$KILLED" ]] || fail "task $task was requeued but ran again on the killed node"
    fi
done <"$LOGS/scontrol-array.log"
line=$(<"$LOGS/scontrol-report.log")
[[ $(field JobState <<<"$line") == COMPLETED && $(field ExitCode <<<"$line") == 0:0 ]] ||
    fail "report job $REPORT_JOBID ended $(field JobState <<<"$line"), exit $(field ExitCode <<<"$line")"
grep -q "requeue job JobId=${JOBID}_[0-9]*([0-9]*) due to failure of node $KILLED" "$STATE/slurmctld.log" ||
    fail "slurmctld.log does not say it requeued a task because node $KILLED failed"
[[ $(sinfo -h -n "$KILLED" -o %T) == down* ]] || fail "node $KILLED is not DOWN: $(sinfo -h -n "$KILLED" -o %T)"

# The tasks' own view: header lines `... task I of N on HOST, cpus C, attempt R`, and the
# summary `multinode: X cells computed, Y chunks kept, shard I/N, ...` of each attempt.
cat "$DIR_SLURM"/_slurm/datapact-"$JOBID"_*.out >"$LOGS/task-logs.txt" 2>/dev/null
NODES_USED=$(grep -o 'datapact-array: job .* on [^,]*' "$LOGS/task-logs.txt" | awk '{ print $NF }' | sort -u | wc -l)
log "nodes that ran tasks: $(grep -o 'datapact-array: job .* on [^,]*' "$LOGS/task-logs.txt" | awk '{ print $NF }' | sort -u | tr '\n' ' ')"
REQUEUED=0
for t in $victim_tasks; do
    f=$DIR_SLURM/_slurm/datapact-${JOBID}_$t.out
    second=$(grep -n 'attempt [1-9]' "$f" | head -n1)
    if [[ -z $second ]]; then
        fail "task $t: no second attempt in $f"
        continue
    fi
    REQUEUED=$((REQUEUED + 1))
    host=$(sed -n 's/.* on \([^,]*\),.*/\1/p' <<<"$second")
    [[ $host != "$KILLED" ]] || fail "task $t ran its second attempt on the killed node"
    # The second attempt's summary (after its header line).
    sum=$(tail -n +"${second%%:*}" "$f" | grep -m1 'cells computed')
    kept=$(sed -n 's/.* \([0-9]*\) chunks kept.*/\1/p' <<<"$sum")
    cells=$(sed -n 's/.*: \([0-9]*\) cells computed.*/\1/p' <<<"$sum")
    # A chunk recorded before the kill is kept; every other one (the partial one too) is
    # computed again. Every chunk has CHUNK_CELLS cells (144 = 24 x 6).
    want_cells=$((($(owned "$t" | wc -l) - KEPT_EXPECTED[$t]) * CHUNK_CELLS))
    if [[ $kept != "${KEPT_EXPECTED[$t]}" || $cells != "$want_cells" ]]; then
        fail "task $t, second attempt on $host: '$sum'; expected ${KEPT_EXPECTED[$t]} chunks kept and $want_cells cells computed"
    else
        log "task $t, second attempt on $host: kept the ${KEPT_EXPECTED[$t]} chunk(s) finished before the kill, computed $want_cells cells"
    fi
done
((ctl_requeued == REQUEUED)) || fail "scontrol counts $ctl_requeued requeued task(s), the task logs $REQUEUED"

# The partial chunk(s): the temporary is gone and every part of the chunk was written after
# the kill (by the second attempt; nothing of the first was adopted).
for c in "${!PARTIAL[@]}"; do
    for t in $TABLES; do
        p=$DIR_SLURM/$t/$(part "$c").parquet
        [[ ! -e $DIR_SLURM/$t/.$(part "$c").parquet.tmp ]] || fail "$t/.$(part "$c").parquet.tmp is still there"
        if [[ ! -f $p ]]; then
            fail "$t/$(part "$c").parquet missing"
        elif (($(stat -c %Y "$p") < kill_epoch)); then
            fail "$t/$(part "$c").parquet is older than the kill"
        fi
    done
done

compare_outputs multinode
((NDIFF == 0 && NPARTS > 0)) && IDENTICAL=yes
[[ -s $DIR_SLURM/report/REPORT.md ]] || fail "the report job wrote no $DIR_SLURM/report/REPORT.md"
lap checks

((NODES_USED >= 2)) || fail "only $NODES_USED node(s) ran tasks"
((REQUEUED >= 1)) || fail "no task was requeued"
((${#FAILS[@]} == 0)) && RESULT=PASS
exit 0 # cleanup (EXIT trap) stops the cluster and prints the summary
