#!/usr/bin/env bash
# Runs every benchmark in bench/ and prints its figures (BENCHMARKS.md records them with the
# command of each). BUILD selects the build directory (default build). METERING_EVENTS sizes the
# metering run (default 200000 for a quick pass; the issue's full size is 10000000, ~30 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
METERING_EVENTS=${METERING_EVENTS:-200000}
cmake --build "$BUILD" --target authz_bench limits_bench metering_bench mock_upstream gateway_load gatehouse

echo "== bench/authz"; "./$BUILD/bench/authz/authz_bench"
echo "== bench/limits"; "./$BUILD/bench/limits/limits_bench"
echo "== bench/metering ($METERING_EVENTS events)"
"./$BUILD/bench/metering/metering_bench" --events "$METERING_EVENTS" --queries 200
echo "== bench/gateway"; BUILD="$BUILD" bench/gateway/run.sh
