#!/usr/bin/env bash
# bench/run.sh [--quick] [--no-build] -- the benchmark suite of issue #5.
#
# Builds the controller, the reference server and the load generator in
# Release (build-bench/), starts a throwaway PostgreSQL (scripts/with-postgres.sh),
# runs scenarios (a)-(f) against the reference server and the controller on
# SQLite and on PostgreSQL (bench/scenarios.sh), and regenerates
# docs/benchmarks.md from the measurements (keeping the section of
# bench/storm.sh, the reconnect storm). Raw results stay in
# build-bench/bench-results/.
#
#   --quick     a smaller fleet and shorter windows, for iteration (the
#               document says so); the full run takes about 15 minutes
#   --no-build  use what is already built in build-bench/
#
# Not part of scripts/test.sh or CI: it takes minutes and wants the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
command_line="bench/run.sh${*:+ $*}"
quick=0 build=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    *) echo "usage: bench/run.sh [--quick] [--no-build]" >&2; exit 2 ;;
  esac
done
build_dir=${MOOLAI_BENCH_BUILD_DIR:-$root/build-bench}
started=$(date +%s)
# What is measured is what is built now, so the commit is taken now.
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs/benchmarks.md' || echo ' (with uncommitted changes)')"

scripts/install-deps.sh --bench

if [ $build -eq 1 ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOOLAI_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build_dir" -j "$(nproc)" --target bench_tools
fi
bin=$build_dir/bin

if [ $quick -eq 1 ]; then
  export A_DURATION=4 A_WARMUP=2 A_ROUNDS=1 B_CONNECTIONS=2000 B_DURATION=10 C_DURATION=10
  export B_TOGGLES=20 E_REQUESTS=50 F_RUNS=3 PROFILE_SEC=4
fi
export A_CONNECTIONS=${A_CONNECTIONS:-1000} A_IN_FLIGHT=${A_IN_FLIGHT:-1} A_RAMP=${A_RAMP:-1000}
export A_WARMUP=${A_WARMUP:-3} A_DURATION=${A_DURATION:-10} A_ROUNDS=${A_ROUNDS:-5}
export B_CONNECTIONS=${B_CONNECTIONS:-19000} B_RAMP=${B_RAMP:-500} B_INTERVAL_MS=${B_INTERVAL_MS:-30000}
export B_WARMUP=${B_WARMUP:-12} B_DURATION=${B_DURATION:-60} B_TOGGLES=${B_TOGGLES:-100}
export C_CONNECTIONS=${C_CONNECTIONS:-1000} C_DURATION=${C_DURATION:-30}
export E_REQUESTS=${E_REQUESTS:-200} F_RUNS=${F_RUNS:-5} SEEDED=${SEEDED:-50000}
export CLIENT_THREADS=${CLIENT_THREADS:-1} PROFILE_SEC=${PROFILE_SEC:-8}

results=$build_dir/bench-results
rm -rf "$results"
mkdir -p "$results"
load_average=$(cut -d' ' -f1-3 /proc/loadavg)
scripts/with-postgres.sh bench/scenarios.sh "$bin" "$results"

cores=$(nproc)
jq -n \
  --arg mode "$([ $quick -eq 1 ] && echo quick || echo full)" \
  --arg command "$command_line" \
  --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --arg commit "$commit" \
  --arg cpu_model "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  --argjson cores "$cores" \
  --arg memory "$(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')" \
  --arg load_average "$load_average" \
  --argjson elapsed_sec "$(( $(date +%s) - started ))" \
  --arg doc_dir "$root/bench/doc" --arg baseline_dir "$root/bench/baseline" \
  --arg build "Release (-O3), $(c++ --version | head -1), build dir $(basename "$build_dir")" \
  --arg auth_mode_note "token mode (MOOLAI_ORCHESTRATOR_AUTH=token) in every scenario. One orchestrator is created through REST (POST /api/v1/internal/orchestrators/register, which returns its credential once); the other $((SEEDED - 1)) are inserted directly into the database with one SQL statement while the controller is stopped (PostgreSQL then runs ANALYZE on the table), all with that orchestrator's credential hash, so every connection registers with a real credential check. The load connects orchestrators bench-00001, bench-00002, ... of them." \
  --argjson server_threads "$cores" --argjson client_threads "$CLIENT_THREADS" \
  --argjson seeded "$SEEDED" --argjson profile_sec "$PROFILE_SEC" \
  --argjson a "{\"connections\": $A_CONNECTIONS, \"in_flight\": $A_IN_FLIGHT, \"ramp\": $A_RAMP, \"warmup\": $A_WARMUP, \"duration\": $A_DURATION, \"rounds\": $A_ROUNDS}" \
  --argjson b "{\"connections\": $B_CONNECTIONS, \"ramp\": $B_RAMP, \"interval_ms\": $B_INTERVAL_MS, \"warmup\": $B_WARMUP, \"duration\": $B_DURATION, \"toggles\": $B_TOGGLES}" \
  --argjson c "{\"connections\": $C_CONNECTIONS, \"duration\": $C_DURATION}" \
  --argjson e "{\"requests\": $E_REQUESTS}" --argjson f "{\"runs\": $F_RUNS}" \
  '$ARGS.named' >"$results/settings.json"

# The reconnect storm's section is bench/storm.sh's: kept as it is.
storm_section=$(mktemp)
awk '/<!-- storm:begin/ {p = 1} p {print} /<!-- storm:end/ {p = 0}' "$root/docs/benchmarks.md" \
  >"$storm_section" 2>/dev/null || true
"$bin/moolai-bench-load" report --results "$results" >"$root/docs/benchmarks.md"
if [ -s "$storm_section" ]; then
  { echo; cat "$storm_section"; } >>"$root/docs/benchmarks.md"
fi
rm -f "$storm_section"
echo "wrote docs/benchmarks.md ($(( $(date +%s) - started )) s); raw results in $results"
