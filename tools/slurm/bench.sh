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
# leaving the queue (squeue polled every 0.1 s; the report job is not counted), and CPU
# seconds (user + system): the local run's from /usr/bin/time, the array's from the nodes'
# init processes, which reap every job's slurmstepd and so accumulate the CPU time of all
# the tasks (a figure other helpers' load disturbs far less than wall time does).
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

# local_run I: "WALL CPU" seconds of one local run.
local_run() {
    local out=$WORK/local-$1 t0 wall
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$WORK/time" \
        "$BIN" run "$SCENARIO" --set "$SET" --out "$out" --threads "$threads" -q >/dev/null
    wall=$(secs "$t0" "$(now)")
    echo "$wall $(awk '{ printf "%.2f", $1 + $2 }' "$WORK/time")"
    rm -rf "$out"
}

# nodes_cpu: CPU seconds of the jobs the nodes have finished (children's user + system time
# of each node's init, fields 16-17 of /proc/PID/stat).
nodes_cpu() {
    local f init ticks=0 t
    for f in "$STATE"/node-*.pid; do
        init=$(pgrep -P "$(<"$f")" | head -n 1)
        t=$(awk '{ print $16 + $17 }' "/proc/$init/stat")
        ticks=$((ticks + t))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# array_run I [SUBMIT ARGS]: "WALL CPU": seconds from submit until no task of the array is
# queued, and the CPU seconds of its tasks (read 1 s later, once their slurmstepds are reaped;
# the report job's is still running then, so not counted). Then waits for the report job,
# so that it does not overlap the next run.
array_run() {
    local out=$WORK/array-$1 t0 c0 said job report wall
    shift
    c0=$(nodes_cpu)
    t0=$(now)
    said=$("$BIN" submit "$SCENARIO" --set "$SET" --shards "$SHARDS" --out "$out" "$@")
    job=$(awk '$1 == "array" && $2 == "job" { print $3 }' <<<"$said")
    report=$(awk '$1 == "report" && $2 == "job" { print $3 }' <<<"$said")
    while [[ -n $(squeue -h -j "$job" 2>/dev/null) ]]; do sleep 0.1; done
    wall=$(secs "$t0" "$(now)")
    sleep 1
    echo "$wall $(secs "$c0" "$(nodes_cpu)")"
    while [[ -n $(squeue -h -j "$report" 2>/dev/null) ]]; do sleep 0.5; done
    "$BIN" status "$out" >/dev/null || echo "status of $out failed" >&2
    rm -rf "$out"
}

declare -a LW=() LC=() AW=() AC=() BW=() BC=()
for ((r = 1; r <= REPEATS; r++)); do
    read -r w c < <(local_run "$r")
    LW+=("$w") LC+=("$c")
    read -r w c < <(array_run "a$r")
    AW+=("$w") AC+=("$c")
    read -r w c < <(array_run "b$r" --max-running 2)
    BW+=("$w") BC+=("$c")
    echo "run $r: local ${LW[-1]} s (CPU ${LC[-1]} s); array of $SHARDS on 3 nodes ${AW[-1]} s" \
        "(CPU ${AC[-1]} s); same with --max-running 2 ${BW[-1]} s (CPU ${BC[-1]} s);" \
        "load $(cut -d' ' -f1 /proc/loadavg)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
lw=$(median "${LW[@]}") lc=$(median "${LC[@]}")
aw=$(median "${AW[@]}") ac=$(median "${AC[@]}")
bw=$(median "${BW[@]}") bc=$(median "${BC[@]}")
echo "median wall: local --threads $threads $lw s; array $aw s ($(ratio "$aw" "$lw"));" \
    "array --max-running 2 $bw s ($(ratio "$bw" "$lw"))"
echo "median CPU:  local $lc s; array $ac s ($(ratio "$ac" "$lc")); array --max-running 2 $bc s ($(ratio "$bc" "$lc"))"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
