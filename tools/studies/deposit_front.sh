#!/usr/bin/env bash
# The study of README's "Optimisation and calibration": the welfare–subsidy fronts of S, M and
# deposit (payment × deposit amount) with success >= 0.9, at V = 0.05, 0.1 and 0.2 — nine
# `optimize` searches with the deposit example app (it has every subcommand, with its plugin),
# then checks of every front, one figure and a summary table (tools/studies/deposit_front.py).
#
#   cargo build --release -p datapact-examples --example deposit
#   tools/studies/deposit_front.sh target/release/examples/deposit results/deposit_front
#   tools/studies/deposit_front.sh BIN OUT --set optimize.generations=3 ...   # smaller (CI)
#
# Extra arguments go to every search. Re-running resumes what is there (--resume).
# Writes OUT/V<v>/<mechanism>/ (each a search directory, docs/optimize.md), OUT/logs/ and
# OUT/deposit_front.png (docs/figures/deposit_front.png is the full-size one). PYTHON names the
# interpreter (default python3; it needs tools/studies/requirements.txt).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BIN OUT [--set KEY=VALUE ...]" >&2; exit 2; }
bin=$(realpath "$1")
mkdir -p "$2"
out=$(realpath "$2")
shift 2
cd "$(dirname "$0")/../.."
python=${PYTHON:-python3}
mkdir -p "$out/logs"
for v in 0.05 0.1 0.2; do
  for m in S M deposit; do
    log="$out/logs/V$v.$m.log"
    "$bin" optimize "examples/scenarios/deposit_front/$m.toml" --out "$out/V$v/$m" \
      --set "game.value=$v" --resume --quiet "$@" > "$log" 2>&1 || {
      cat "$log"
      exit 1
    }
  done
done
"$python" tools/studies/deposit_front.py "$out" "$out/deposit_front.png"
