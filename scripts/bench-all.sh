#!/usr/bin/env bash
# bench-all.sh - the full benchmark: start throwaway PostgreSQL, Redis and
# MariaDB servers on loopback, run kvbench over all five drivers (memory,
# SQLite, Redis, PostgreSQL, MySQL) with their raw-client baselines, write the
# results and the chart, and stop the servers.
#
# Usage: scripts/bench-all.sh [OUT_DIR] [kvbench options...]
#   OUT_DIR defaults to build/bench-results; it receives results.json,
#   results.csv, chart.svg (+ chart.gp, chart.dat) and table.txt (the printed
#   report). Copy chart.svg to docs/benchmarks/ to update the docs' chart.
#   The async mode runs only when asked: e.g. `scripts/bench-all.sh OUT
#   --workload read-hit,overwrite,zero-parse --inflight 1,8,64` (docs/benchmarks.md).
# Environment: KVSTORE_BUILD_ROOT (default build/), KVSTORE_JOBS (default nproc),
#   KVSTORE_CMAKE_ARGS (extra CMake arguments, e.g. "-DKVSTORE_WITH_MYSQL=OFF").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-${KVSTORE_BUILD_ROOT:-$root/build}/bench-results}
if (($#)); then shift; fi
build=${KVSTORE_BUILD_ROOT:-$root/build}/bench
jobs=${KVSTORE_JOBS:-$(nproc)}

scripts/install-deps.sh --servers
read -r -a extra_cmake_args <<< "${KVSTORE_CMAKE_ARGS:-}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTORE_BUILD_TESTS=OFF \
  -DKVSTORE_BUILD_TOOLS=OFF "${extra_cmake_args[@]}" > /dev/null
cmake --build "$build" --parallel "$jobs" --target kvbench

services_dir=$(mktemp -d /tmp/kvbench-services.XXXXXX)
sqlite_dir=$(mktemp -d /tmp/kvbench-sqlite.XXXXXX)
cleanup() {
  "$root/scripts/test-services.sh" stop "$services_dir" || true
  rm -rf "$services_dir" "$sqlite_dir"
}
trap cleanup EXIT
scripts/test-services.sh start "$services_dir" > /dev/null
# shellcheck disable=SC1091
source "$services_dir/env"

mkdir -p "$out"
"$build/benchmarks/kvbench" \
  --url memory: \
  --url "sqlite:$sqlite_dir/kvstore.db" \
  --url "$KVSTORE_TEST_REDIS_URL" \
  --url "$KVSTORE_TEST_POSTGRES_URL" \
  --url "$KVSTORE_TEST_MYSQL_URL" \
  --out "$out" "$@" | tee "$out/table.txt"
echo "bench-all: results in $out/"
