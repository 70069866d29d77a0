#!/usr/bin/env bash
# main.sh - README command (1): install what is missing, build, and run the
# main job on the embedded default (memory + SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KVSTORE_BUILD_ROOT:-build}/main
scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTORE_BUILD_TESTS=OFF > /dev/null
cmake --build "$build" --parallel "$(nproc)"
if [[ -x "$build/benchmarks/kvbench" ]]; then
  # kvbench with no --url measures memory: and SQLite (a temp file) next to the
  # raw SQLite baseline; results.json/results.csv/chart.svg go to bench-results/.
  "$build/benchmarks/kvbench" --out "$build/bench-results" "$@"
else
  "$build/examples/kvstore_quickstart" "$@"
fi
