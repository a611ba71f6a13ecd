#!/usr/bin/env bash
# Runs a small scenario with every table traced and checks its outputs with pyarrow, polars and
# DuckDB (tools/check_outputs.py). usage: tools/check_outputs.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
bin=./target/release/datapact
[ -x "$bin" ] || cargo build --release -p datapact
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" run baseline --out "$out/events" -q \
  --set scenario.replications=20 --set output.trace=events \
  --set sweep.game.value.steps=6 --set sweep.game.payment.steps=6 --set output.chunk_cells=10
"$python" tools/check_outputs.py "$out/events"
