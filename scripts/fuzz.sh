#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan + UBSan, in
# build-fuzz) and runs each for a bounded time from its committed seed
# corpus (tests/fuzz/corpus/<target>); what a run learns is kept in
# build-fuzz/corpus/<target> for the next. Any crash, leak or timeout fails
# the run and names its reproducer. Ends with one summary line:
#   fuzz: N targets, M executions, K crashes
# Usage: scripts/fuzz.sh [seconds-per-target]   (default 20)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
dir=build-fuzz
targets=(ws_frame rest_body config_file json_schema plugin_descriptor)

echo "=== [fuzz] configure + build ($dir)"
if ! CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
       -DMOOLAI_FUZZ=ON -DMOOLAI_BUILD_TESTS=OFF -DMOOLAI_BUILD_BENCH=OFF >/dev/null ||
   ! cmake --build "$dir" -j "$(nproc)" --target moolai_fuzz_targets; then
  echo "fuzz: build failed"
  exit 1
fi

mkdir -p "$dir/logs" "$dir/artifacts"
export UBSAN_OPTIONS=print_stacktrace=1
executions=0 crashes=0
for t in "${targets[@]}"; do
  log="$dir/logs/$t.log"
  mkdir -p "$dir/corpus/$t"
  echo "=== [fuzz] $t for ${seconds} s"
  "$dir/fuzz/fuzz_$t" "$dir/corpus/$t" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
    -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$t-" >"$log" 2>&1
  rc=$?
  n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  executions=$((executions + ${n:-0}))
  if [ "$rc" -eq 0 ]; then
    echo "$t: ${n:-0} executions, $(ls "$dir/corpus/$t" | wc -l) inputs in its corpus"
  else
    crashes=$((crashes + 1))
    grep -E "ERROR:|runtime error|ws_frame:|rest_body:|SUMMARY" "$log" | head -5
    reproducer=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -1)
    echo "$t: FAILED (exit $rc) after ${n:-?} executions; log $log"
    [ -n "$reproducer" ] && echo "$t: reproducer $reproducer (rerun: $dir/fuzz/fuzz_$t $reproducer)"
  fi
done

echo "fuzz: ${#targets[@]} targets, $executions executions, $crashes crashes"
[ "$crashes" -eq 0 ]
