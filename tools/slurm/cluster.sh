#!/usr/bin/env bash
# A Slurm "cluster" on one machine, for trying/testing datapact job arrays: one node on
# localhost, or K nodes, each in its own namespaces.
#
# Usage:
#   tools/slurm/cluster.sh check [--nodes K]  exit 0 if this machine can run it, 77 (skip) if not
#   tools/slurm/cluster.sh install            apt-get install slurm + munge (skipped if present)
#   tools/slurm/cluster.sh start STATE_DIR [--nodes K]
#                                             start munged, slurmctld, slurmd(s); wait until idle
#   tools/slurm/cluster.sh kill-node STATE_DIR NAME
#                                             crash node NAME (K >= 2): SIGKILL its PID namespace
#                                             (slurmd, slurmstepd, tasks) and cut its link
#   tools/slurm/cluster.sh stop STATE_DIR     stop the daemons started by `start` (by PID);
#                                             remove the namespaces and links it made
#   tools/slurm/cluster.sh env STATE_DIR      print `export SLURM_CONF=STATE_DIR/slurm.conf`
#   tools/slurm/cluster.sh status STATE_DIR   show sinfo/squeue for this cluster
#
# `start` prints `export SLURM_CONF=...` on stdout (all messages go to stderr), so
#   eval "$(tools/slurm/cluster.sh start /tmp/slurm)"
# leaves the calling shell ready for sbatch/squeue/sinfo.
#
# Needs root (or passwordless sudo, in which case the script re-runs itself under
# `sudo -n`). Designed for a container/VM without systemd or cgroups: the daemons run in
# foreground mode in the background, their PIDs are kept in STATE_DIR/*.pid, and they
# are only ever stopped by those PIDs. Every wait is bounded.
#
# Several nodes (--nodes K, K >= 2): nodes n1..nK, one slurmd each, every one started as
# PID 1's child in its own PID, mount (a private /proc) and UTS (its own hostname)
# namespace, so that killing the namespace's init kills the node whole: its slurmd, its
# slurmstepds and its tasks, as a crashed machine would. How the nodes are addressed
# (SLURM_LOCAL_NODE_MODE):
#   netns  each node also in its own network namespace, with its own address on a bridge
#          (10.213.X.11, .12, ...; slurmctld on .1 in the root namespace). A killed node's
#          link is cut, so it vanishes from the network like a crashed host. (default)
#   multi  Slurm's multiple-slurmd mode: every node on 127.0.0.1 with its own port (Debian's
#          build accepts `slurmd -N NAME`); used when network namespaces are not available.
# slurmctld declares a node DOWN after SlurmdTimeout (SLURM_LOCAL_SLURMD_TIMEOUT, 10 s here)
# without an answer, and requeues the batch jobs it ran that allow it (sbatch --requeue).
# Every node has SLURM_LOCAL_NODE_CPUS CPUs (default 1: one single-CPU task at a time).
# The output directory is simply a directory of this machine, which every node sees.
set -euo pipefail

PROG=${0##*/}
SKIP=77
# Bounded waits (seconds); can be overridden from the environment.
MUNGE_WAIT=${SLURM_LOCAL_MUNGE_WAIT:-10}
IDLE_WAIT=${SLURM_LOCAL_IDLE_WAIT:-30}
STOP_WAIT=${SLURM_LOCAL_STOP_WAIT:-20}
APT_TIMEOUT=${SLURM_LOCAL_APT_TIMEOUT:-600}
# Ports (Slurm's defaults); override to run a second cluster next to another one.
CTLD_PORT=${SLURM_LOCAL_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_LOCAL_SLURMD_PORT:-6818}
# Several nodes: how they are addressed, their CPUs, how fast a silent node is declared DOWN.
NODE_MODE=${SLURM_LOCAL_NODE_MODE:-}
NODE_CPUS=${SLURM_LOCAL_NODE_CPUS:-1}
SLURMD_TIMEOUT=${SLURM_LOCAL_SLURMD_TIMEOUT:-10}
MAX_NODES=9

REQUIRED_BINS=(sbatch slurmctld slurmd munged)
PACKAGES=(slurm-wlm slurmctld slurmd slurm-client munge)

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^$/p' "$0" | sed -n '/^# Usage/,/^# leaves/p' | sed 's/^# \{0,1\}//' >&2
    exit 2
}

have() { command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 || -x /sbin/$1 ]]; }

binaries_present() {
    local b
    for b in "${REQUIRED_BINS[@]}"; do have "$b" || return 1; done
}

# Re-run under passwordless sudo when not root.
ensure_root() {
    if [[ $EUID -eq 0 ]]; then return 0; fi
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n -E "$0" "$@"
    fi
    die "must run as root (or with passwordless sudo)"
}

# wait_until SECONDS DESCRIPTION CMD...: poll CMD every 0.1 s, fail after SECONDS.
wait_until() {
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        if "$@"; then return 0; fi
        sleep 0.1
    done
    log "timed out after ${secs}s waiting for: $what"
    return 1
}

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd -P); }

# pid_alive PIDFILE NAME: the PID in PIDFILE is running and is the process NAME
# (guards against PID reuse).
pid_alive() {
    local pidfile=$1 name=$2 pid comm
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "$name" ]] || return 1
    # A daemon that died while `start` still runs is an unreaped zombie child: not alive.
    [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

# wait_exec PID NAME: bounded wait until the just-backgrounded PID has exec'd NAME.
# Right after `cmd &`, /proc/$!/comm is still the forked shell's name for a moment, and
# pid_alive would call the daemon dead (or `stop` would skip it).
wait_exec() {
    local pid=$1 name=$2 i comm
    for ((i = 0; i < 100; i++)); do
        comm=$(cat "/proc/$pid/comm" 2>/dev/null) || { log "$name (pid $pid) exited at once"; return 1; }
        [[ $comm == "$name" ]] && return 0
        sleep 0.05
    done
    log "timed out waiting for pid $pid to become $name (it is '$comm')"
    return 1
}

# ---------------------------------------------------------------------------- check
cmd_check() {
    parse_nodes "$@"
    ((${#ARGS_LEFT[@]} == 0)) || usage
    if [[ $EUID -ne 0 ]] && ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
        log "cannot run a local Slurm: not root and no passwordless sudo"
        exit "$SKIP"
    fi
    if ! binaries_present && ! command -v apt-get >/dev/null 2>&1; then
        log "cannot run a local Slurm: ${REQUIRED_BINS[*]} not all installed and no apt-get to install them"
        exit "$SKIP"
    fi
    local t
    for t in setpriv timeout nproc hostname getent; do
        if ! command -v "$t" >/dev/null 2>&1; then
            log "cannot run a local Slurm: required tool '$t' not found"
            exit "$SKIP"
        fi
    done
    if ((NODES > 1)); then
        if ! command -v unshare >/dev/null 2>&1 || ! ns_ok; then
            log "cannot run $NODES local Slurm nodes: unshare --pid --mount-proc --uts fails here"
            exit "$SKIP"
        fi
        pick_mode
        log "nodes: $NODES in mode $NODE_MODE"
    fi
    if binaries_present; then
        log "ok: root, slurm and munge installed"
    else
        log "ok: root, apt-get available (run '$PROG install' first)"
    fi
}

# -------------------------------------------------------------------------- install
cmd_install() {
    ensure_root install
    if binaries_present; then
        log "slurm and munge already installed; nothing to do"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ${PACKAGES[*]} by hand"
    export DEBIAN_FRONTEND=noninteractive
    log "apt-get update"
    timeout "$APT_TIMEOUT" apt-get update -q >&2 || die "apt-get update failed"
    log "apt-get install ${PACKAGES[*]}"
    timeout "$APT_TIMEOUT" apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${PACKAGES[@]}" >&2 || die "apt-get install failed"
    binaries_present || die "installed packages but ${REQUIRED_BINS[*]} are still not all on PATH"
    log "installed: $(slurmctld -V 2>/dev/null || echo slurm), $(munged -V 2>&1 | head -n1 || true)"
}

# ---------------------------------------------------------------------------- start
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    local state=$1
    if munge_ok; then
        log "munged already running and working; reusing it (will not stop it)"
        rm -f "$state/munged.pid"
        return 0
    fi
    getent passwd munge >/dev/null || die "user 'munge' does not exist (is the munge package installed?)"
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating /etc/munge/munge.key"
        mkdir -p /etc/munge
        mungekey --create --keyfile=/etc/munge/munge.key
    fi
    chown munge:munge /etc/munge /etc/munge/munge.key
    chmod 0700 /etc/munge
    chmod 0400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge

    log "starting munged"
    # Foreground mode, backgrounded by this shell: $! is munged itself
    # (runuser/su would leave a wrapper process in between).
    setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F \
        </dev/null >>"$state/munged.log" 2>&1 &
    echo $! >"$state/munged.pid"
    wait_exec "$(<"$state/munged.pid")" munged || return 1
    if ! wait_until "$MUNGE_WAIT" "munge -n | unmunge" munge_ok; then
        tail -n 20 "$state/munged.log" >&2 || true
        return 1
    fi
}

ensure_hostname() {
    local host=$1
    if ! getent hosts "$host" >/dev/null; then
        log "adding '127.0.0.1 $host' to /etc/hosts"
        printf '127.0.0.1 %s\n' "$host" >>/etc/hosts
    fi
}

write_conf() {
    local state=$1 host=$2 cpus mem
    cpus=$(nproc)
    # RealMemory must not exceed what slurmd detects, else the node is drained.
    mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
    ((mem > 2000)) && mem=2000
    {
        echo "# Generated by tools/slurm/cluster.sh for a single-node localhost cluster."
        echo "SlurmctldHost=$host"
        echo "SlurmdPort=$SLURMD_PORT"
        conf_common "$state" ""
        cat <<EOF
MinJobAge=4
SchedulerParameters=batch_sched_delay=0
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    } >"$state/slurm.conf"
}

# conf_common STATE NODE_SUFFIX: the slurm.conf lines every cluster here shares; the
# slurmd files are named slurmd{NODE_SUFFIX}.* (e.g. -%n: one per node name).
conf_common() {
    local state=$1 sfx=$2 spool=$1/spool
    [[ -n $sfx ]] && spool=$state/spool/%n
    cat <<EOF
ClusterName=datapact
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld-state
SlurmdSpoolDir=$spool
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd$sfx.log
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd$sfx.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
EOF
}

node_idle() {
    local st f
    # Our own daemons must be alive (fail fast if one died), else sinfo could be
    # answered by some other slurmctld.
    pid_alive "$STATE/slurmctld.pid" slurmctld || { log "slurmctld exited"; return 2; }
    if ((NODES == 1)); then
        pid_alive "$STATE/slurmd.pid" slurmd || { log "slurmd exited"; return 2; }
    else
        for f in "$STATE"/node-*.pid; do
            pid_alive "$f" unshare || { log "node ${f##*/node-} exited"; return 2; }
        done
    fi
    st=$(SLURM_CONF="$STATE/slurm.conf" timeout 5 sinfo -h -N -o %T 2>/dev/null) || return 1
    [[ $(grep -c '^idle$' <<<"$st") -eq $NODES && $(wc -l <<<"$st") -eq $NODES ]]
}

# port_busy PORT: something accepts TCP connections on localhost:PORT.
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_idle() {
    local i rc
    for ((i = 0; i < IDLE_WAIT * 10; i++)); do
        rc=0
        node_idle || rc=$?
        case $rc in
            0) return 0 ;;
            2) return 1 ;;
        esac
        sleep 0.1
    done
    log "timed out after ${IDLE_WAIT}s waiting for the node(s) to be idle" \
        "(sinfo: $(SLURM_CONF="$STATE/slurm.conf" timeout 5 sinfo -h -N -o %T 2>&1 || true))"
    return 1
}

start_failed() {
    local f
    log "start failed; last log lines:"
    for f in munged slurmctld slurmctld.out slurmd slurmd.out $(node_names); do
        if [[ -s $STATE/$f.log ]]; then
            printf '==> %s <==\n' "$STATE/$f.log" >&2
            tail -n 15 "$STATE/$f.log" >&2
        fi
    done
    cmd_stop "$STATE" || true
    exit 1
}

cmd_start() {
    ensure_root start "$@"
    parse_nodes "$@"
    ((${#ARGS_LEFT[@]} == 1)) || usage
    binaries_present || die "slurm/munge not installed; run '$PROG install' first"
    STATE=$(abs_dir "${ARGS_LEFT[0]}")
    if pid_alive "$STATE/slurmctld.pid" slurmctld || pid_alive "$STATE/slurmd.pid" slurmd ||
        [[ -e $STATE/net.env ]] || compgen -G "$STATE/node-*.pid" >/dev/null; then
        die "a cluster is already running from $STATE; run '$PROG stop $STATE' first"
    fi
    if ((NODES > 1)); then
        start_several
        return
    fi
    local host p
    for p in "$CTLD_PORT" "$SLURMD_PORT"; do
        if port_busy "$p"; then
            die "port $p is already in use (another slurmctld/slurmd running?);" \
                "stop it or set SLURM_LOCAL_CTLD_PORT/SLURM_LOCAL_SLURMD_PORT"
        fi
    done
    host=$(hostname -s)
    ensure_hostname "$host"
    mkdir -p "$STATE/ctld-state" "$STATE/spool" "$STATE/run"
    rm -f "$STATE"/slurmctld.pid "$STATE"/slurmd.pid

    start_munge "$STATE" || start_failed

    write_conf "$STATE" "$host"
    export SLURM_CONF="$STATE/slurm.conf"

    log "starting slurmctld and slurmd (logs in $STATE)"
    /usr/sbin/slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$STATE/slurmctld.out.log" 2>&1 &
    echo $! >"$STATE/slurmctld.pid"
    /usr/sbin/slurmd -D -f "$SLURM_CONF" </dev/null >>"$STATE/slurmd.out.log" 2>&1 &
    echo $! >"$STATE/slurmd.pid"
    wait_exec "$(<"$STATE/slurmctld.pid")" slurmctld || start_failed
    wait_exec "$(<"$STATE/slurmd.pid")" slurmd || start_failed

    wait_idle || start_failed
    log "cluster up: node $host idle with $(nproc) CPUs"
    log "use it with:  export SLURM_CONF=$SLURM_CONF"
    printf 'export SLURM_CONF=%q\n' "$SLURM_CONF"
}

# -------------------------------------------------------------------- several nodes
# parse_nodes ARGS...: NODES from `--nodes K` (default 1); the other arguments in ARGS_LEFT.
parse_nodes() {
    NODES=1
    ARGS_LEFT=()
    while (($# > 0)); do
        case $1 in
            --nodes)
                [[ $# -ge 2 ]] || usage
                NODES=$2
                shift 2
                ;;
            --nodes=*)
                NODES=${1#--nodes=}
                shift
                ;;
            *)
                ARGS_LEFT+=("$1")
                shift
                ;;
        esac
    done
    [[ $NODES =~ ^[1-9]$ ]] || die "--nodes $NODES: expected 1 to $MAX_NODES"
}

# The node names of a running cluster (from its PID files), or of the one being started.
node_names() {
    local f
    for f in "${STATE:-/nonexistent}"/node-*.pid; do
        [[ -e $f ]] || continue
        f=${f##*/node-}
        echo "slurmd-${f%.pid}"
    done
}

ns_ok() { unshare --pid --fork --mount-proc --uts true 2>/dev/null; }

netns_ok() {
    local probe=dpslurm-probe-$$
    command -v ip >/dev/null 2>&1 || return 1
    ip netns add "$probe" 2>/dev/null || return 1
    ip netns del "$probe" 2>/dev/null || true
}

# pick_mode: NODE_MODE as asked, else netns where network namespaces work, else multi.
pick_mode() {
    case $NODE_MODE in
        netns) netns_ok || die "SLURM_LOCAL_NODE_MODE=netns: cannot create a network namespace (ip netns add)" ;;
        multi) ;;
        "") if netns_ok; then NODE_MODE=netns; else NODE_MODE=multi; fi ;;
        *) die "SLURM_LOCAL_NODE_MODE=$NODE_MODE: expected netns or multi" ;;
    esac
}

# Names of a node's network namespace and of the host end of its link (at most 15 chars).
node_netns() { echo "dpslurm-$NET_TAG-$1"; }
node_veth() { echo "dps$NET_TAG$1"; }

# net_up STATE: a bridge with a free 10.213.X.0/24 and the controller on .1. net.env is
# written first, so that `stop` undoes whatever part of this was done.
net_up() {
    local state=$1 x used
    used=$(ip -4 -o addr show; ip -4 route show)
    for ((x = 0; x < 256; x++)); do
        [[ $used == *"10.213.$x."* ]] || break
    done
    ((x < 256)) || die "no free subnet 10.213.X.0/24 for the nodes"
    NET_TAG=$(printf '%04x' $(($$ % 65536)))
    NET_BRIDGE=dps${NET_TAG}br
    NET_SUBNET=10.213.$x
    printf 'NET_TAG=%s\nNET_BRIDGE=%s\nNET_SUBNET=%s\n' "$NET_TAG" "$NET_BRIDGE" "$NET_SUBNET" \
        >"$state/net.env"
    ip link add "$NET_BRIDGE" type bridge
    ip addr add "$NET_SUBNET.1/24" dev "$NET_BRIDGE"
    ip link set "$NET_BRIDGE" up
    log "network: bridge $NET_BRIDGE, controller $NET_SUBNET.1, nodes $NET_SUBNET.11 ..."
}

node_addr() { # node_addr INDEX
    if [[ $NODE_MODE == netns ]]; then echo "$NET_SUBNET.$((10 + $1))"; else echo 127.0.0.1; fi
}

# start_node STATE NAME INDEX: slurmd -N NAME as the only child of the init (a shell) of new
# PID, mount and UTS namespaces (hostname NAME), in the node's network namespace in mode
# netns. node-NAME.pid holds the PID of `unshare`, whose child is that init.
start_node() {
    local state=$1 name=$2 i=$3 ns veth
    local -a enter=()
    if [[ $NODE_MODE == netns ]]; then
        ns=$(node_netns "$name")
        veth=$(node_veth "$name")
        echo "$ns" >>"$state/netns.list"
        ip netns add "$ns"
        ip link add "$veth" type veth peer name eth0 netns "$ns"
        ip link set "$veth" master "$NET_BRIDGE" up
        ip -n "$ns" addr add "$(node_addr "$i")/24" dev eth0
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up
        # nsenter, not `ip netns exec`: that remounts /sys, hiding /sys/fs/cgroup, without
        # which slurmd will not start.
        enter=(nsenter "--net=/run/netns/$ns")
    fi
    mkdir -p "$state/spool/$name"
    # --kill-child: if unshare dies, the node dies with it. The init shell reaps the orphans
    # (slurmstepd) and exits when slurmd does, which ends the namespace.
    # shellcheck disable=SC2016 # expanded by the node's shell
    "${enter[@]}" unshare --pid --fork --mount-proc --uts --kill-child=SIGKILL \
        /bin/bash -c 'hostname "$1" || exit 1; /usr/sbin/slurmd -D -N "$1" -f "$2" & wait $!' \
        node-init "$name" "$SLURM_CONF" </dev/null >>"$state/slurmd-$name.out.log" 2>&1 &
    echo $! >"$state/node-$name.pid"
    wait_exec "$!" unshare
}

# node_init NAME: PID (in this namespace) of the init of node NAME's PID namespace.
node_init() {
    local upid
    pid_alive "$STATE/node-$1.pid" unshare || return 1
    upid=$(<"$STATE/node-$1.pid")
    pgrep -P "$upid" | head -n 1
}

write_conf_several() {
    local state=$1 host=$2 ctl=$3 mem i
    mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 / '"$NODES"' }' /proc/meminfo)
    ((mem > 2000)) && mem=2000
    {
        echo "# Generated by tools/slurm/cluster.sh: $NODES nodes on one machine (mode $NODE_MODE)."
        echo "SlurmctldHost=$host($ctl)"
        conf_common "$state" -%n
    } >"$state/slurm.conf"
    cat >>"$state/slurm.conf" <<CONF
# The main scheduler looks at pending jobs every 2 s (default 60), and a requeued job may
# start again 10 s after its requeue (AuthInfo cred_expire, default 120 s).
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=5
AuthInfo=cred_expire=10
# A node silent for SlurmdTimeout seconds is DOWN; its batch jobs are requeued (sbatch
# --requeue). Job records stay 5 minutes, so scontrol can say where a task ran and how
# often it was requeued (no accounting database here, hence no sacct).
SlurmdTimeout=$SLURMD_TIMEOUT
JobRequeue=1
KillWait=5
MinJobAge=300
CONF
    for ((i = 1; i <= NODES; i++)); do
        printf 'NodeName=n%d NodeHostname=n%d NodeAddr=%s Port=%d CPUs=%d RealMemory=%d State=UNKNOWN\n' \
            "$i" "$i" "$(node_addr "$i")" $((SLURMD_PORT + i)) "$NODE_CPUS" "$mem" >>"$state/slurm.conf"
    done
    echo "PartitionName=debug Nodes=n[1-$NODES] Default=YES MaxTime=INFINITE State=UP" >>"$state/slurm.conf"
}

start_several() {
    local host ctl p i
    [[ $NODE_CPUS =~ ^[1-9][0-9]*$ ]] || die "SLURM_LOCAL_NODE_CPUS=$NODE_CPUS: expected a positive integer"
    [[ $SLURMD_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "SLURM_LOCAL_SLURMD_TIMEOUT=$SLURMD_TIMEOUT: expected seconds"
    ns_ok || die "cannot create PID/mount/UTS namespaces (unshare --pid --fork --mount-proc --uts)"
    pick_mode
    local ports=("$CTLD_PORT")
    if [[ $NODE_MODE == multi ]]; then
        for ((i = 1; i <= NODES; i++)); do ports+=($((SLURMD_PORT + i))); done
    fi
    for p in "${ports[@]}"; do
        if port_busy "$p"; then
            die "port $p is already in use (another slurmctld/slurmd running?);" \
                "stop it or set SLURM_LOCAL_CTLD_PORT/SLURM_LOCAL_SLURMD_PORT"
        fi
    done
    host=$(hostname -s)
    mkdir -p "$STATE/ctld-state" "$STATE/spool" "$STATE/run"
    rm -f "$STATE"/slurmctld.pid "$STATE"/netns.list

    start_munge "$STATE" || start_failed
    ctl=127.0.0.1
    if [[ $NODE_MODE == netns ]]; then
        net_up "$STATE" || start_failed
        ctl=$NET_SUBNET.1
    fi
    write_conf_several "$STATE" "$host" "$ctl"
    export SLURM_CONF="$STATE/slurm.conf"

    log "starting slurmctld and $NODES nodes, mode $NODE_MODE (logs in $STATE)"
    /usr/sbin/slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$STATE/slurmctld.out.log" 2>&1 &
    echo $! >"$STATE/slurmctld.pid"
    wait_exec "$(<"$STATE/slurmctld.pid")" slurmctld || start_failed
    for ((i = 1; i <= NODES; i++)); do
        start_node "$STATE" "n$i" "$i" || start_failed
    done
    wait_idle || start_failed
    log "cluster up: nodes n[1-$NODES] idle, $NODE_CPUS CPU(s) each ($(nproc) cores shared)"
    log "use it with:  export SLURM_CONF=$SLURM_CONF"
    printf 'export SLURM_CONF=%q\n' "$SLURM_CONF"
}

# ns_members PIDNS: `PID comm` of every process in that PID namespace (e.g. pid:[4026532]).
ns_members() {
    local p
    for p in /proc/[0-9]*; do
        if [[ $(readlink "$p/ns/pid" 2>/dev/null) == "$1" ]]; then
            echo "${p#/proc/} $(cat "$p/comm" 2>/dev/null)"
        fi
    done
}
ns_empty() { [[ -z $(ns_members "$1") ]]; }

# kill-node STATE NAME: what a power failure does to a node. Its link is cut first (mode
# netns: the node's address stops answering at all), then its PID namespace's init is
# SIGKILLed, which makes the kernel kill every process in it (slurmd, slurmstepd, tasks).
# Prints `killed node NAME: N processes (comm ...)` on stdout.
cmd_kill_node() {
    [[ $# -eq 2 ]] || usage
    ensure_root kill-node "$@"
    local name=$2 init pidns members upid
    STATE=$(cd "$1" && pwd -P) || die "no state dir $1"
    [[ -f $STATE/node-$name.pid ]] || die "no node $name in $STATE"
    init=$(node_init "$name") || die "node $name is not running"
    [[ -n $init ]] || die "node $name has no init process"
    pidns=$(readlink "/proc/$init/ns/pid") || die "cannot read node $name's PID namespace"
    members=$(ns_members "$pidns")
    if [[ -f $STATE/net.env ]]; then
        # shellcheck source=/dev/null
        . "$STATE/net.env"
        ip link set "$(node_veth "$name")" down || log "could not cut node $name's link"
    fi
    kill -KILL "$init"
    wait_until 10 "node $name's processes to die" ns_empty "$pidns" || die "node $name: processes survived: $(ns_members "$pidns" | tr '\n' ' ')"
    upid=$(<"$STATE/node-$name.pid")
    wait_until 5 "node $name's unshare to exit" pid_gone "$upid" || true
    echo "killed node $name: $(wc -l <<<"$members") processes ($(awk '{ print $2 }' <<<"$members" | sort | uniq -c | awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }'))"
}

# stop_nodes STATE: TERM each node's slurmd, then KILL its namespace's init (a task still
# running dies with it).
stop_nodes() {
    local state=$1 f name upid init sd rc=0
    for f in "$state"/node-*.pid; do
        [[ -e $f ]] || continue
        name=${f##*/node-}
        name=${name%.pid}
        if pid_alive "$f" unshare; then
            upid=$(<"$f")
            init=$(pgrep -P "$upid" | head -n 1 || true)
            if [[ -n $init ]]; then
                sd=$(pgrep -P "$init" -x slurmd | head -n 1 || true)
                if [[ -n $sd ]]; then
                    log "sending TERM to slurmd of node $name (pid $sd)"
                    kill -TERM "$sd" 2>/dev/null || true
                    wait_until "$STOP_WAIT" "slurmd of node $name to exit" pid_gone "$sd" || true
                fi
                kill -KILL "$init" 2>/dev/null || true
            fi
            kill -KILL "$upid" 2>/dev/null || true
            wait_until 10 "node $name (unshare pid $upid) to exit" pid_gone "$upid" || rc=1
        fi
        ((rc == 0)) && rm -f "$f"
    done
    return "$rc"
}

# net_down STATE: delete the namespaces, links and bridge `start` recorded.
net_down() {
    local state=$1 ns rc=0
    [[ -f $state/net.env ]] || return 0
    # shellcheck source=/dev/null
    . "$state/net.env"
    if [[ -f $state/netns.list ]]; then
        while read -r ns; do
            [[ -n $ns ]] || continue
            # Deleting the namespace deletes its end of the link, and so the host's end.
            if ip netns list | grep -qw -- "$ns"; then ip netns del "$ns" || rc=1; fi
            ip link del "dps$NET_TAG${ns##*-}" 2>/dev/null || true
        done <"$state/netns.list"
    fi
    if ip link show "$NET_BRIDGE" >/dev/null 2>&1; then ip link del "$NET_BRIDGE" || rc=1; fi
    if ((rc == 0)); then
        rm -f "$state/net.env" "$state/netns.list"
        log "removed network namespaces and bridge $NET_BRIDGE"
    else
        log "some network namespaces or links could not be removed (see $state/net.env)"
    fi
    return "$rc"
}

# ----------------------------------------------------------------------------- stop
# pid_gone PID: the process no longer exists (a zombie counts as gone: the daemons are
# reparented to PID 1 when `start` exits, and PID 1 here need not reap them promptly).
pid_gone() {
    local state
    kill -0 "$1" 2>/dev/null || return 0
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
    [[ $state == Z ]]
}

# term_pid PIDFILE NAME: send TERM if PIDFILE names a running NAME; print the PID.
term_pid() {
    local pidfile=$1 name=$2 pid
    pid_alive "$pidfile" "$name" || return 0
    pid=$(<"$pidfile")
    log "sending TERM to $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    echo "$pid"
}

# wait_gone PID NAME: bounded wait for PID to exit; KILL it if TERM was not enough.
wait_gone() {
    local pid=$1 name=$2
    [[ -n $pid ]] || return 0
    wait_until "$STOP_WAIT" "$name (pid $pid) to exit" pid_gone "$pid" && return 0
    log "sending KILL to $name (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 5 "$name (pid $pid) to exit after KILL" pid_gone "$pid"
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    ensure_root stop "$@"
    local state rc=0 dpid cpid mpid
    [[ -d $1 ]] || { log "no state dir $1; nothing to stop"; return 0; }
    state=$(cd "$1" && pwd -P)
    # Nodes first (no task is started again), then the slurm daemons, munged, the network.
    stop_nodes "$state" || rc=1
    # TERM both slurm daemons, wait for both, only then stop munged.
    dpid=$(term_pid "$state/slurmd.pid" slurmd)
    cpid=$(term_pid "$state/slurmctld.pid" slurmctld)
    wait_gone "$dpid" slurmd || rc=1
    wait_gone "$cpid" slurmctld || rc=1
    mpid=$(term_pid "$state/munged.pid" munged)
    wait_gone "$mpid" munged || rc=1
    net_down "$state" || rc=1
    if ((rc == 0)); then
        rm -f "$state/slurmd.pid" "$state/slurmctld.pid" "$state/munged.pid"
        log "stopped"
    else
        log "some daemons could not be stopped; PID files left in $state"
    fi
    return "$rc"
}

# ------------------------------------------------------------------------ env/status
cmd_env() {
    [[ $# -eq 1 ]] || usage
    local state
    state=$(cd "$1" && pwd -P) || die "no state dir $1"
    [[ -f $state/slurm.conf ]] || die "$state/slurm.conf not found; run '$PROG start $1'"
    printf 'export SLURM_CONF=%q\n' "$state/slurm.conf"
}

cmd_status() {
    [[ $# -eq 1 ]] || usage
    local state
    state=$(cd "$1" && pwd -P) || die "no state dir $1"
    export SLURM_CONF="$state/slurm.conf"
    [[ -f $SLURM_CONF ]] || die "$SLURM_CONF not found; run '$PROG start $1'"
    local n
    for n in munged slurmctld slurmd; do
        [[ $n == slurmd && ! -e $state/slurmd.pid ]] && continue
        if pid_alive "$state/$n.pid" "$n"; then
            echo "$n: running (pid $(<"$state/$n.pid"))"
        else
            echo "$n: not running (from $state)"
        fi
    done
    for n in "$state"/node-*.pid; do
        [[ -e $n ]] || continue
        if pid_alive "$n" unshare; then
            echo "node ${n##*/node-}: running (unshare pid $(<"$n"))" | sed 's/\.pid:/:/'
        else
            echo "node ${n##*/node-}: not running" | sed 's/\.pid:/:/'
        fi
    done
    timeout 10 sinfo || true
    timeout 10 squeue || true
}

main() {
    [[ $# -ge 1 ]] || usage
    local sub=$1
    shift
    case $sub in
        check) cmd_check "$@" ;;
        install) cmd_install "$@" ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        kill-node) cmd_kill_node "$@" ;;
        env) cmd_env "$@" ;;
        status) cmd_status "$@" ;;
        -h | --help | help) usage ;;
        *) log "unknown subcommand: $sub"; usage ;;
    esac
}

main "$@"
