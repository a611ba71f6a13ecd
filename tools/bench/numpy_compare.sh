#!/usr/bin/env bash
# Side by side: the NumPy reference (tools/bench/numpy_reference.py --bench, full baseline grid)
# against `datapact run scenarios/baseline.toml` with --threads 2 and --threads 1, interleaved
# ROUNDS times, each timed with /usr/bin/time -f "%e %U" and preceded by `uptime` (other builds
# may share the machine). Prints per-campaign times and the datapact/NumPy ratios (NUMPY.md).
#
#   tools/bench/numpy_compare.sh ROUNDS DATAPACT_BIN PYTHON
#   tools/bench/numpy_compare.sh 3 /tmp/datapact-ref-bin /tmp/np-venv/bin/python
set -euo pipefail
rounds=${1:?usage: numpy_compare.sh ROUNDS DATAPACT_BIN PYTHON}
bin=${2:?datapact binary}
py=${3:?python with numpy}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for r in $(seq "$rounds"); do
  echo "round $r: $(uptime)"
  /usr/bin/time -f "%e %U" -o "$work/t" "$py" "$here/numpy_reference.py" --bench --reps 2000
  echo "numpy $(cat "$work/t")" | tee -a "$work/times"
  for threads in 2 1; do
    rm -rf "$work/out"
    /usr/bin/time -f "%e %U" -o "$work/t" "$bin" run "$repo/scenarios/baseline.toml" \
      --out "$work/out" -q --threads "$threads" >/dev/null
    echo "datapact-t$threads $(cat "$work/t")" | tee -a "$work/times"
  done
done
echo "after: $(uptime)"
"$py" - "$work/times" <<'PY'
import statistics, sys
campaigns = 961 * 2000 * 3
rows = [line.split() for line in open(sys.argv[1])]
med = {}
for name in ("numpy", "datapact-t2", "datapact-t1"):
    wall = [float(w) for n, w, _ in rows if n == name]
    user = [float(u) for n, _, u in rows if n == name]
    med[name] = statistics.median(wall)
    print(f"{name}: wall {' / '.join(f'{w:.2f}' for w in wall)} s (median {med[name]:.2f} s), "
          f"median user {statistics.median(user):.2f} s; "
          f"{med[name] / campaigns * 1e6:.3f} us per campaign (wall)")
for name in ("datapact-t2", "datapact-t1"):
    print(f"NumPy / {name} per campaign (wall): {med['numpy'] / med[name]:.2f}x")
PY
