#!/usr/bin/env bash
# Installs what Gatehouse needs on Debian 12, skipping what is already there:
# Debian packages (compilers, libraries, test servers, Chromium) and the npm packages (npm ci).
# Usage: scripts/install-deps.sh [--run-only | --bench]
#   --run-only skips test-only packages; --bench installs what `make bench` needs (no test packages).
set -euo pipefail
cd "$(dirname "$0")/.."

run_only=0 bench=0
[ "${1:-}" = "--run-only" ] && run_only=1
[ "${1:-}" = "--bench" ] && run_only=1 bench=1

build_pkgs=(build-essential g++ cmake ninja-build pkg-config ccache git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libsqlite3-dev libpq-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev prometheus-cpp-dev libargon2-dev libjemalloc-dev
  libcurl4-openssl-dev libre2-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev nodejs tzdata)
test_pkgs=(chromium postgresql prometheus sqlite3 curl)
# bench/gateway/run.sh: nginx as the reference proxy hop, wrk for throughput, and its helpers.
bench_pkgs=(nginx-light wrk curl jq python3)

pkgs=("${build_pkgs[@]}")
[ $run_only = 1 ] || pkgs+=("${test_pkgs[@]}")
[ $bench = 0 ] || pkgs+=("${bench_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install Node.js 20 or newer with npm" >&2
  exit 1
fi
# npm ci only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
