#!/usr/bin/env bash
# CI step: datapact on a real (local) Slurm must equal the single-machine run.
#
#   .ci/slurm.sh [TEST]
#
# Uses ./target/release/datapact (built with `cargo build --release -p datapact` only if
# it is missing), then runs TEST (default tests/slurm/array_equals_local.sh; also
# tests/slurm/multinode.sh), which installs Slurm + munge with apt-get if needed, starts
# the daemons (and, for multinode.sh, the nodes' namespaces) in a temp dir and always
# stops them.
#
# Exit 77 (skip) from the test is accepted ONLY when CI runs without root (and without
# passwordless sudo): on a root machine the test must really run, so a skip there fails.
# The last line is always a count: `slurm: P passed, F failed[, S skipped]`.
#
# Environment: SLURM_CI_TIMEOUT (seconds for the whole test, default 900; 600 for
# multinode.sh, which gives up by itself after MULTINODE_DEADLINE = 540 s and tears its
# cluster down); the test's own variables (DATAPACT_BIN, SLURM_IT_KEEP, ...) are passed
# through.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
TEST=${1:-tests/slurm/array_equals_local.sh}
case $TEST in
    */multinode.sh) TIMEOUT=${SLURM_CI_TIMEOUT:-600} ;;
    *) TIMEOUT=${SLURM_CI_TIMEOUT:-900} ;;
esac

summary() { echo "slurm: $1 passed, $2 failed${3:+, $3 skipped}"; }

have_root() {
    [[ $EUID -eq 0 ]] && return 0
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null
}

bin=./target/release/datapact
if [[ -z ${DATAPACT_BIN:-} && ! -x $bin ]]; then
    echo "slurm: $bin missing; cargo build --release -p datapact"
    if ! cargo build --release -p datapact; then
        echo "FAIL: cargo build --release -p datapact"
        summary 0 1
        exit 1
    fi
fi

start=$SECONDS
rc=0
timeout --kill-after=30 "$TIMEOUT" "$TEST" || rc=$?
echo "slurm: $TEST exited $rc after $((SECONDS - start)) s"

case $rc in
    0)
        summary 1 0
        exit 0
        ;;
    77)
        if have_root; then
            echo "FAIL: the Slurm test skipped itself although CI runs as root;" \
                "on this kind of machine it must run (see the SKIP reason above)"
            summary 0 1
            exit 1
        fi
        echo "SKIP: Slurm integration test (CI has no root and no passwordless sudo)"
        summary 0 0 1
        exit 0
        ;;
    124 | 137)
        echo "FAIL: the Slurm test timed out after ${TIMEOUT}s"
        summary 0 1
        exit 1
        ;;
    *)
        summary 0 1
        exit 1
        ;;
esac
