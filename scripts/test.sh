#!/usr/bin/env bash
# test.sh - README command (2): install what is missing, start PostgreSQL,
# Redis and MariaDB on loopback in a temp dir, build, run every test against
# every driver (plain build, then AddressSanitizer + UndefinedBehaviorSanitizer,
# then ThreadSanitizer on the concurrency tests), and stop the servers.
#
# Environment: KVSTORE_BUILD_ROOT (default: build/), KVSTORE_JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_root=${KVSTORE_BUILD_ROOT:-$root/build}
jobs=${KVSTORE_JOBS:-$(nproc)}

scripts/install-deps.sh --servers

services_dir=$(mktemp -d /tmp/kvstore-services.XXXXXX)
cleanup() {
  "$root/scripts/test-services.sh" stop "$services_dir" || true
  rm -rf "$services_dir"
}
trap cleanup EXIT
scripts/test-services.sh start "$services_dir" > /dev/null
# shellcheck disable=SC1091
source "$services_dir/env"

configure_and_build() {  # dir, [--target T], extra cmake args...
  local dir=$1
  shift
  local target=()
  while [[ "${1:-}" == --target ]]; do
    target+=(--target "$2")
    shift 2
  done
  cmake -S "$root" -B "$dir" -G Ninja -DKVSTORE_WERROR=ON "$@" > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" --parallel "$jobs" "${target[@]}"
}
mkdir -p "$build_root"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build: every test but downstream"
configure_and_build "$build_root/asan" -DCMAKE_BUILD_TYPE=Debug -DKVSTORE_SANITIZE=address,undefined \
  -DKVSTORE_BUILD_BENCHMARKS=OFF -DKVSTORE_BUILD_TOOLS=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$build_root/asan" --output-on-failure -j "$jobs" -LE downstream

echo "== ThreadSanitizer build: concurrency tests"
configure_and_build "$build_root/tsan" --target kvstore_conformance --target kvstore_unit_tests \
  --target kvstore_coro_tests --target kvstore_boost_asio_tests --target kvstore_asio_tests \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKVSTORE_SANITIZE=thread -DKVSTORE_BUILD_BENCHMARKS=OFF -DKVSTORE_BUILD_TOOLS=OFF
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir "$build_root/tsan" --output-on-failure -j "$jobs" -L concurrency

echo "== Release build: every test, every driver (the fault scenarios ran above)"
configure_and_build "$build_root/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
# The fault scenarios (label faults) restart the servers and ran in the
# sanitizer build above, where a memory error on a recovery path shows.
ctest --test-dir "$build_root/release" --output-on-failure -j "$jobs" -LE faults
