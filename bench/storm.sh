#!/usr/bin/env bash
# bench/storm.sh [--connections N] [--backend sqlite|postgres|both] [--down-sec S]
#                [--settle S] [--no-build] [--build-dir DIR] [--no-docs]
# -- the reconnect storm of issue #13.
#
# Seeds N orchestrators (default 19,000) sharing one real credential, starts
# the controller, connects them (ramp 500/s, one heartbeat per 30 s: the
# sizes of bench/run.sh's scenario (b)), kill -9s the controller, starts it
# again on the same data after --down-sec (default 1 s), and measures how the
# fleet comes back: each connection reconnects with orchestrator_client's own
# full-jitter backoff (moolai-bench-load links it). All of it is done by
# `moolai-bench-load storm`, which starts the controller itself so it knows
# the moment of the kill; the controller's log is in the results directory.
#
# Writes build-bench/storm-results/{sqlite,postgres}.storm.json and, unless
# --no-docs, the "Reconnect storm" section of docs/benchmarks.md (between its
# storm:begin/storm:end marks; bench/run.sh keeps that section).
#
#   --backend     sqlite (default), postgres (scripts/with-postgres.sh), or both
#   --no-build    use what is built in the build directory
#   --build-dir   default build-bench (Release, like bench/run.sh)
#
# The load generator uses 2 io threads (CLIENT_THREADS overrides): on
# loopback the kernel's TCP handshake work runs in the connecting process,
# and with one thread, 19,000 reconnects kept that thread busy in connect()
# while the controller sat at 5-20 % CPU -- the generator, not the
# controller, set the pace (docs/reliability.md, "Reconnect storm").
#
# The machine's open-file limit matters: the controller raises its soft limit
# to the hard one, and so does the load generator (one process holds every
# connection; N + 64 must fit under the hard limit).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench_name=storm
# shellcheck source=bench/lib.sh
. bench/lib.sh

# Inside scripts/with-postgres.sh (or directly for SQLite): one backend.
if [ "${1:-}" = --run-backend ]; then
  backend=$2
  : "${STORM_BIN:?}" "${STORM_RESULTS:?}" "${STORM_CONNECTIONS:?}" "${STORM_DOWN:?}" "${STORM_SETTLE:?}"
  bin=$STORM_BIN
  work=$(mktemp -d "${TMPDIR:-/tmp}/moolai-storm.XXXXXX")
  controller_pid=
  trap '[ -z "$controller_pid" ] || stop_controller "$controller_pid"; rm -rf "$work"' EXIT
  setup_controller "$backend" "$work"
  log_file=$STORM_RESULTS/$backend.controller.log
  : >"$log_file"
  seed_fleet "$STORM_CONNECTIONS" "$log_file"
  log "$backend: $STORM_CONNECTIONS orchestrators connect, then kill -9 and restart"
  # The load generator starts (and kills, and restarts) the controller.
  "$bin/moolai-bench-load" storm --port "$ws_port" --rest-port "$rest_port" \
    --connections "$STORM_CONNECTIONS" --ramp "${STORM_RAMP:-500}" --open-loop 30000 \
    --token "$fleet_token" --threads "${CLIENT_THREADS:-2}" --warmup 10 \
    --down-sec "$STORM_DOWN" --settle "$STORM_SETTLE" --timeout 600 --log "$log_file" \
    -- env "${controller_env[@]}" "$bin/moolai-controller" >"$STORM_RESULTS/$backend.storm.json"
  log "$backend: done"
  exit 0
fi

connections=19000 backends=sqlite down=1 settle=30 build=1 docs=1
build_dir=${MOOLAI_BENCH_BUILD_DIR:-$root/build-bench}
command_line="bench/storm.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections=$2; shift 2 ;;
    --backend)
      case "$2" in
        sqlite | postgres) backends=$2 ;;
        both) backends="sqlite postgres" ;;
        *) echo "--backend: sqlite, postgres or both" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --down-sec) down=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --no-docs) docs=0; shift ;;
    *) sed -n '2,3p' "$0" >&2; exit 2 ;;
  esac
done

commit=$(measured_commit)
build_bench_tools
results=$build_dir/storm-results
mkdir -p "$results"
rm -f "$results"/*.storm.json
load_average=$(cut -d' ' -f1-3 /proc/loadavg)
export STORM_BIN=$build_dir/bin STORM_RESULTS=$results STORM_CONNECTIONS=$connections
export STORM_DOWN=$down STORM_SETTLE=$settle
for backend in $backends; do
  if [ "$backend" = postgres ]; then
    scripts/with-postgres.sh "$0" --run-backend postgres
  else
    "$0" --run-backend sqlite
  fi
done

write_settings "$results/settings.json"
"$build_dir/bin/moolai-bench-load" storm-report --results "$results" >"$results/storm.md"
if [ $docs -eq 1 ]; then
  replace_section docs/benchmarks.md '<!-- storm:begin' '<!-- storm:end' "$results/storm.md"
  log "wrote the storm section of docs/benchmarks.md"
fi
log "results in $results"
