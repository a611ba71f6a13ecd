#!/usr/bin/env bash
# Single-node Slurm "cluster" on localhost, for trying/testing datapact job arrays.
#
# Usage:
#   tools/slurm/cluster.sh check              exit 0 if this machine can run it, 77 (skip) if not
#   tools/slurm/cluster.sh install            apt-get install slurm + munge (skipped if present)
#   tools/slurm/cluster.sh start STATE_DIR    start munged, slurmctld, slurmd; wait until idle
#   tools/slurm/cluster.sh stop STATE_DIR     stop the daemons started by `start` (by PID)
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

REQUIRED_BINS=(sbatch slurmctld slurmd munged)
PACKAGES=(slurm-wlm slurmctld slurmd slurm-client munge)

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
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
    cat >"$state/slurm.conf" <<EOF
# Generated by tools/slurm/cluster.sh for a single-node localhost cluster.
ClusterName=datapact
SlurmctldHost=$host
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld-state
SlurmdSpoolDir=$state/spool
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
MinJobAge=4
SchedulerParameters=batch_sched_delay=0
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

node_idle() {
    local st
    # Our own daemons must be alive (fail fast if one died), else sinfo could be
    # answered by some other slurmctld.
    pid_alive "$STATE/slurmctld.pid" slurmctld || { log "slurmctld exited"; return 2; }
    pid_alive "$STATE/slurmd.pid" slurmd || { log "slurmd exited"; return 2; }
    st=$(SLURM_CONF="$STATE/slurm.conf" timeout 5 sinfo -h -N -o %T 2>/dev/null) || return 1
    [[ $st == idle ]]
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
    log "timed out after ${IDLE_WAIT}s waiting for the node to be idle" \
        "(sinfo: $(SLURM_CONF="$STATE/slurm.conf" timeout 5 sinfo -h -N -o %T 2>&1 || true))"
    return 1
}

start_failed() {
    local f
    log "start failed; last log lines:"
    for f in munged slurmctld slurmctld.out slurmd slurmd.out; do
        if [[ -s $STATE/$f.log ]]; then
            printf '==> %s <==\n' "$STATE/$f.log" >&2
            tail -n 15 "$STATE/$f.log" >&2
        fi
    done
    cmd_stop "$STATE" || true
    exit 1
}

cmd_start() {
    [[ $# -eq 1 ]] || usage
    ensure_root start "$@"
    binaries_present || die "slurm/munge not installed; run '$PROG install' first"
    STATE=$(abs_dir "$1")
    if pid_alive "$STATE/slurmctld.pid" slurmctld || pid_alive "$STATE/slurmd.pid" slurmd; then
        die "a cluster is already running from $STATE; run '$PROG stop $STATE' first"
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
    # TERM both slurm daemons, wait for both, only then stop munged.
    dpid=$(term_pid "$state/slurmd.pid" slurmd)
    cpid=$(term_pid "$state/slurmctld.pid" slurmctld)
    wait_gone "$dpid" slurmd || rc=1
    wait_gone "$cpid" slurmctld || rc=1
    mpid=$(term_pid "$state/munged.pid" munged)
    wait_gone "$mpid" munged || rc=1
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
        if pid_alive "$state/$n.pid" "$n"; then
            echo "$n: running (pid $(<"$state/$n.pid"))"
        else
            echo "$n: not running (from $state)"
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
        env) cmd_env "$@" ;;
        status) cmd_status "$@" ;;
        -h | --help | help) usage ;;
        *) log "unknown subcommand: $sub"; usage ;;
    esac
}

main "$@"
