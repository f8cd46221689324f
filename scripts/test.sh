#!/usr/bin/env bash
# Runs every test: installs what is missing, builds twice (plain, and with
# AddressSanitizer + UBSan), runs the whole ctest suite in each, runs
# schemathesis against the served API (scripts/api-conformance.sh), the
# fuzz targets for a bounded time (scripts/fuzz.sh), then the
# dashboard's component and end-to-end tests, then the Docker bundle
# (scripts/test-docker.sh; MOOLAI_SKIP_DOCKER=1 skips it), and ends with one
# summary. Exit status 0 only when all of them pass.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

scripts/install-deps.sh || exit 1

declare -A result
run_suite() {  # name build_dir cmake-args...
  local name=$1 dir=$2; shift 2
  echo "=== [$name] configure + build ($dir)"
  if ! cmake -S "$root" -B "$dir" -G Ninja "$@" >/dev/null ||
     ! cmake --build "$dir" -j "$jobs"; then
    result[$name]="BUILD FAILED"; return 1
  fi
  echo "=== [$name] test"
  local log="$dir/ctest-summary.txt"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 300 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  result[$name]=$(grep -E "tests passed|tests failed" "$log" | tail -1)
  [ -n "${result[$name]}" ] || result[$name]="no summary (ctest exit $rc)"
  return "$rc"
}

status=0
run_suite plain build -DCMAKE_BUILD_TYPE=RelWithDebInfo || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 LSAN_OPTIONS="suppressions=$root/tests/lsan.supp" UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite asan+ubsan build-asan -DCMAKE_BUILD_TYPE=Debug -DMOOLAI_SANITIZE=ON || status=1

# API conformance: schemathesis against the served OpenAPI document, with
# the ASan+UBSan controller when it was built.
echo "=== [api] schemathesis"
mkdir -p build
scripts/api-conformance.sh 2>&1 | tee build/api-summary.txt
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
result[api]=$(grep -E "^api: " build/api-summary.txt | tail -1 | sed 's/^api: //')
[ -n "${result[api]}" ] || result[api]="no summary"

# Fuzzing (tests/fuzz): each libFuzzer target for a bounded time under
# ASan + UBSan, in build-fuzz; a crash, leak or timeout fails it.
echo "=== [fuzz] build + run"
mkdir -p build
scripts/fuzz.sh 2>&1 | tee build/fuzz-summary.txt
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
result[fuzz]=$(grep -E "^fuzz: [0-9]+ targets" build/fuzz-summary.txt | tail -1 | sed 's/^fuzz: //')
[ -n "${result[fuzz]}" ] || result[fuzz]="no summary"

# The dashboard: component tests, then end-to-end in Chromium against the
# plain build's controller and simulator (and two hosts on a PostgreSQL).
if [ "${result[plain]:-}" != "BUILD FAILED" ]; then
  echo "=== [dashboard] build + test"
  scripts/with-postgres.sh env MOOLAI_BIN_DIR="$root/build/bin" MOOLAI_REQUIRE_SIM=1 \
    MOOLAI_REQUIRE_PG=1 gui/test.sh 2>&1 | tee build/gui-summary.txt
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  result[dashboard]=$(grep -E "^gui: [0-9]+ passed" build/gui-summary.txt | tail -1)
  [ -n "${result[dashboard]}" ] || result[dashboard]="no summary"
fi

# The Docker bundle: image, compose stack, checks through the proxy.
if [ "${MOOLAI_SKIP_DOCKER:-0}" = 1 ]; then
  result[docker]="skipped (MOOLAI_SKIP_DOCKER=1)"
else
  echo "=== [docker] image + compose stack"
  mkdir -p build
  scripts/test-docker.sh 2>&1 | tee build/docker-summary.txt
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  result[docker]=$(grep -E "^docker: [0-9]+ passed" build/docker-summary.txt | tail -1 | sed 's/^docker: //')
  [ -n "${result[docker]}" ] || result[docker]="no summary"
fi

echo
echo "=== Summary"
for name in plain asan+ubsan api fuzz dashboard docker; do
  printf '%-11s %s\n' "$name:" "${result[$name]:-not run}"
done
[ $status -eq 0 ] && echo "ALL TESTS PASSED" || echo "SOME TESTS FAILED"
exit $status
