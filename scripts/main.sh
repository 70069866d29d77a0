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
  "$build/benchmarks/kvbench" "$@"
else
  "$build/examples/kvstore_quickstart" "$@"
fi
