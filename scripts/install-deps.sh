#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages kvstore builds with.
#   scripts/install-deps.sh            compilers, CMake and every driver's client library
#   scripts/install-deps.sh --servers  the same plus PostgreSQL, Redis and MariaDB servers
# Installs only what is missing (a second run does nothing); needs root or sudo.
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config nlohmann-json3-dev libsimdjson-dev catch2
          libsqlite3-dev libsqlitecpp-dev libhiredis-dev libpq-dev libpqxx-dev
          libmysqlcppconn-dev libboost-dev libasio-dev libcli11-dev gnuplot-nox
          curl jq)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  sudo=()
  if ((EUID != 0)); then sudo=(sudo); fi
  echo "install-deps: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" == "--servers" ]]; then
  "$(dirname "$0")/test-services.sh" install
fi
