#!/usr/bin/env bash
# bench/soak.sh [--minutes 30] [--orchestrators 10000] [--postgres]
#               [--usage-interval SEC] [--sample-sec 30] [--no-build] [--build-dir DIR]
#               [--write-docs]
# -- the soak run of issue #13.
#
# Starts the controller (SQLite by default; --postgres: a throwaway
# PostgreSQL from scripts/with-postgres.sh), connects N simulated
# orchestrators (a heartbeat every 30 s, a usage_report every --usage-interval
# s, default 60; reconnecting with orchestrator_client's full-jitter backoff),
# runs admin churn through REST (a round a second: overview, orchestrator,
# organization and message pages, costs, health; create and delete an
# organization and an orchestrator; independence on and off for a connected
# orchestrator; a recommendation created and accepted, which the orchestrator
# acks; a new login session every 10 rounds), and every --sample-sec samples
# the controller's RSS (/proc/PID/status VmRSS), open descriptors
# (/proc/PID/fd), threads, and the load generator's heartbeat ack latency.
#
# Writes build-bench/soak-results/soak.json (every sample), soak.md (the
# table and the verdict; the rule is in it), and with --write-docs replaces
# the backend's soak section of docs/reliability.md (SQLite between
# soak:begin/soak:end, PostgreSQL between soak-postgres:begin/…:end, so
# each backend's run stays next to the other's).
# The verdict leaves the first 25 % of the samples out as warm-up and judges
# the rest (the rule is printed with it; docs/reliability.md, "Soak run").
#
# The machine is shared: run it under `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench_name=soak
# shellcheck source=bench/lib.sh
. bench/lib.sh

if [ "${1:-}" = --run-backend ]; then
  backend=$2
  : "${SOAK_BIN:?}" "${SOAK_RESULTS:?}" "${SOAK_ORCHESTRATORS:?}" "${SOAK_MINUTES:?}"
  bin=$SOAK_BIN
  work=$(mktemp -d "${TMPDIR:-/tmp}/moolai-soak.XXXXXX")
  controller_pid=
  trap '[ -z "$controller_pid" ] || stop_controller "$controller_pid"; rm -rf "$work"' EXIT
  setup_controller "$backend" "$work"
  log_file=$SOAK_RESULTS/controller.log
  : >"$log_file"
  seed_fleet "$SOAK_ORCHESTRATORS" "$log_file"
  start_controller "$log_file"
  log "$backend: controller $controller_pid; $SOAK_ORCHESTRATORS orchestrators for $SOAK_MINUTES min"
  "$bin/moolai-bench-load" soak --port "$ws_port" --rest-port "$rest_port" \
    --server-pid "$controller_pid" --admin-user "$admin_user" --admin-password "$admin_password" \
    --connections "$SOAK_ORCHESTRATORS" --ramp "${SOAK_RAMP:-500}" --open-loop 30000 \
    --usage-interval-ms "$((SOAK_USAGE_INTERVAL * 1000))" --token "$fleet_token" \
    --minutes "$SOAK_MINUTES" --sample-sec "$SOAK_SAMPLE_SEC" \
    --samples-file "$SOAK_RESULTS/soak.samples.jsonl" >"$SOAK_RESULTS/soak.json"
  t0=$(date +%s.%N)
  kill -TERM "$controller_pid"
  status=0
  wait "$controller_pid" || status=$?
  controller_pid=
  log "$backend: the controller stopped (SIGTERM) in $(echo "$(date +%s.%N) - $t0" | bc) s, status $status"
  exit 0
fi

minutes=30 orchestrators=10000 backend=sqlite usage=60 sample=30 build=1 docs=0
build_dir=${MOOLAI_BENCH_BUILD_DIR:-$root/build-bench}
command_line="bench/soak.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --orchestrators) orchestrators=$2; shift 2 ;;
    --postgres) backend=postgres; shift ;;
    --usage-interval) usage=$2; shift 2 ;;
    --sample-sec) sample=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --write-docs) docs=1; shift ;;
    *) sed -n '2,4p' "$0" >&2; exit 2 ;;
  esac
done

commit=$(measured_commit)
build_bench_tools
results=$build_dir/soak-results
rm -rf "$results"
mkdir -p "$results"
load_average=$(cut -d' ' -f1-3 /proc/loadavg)
export SOAK_BIN=$build_dir/bin SOAK_RESULTS=$results SOAK_ORCHESTRATORS=$orchestrators
export SOAK_MINUTES=$minutes SOAK_USAGE_INTERVAL=$usage SOAK_SAMPLE_SEC=$sample
if [ "$backend" = postgres ]; then
  scripts/with-postgres.sh "$0" --run-backend postgres
  storage="PostgreSQL ($(pg_config --version 2>/dev/null || echo '?'), scripts/with-postgres.sh)"
else
  "$0" --run-backend sqlite
  storage="SQLite"
fi

write_settings "$results/settings.json" --arg storage "$storage"
mark=soak
[ "$backend" = sqlite ] || mark=soak-$backend
"$build_dir/bin/moolai-bench-load" soak-report --results "$results/soak.json" \
  --settings "$results/settings.json" | sed "s/^<!-- soak:/<!-- $mark:/" >"$results/soak.md"
verdict=$(jq -r 'if .verdict.pass then "PASS" else "FAIL" end' "$results/soak.json")
if [ $docs -eq 1 ]; then
  replace_section docs/reliability.md "<!-- $mark:begin" "<!-- $mark:end" "$results/soak.md"
  log "wrote the $backend soak section of docs/reliability.md"
fi
log "verdict: $verdict; results in $results (soak.md, soak.json, controller.log)"
