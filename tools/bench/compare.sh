#!/usr/bin/env bash
# Times the baseline scenario with several datapact binaries, interleaved so that drifts in the
# machine's speed hit all of them alike, and prints each one's median wall and user time.
#
#   tools/bench/compare.sh RUNS BINARY[:EXTRA_ARGS] ...
#   tools/bench/compare.sh 5 /tmp/datapact-b4662b8 target/release/datapact target/release/datapact:--direct
set -euo pipefail
runs=${1:?usage: compare.sh RUNS BINARY[:EXTRA_ARGS] ...}
shift
[ $# -ge 1 ] || { echo "compare.sh: name at least one binary" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for r in $(seq "$runs"); do
  for k in $(seq $#); do
    spec=${!k}
    bin=${spec%%:*}
    extra=""
    [[ $spec == *:* ]] && extra=${spec#*:}
    rm -rf "$work/out"
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %U" -o "$work/t" "$bin" run baseline --out "$work/out" -q --threads 2 $extra >/dev/null
    echo "$k $(cat "$work/t")" >> "$work/times"
  done
done
python3 - "$work/times" "$@" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for k, spec in enumerate(sys.argv[2:], start=1):
    wall = [float(w) for i, w, _ in rows if int(i) == k]
    user = [float(u) for i, _, u in rows if int(i) == k]
    print(f"{spec}: wall {' / '.join(f'{w:.2f}' for w in wall)} s, "
          f"median {statistics.median(wall):.2f} s; median user {statistics.median(user):.2f} s")
PY
