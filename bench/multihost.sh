#!/usr/bin/env bash
# bench/multihost.sh [--hosts H] [--per-host N] [--interval SEC] [--ramp PER_SEC]
#                    [--warmup SEC] [--duration SEC] [--toggles T]
#                    [--register-deadline SEC] [--no-build] [--build-dir DIR] [--no-docs]
# -- several controller hosts on one PostgreSQL, against one host alone, in
# the same run on the same machine (issue #15).
#
# Runs inside scripts/with-postgres.sh (it starts one itself when
# DATABASE_HOST is unset). Seeds H x N orchestrators with SQL (bench/lib.sh:
# one real credential shared by the fleet), then:
#   single: one host; N orchestrators (moolai-bench-load ws, open loop, one
#     heartbeat per --interval s) over a --duration s window: ack latency,
#     RSS per connection, PostgreSQL write transactions per second (the
#     transaction id counter, which only writes advance) and all commits
#     (pg_stat_database.xact_commit), and --toggles same-host independence
#     toggles: PUT on the host -> stop_monitoring at the orchestrator.
#   multi: H hosts at once (each its own data dir and MOOLAI_HOST_ID), one
#     load generator per host with its own N orchestrators: ack latency and
#     RSS per connection per host, write transactions per second, and
#     --toggles cross-host toggles: PUT on host 2 -> stop_monitoring at an
#     orchestrator connected to host 1 (LISTEN/NOTIFY between them).
# The load generators share the 2 cores with the hosts and PostgreSQL: the
# ratios against the single host are the claim, not the absolute figures.
#
# --register-deadline sets the hosts' MOOLAI_REGISTER_DEADLINE_SEC (default:
# theirs, 10 s): with every load generator ramping on the same 2 cores, a
# register can wait longer than that for a core, which is the ramp's limit
# on this machine, not the hosts'.
#
# Writes $build_dir/multihost-results/{single,host-*}.json, summary.json
# and, unless --no-docs, the "Several hosts" section of docs/benchmarks.md
# (between its multihost:begin/multihost:end marks).
# Targets (issue #15): cross-host toggle -> stop_monitoring p99 <= 200 ms,
# same-host <= 50 ms; ack p99 <= 20 ms on every host; no host above 1.2x the
# single host's RSS per connection; write transactions per second <= 1 per
# host per second plus status changes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${DATABASE_HOST:-}" ]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi
bench_name=multihost
# shellcheck source=bench/lib.sh
. bench/lib.sh

hosts=5
per_host=19000
interval=30
ramp=500
warmup=45  # one heartbeat interval past the ramp: first heartbeats turn orchestrators active (status changes)
duration=30
toggles=40
register_deadline=
build=1
build_dir=build-bench
docs=1
command_line="bench/multihost.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) hosts=$2; shift 2 ;;
    --per-host) per_host=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --ramp) ramp=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --toggles) toggles=$2; shift 2 ;;
    --register-deadline) register_deadline=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-docs) docs=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$hosts" -ge 2 ] || { echo "--hosts must be at least 2" >&2; exit 2; }
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
load_average=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(measured_commit)
build_bench_tools
bin="$build_dir/bin"
load="$bin/moolai-bench-load"
results="$build_dir/multihost-results"
rm -rf "$results"
mkdir -p "$results"
work=$(mktemp -d /tmp/moolai-bench-multihost-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_controller "$p"; done
  cp "$work"/*.log "$results/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

setup_controller postgres "$work"
controller_env+=(MOOLAI_DATA_DIR="$work/seed")
seed_fleet $((hosts * per_host)) "$work/seed.log"
base_env=("${controller_env[@]}")
# Counters around the window: commits, write transactions (the transaction
# id counter), rollbacks, PostgreSQL's own autovacuum and autoanalyze runs
# (an ANALYZE takes a transaction id too), and the rows written per table.
pg_probe="PGPASSWORD=$DATABASE_PASSWORD psql -qAt -h $DATABASE_HOST -p $DATABASE_PORT -U $DATABASE_USER -d $DATABASE_NAME -c \"SELECT json_build_object('xact_commit', d.xact_commit, 'xact_rollback', d.xact_rollback, 'write_xacts', pg_snapshot_xmax(pg_current_snapshot())::text::bigint, 'autoanalyze', (SELECT sum(autoanalyze_count) FROM pg_stat_all_tables), 'autovacuum', (SELECT sum(autovacuum_count) FROM pg_stat_all_tables))::jsonb || COALESCE((SELECT json_object_agg('rows_' || relname, n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables)::jsonb, '{}') FROM pg_stat_database d WHERE d.datname = current_database()\""

declare -a host_rest host_ws host_pid
start_host() {  # index -> host_rest[i], host_ws[i], host_pid[i]
  local i=$1
  host_rest[$i]=$(free_port)
  host_ws[$i]=$(free_port)
  mkdir -p "$work/host-$i"
  controller_env=("${base_env[@]}" CONTROLLER_PORT="${host_rest[$i]}"
    CONTROLLER_WS_PORT="${host_ws[$i]}" MOOLAI_HOST_ID="bench-host-$i"
    MOOLAI_DATA_DIR="$work/host-$i" HEARTBEAT_INTERVAL_SEC="$interval")
  [ -z "$register_deadline" ] ||
    controller_env+=(MOOLAI_REGISTER_DEADLINE_SEC="$register_deadline")
  rest_port=${host_rest[$i]}
  start_controller "$work/host-$i.log"
  host_pid[$i]=$controller_pid
  pids+=("$controller_pid")
}
stop_hosts() {
  local p
  for p in "${pids[@]}"; do stop_controller "$p"; done
  pids=()
}
load_args() {  # host-index first-orchestrator-index rest-index
  printf '%s\n' ws --port "${host_ws[$1]}" --server-pid "${host_pid[$1]}" --threads 1 \
    --token "$fleet_token" --first-index "$2" --connections "$per_host" --ramp "$ramp" \
    --open-loop $((interval * 1000)) --warmup "$warmup" --duration "$duration" \
    --settle-timeout 600 --rest-port "${host_rest[$3]}" --metrics-port "${host_rest[$1]}" \
    --bearer "$dev_token" --linger 10
  # Several generators: every window starts after every ramp (and the
  # warm-up after the last), so none holds another fleet's first heartbeats.
  [ -z "${barrier:-}" ] || printf '%s\n' --barrier "$barrier" --barrier-count "$hosts"
}

log "single: 1 host, $per_host orchestrators, one heartbeat per $interval s"
start_host 1
mapfile -t args < <(load_args 1 1 1)
"$load" "${args[@]}" --toggles "$toggles" --probe "$pg_probe" >"$results/single.json"
stop_hosts

log "multi: $hosts hosts x $per_host orchestrators on one PostgreSQL"
barrier="$work/barrier"
mkdir -p "$barrier"
for i in $(seq 1 "$hosts"); do start_host "$i"; done
load_pids=()
for i in $(seq 1 "$hosts"); do
  first=$(((i - 1) * per_host + 1))
  if [ "$i" -eq 1 ]; then
    # Host 1's orchestrators are toggled through host 2's REST port.
    mapfile -t args < <(load_args 1 "$first" 2)
    "$load" "${args[@]}" --toggles "$toggles" --probe "$pg_probe" >"$results/host-1.json" &
  else
    mapfile -t args < <(load_args "$i" "$first" "$i")
    "$load" "${args[@]}" >"$results/host-$i.json" &
  fi
  load_pids+=($!)
done
for p in "${load_pids[@]}"; do wait "$p"; done
stop_hosts

jq -n --slurpfile single "$results/single.json" \
  --argjson hosts "$hosts" --argjson per_host "$per_host" --argjson interval "$interval" \
  --arg machine "$(machine_line)" --arg load "$load_average" --arg commit "$commit" \
  --arg command "$command_line" \
  "$(cat <<'JQ'
  [inputs] as $multi
  | ($single[0]) as $s
  | {
      command: $command, commit: $commit, machine: $machine, load_average: $load,
      hosts: $hosts, per_host: $per_host, interval_sec: $interval,
      single: {
        established: $s.established, ack_p99_ms: ($s.latency.p99_ms),
        rss_kb_per_connection: $s.server.rss_per_connection_kb,
        commits_per_sec: $s.probe.rates.xact_commit_per_sec,
        writes_per_sec: $s.probe.rates.write_xacts_per_sec,
        toggle_p50_ms: ($s.toggles.stop_monitoring.p50_ms),
        toggle_p99_ms: ($s.toggles.stop_monitoring.p99_ms),
        toggles_missed: $s.toggles.missed
      },
      multi: {
        established: ([$multi[].established] | add),
        per_host: [$multi[] | {established, ack_p99_ms: .latency.p99_ms,
                               rss_kb_per_connection: .server.rss_per_connection_kb,
                               rss_ratio: (.server.rss_per_connection_kb / $s.server.rss_per_connection_kb),
                               ramp_sec, retries,
                               to_active: (.metrics.after["moolai_status_changes_total{to=\"active\"}"] - .metrics.before["moolai_status_changes_total{to=\"active\"}"]),
                               to_inactive: (.metrics.after["moolai_status_changes_total{to=\"inactive\"}"] - .metrics.before["moolai_status_changes_total{to=\"inactive\"}"]),
                               resyncs: (.metrics.after.moolai_cluster_resyncs_total - .metrics.before.moolai_cluster_resyncs_total),
                               handshake_timeouts_since_start: .metrics.after["moolai_ws_handshake_failures_total{reason=\"timeout\"}"],
                               handshake_errors_since_start: .metrics.after["moolai_ws_handshake_failures_total{reason=\"error\"}"]}],
        status_changes_in_window: {
          to_active: ([$multi[] | .metrics.after["moolai_status_changes_total{to=\"active\"}"] - .metrics.before["moolai_status_changes_total{to=\"active\"}"]] | add),
          to_inactive: ([$multi[] | .metrics.after["moolai_status_changes_total{to=\"inactive\"}"] - .metrics.before["moolai_status_changes_total{to=\"inactive\"}"]] | add)
        },
        orchestrator_rows_written_per_sec: $multi[0].probe.rates.rows_orchestrator_instances_per_sec,
        commits_per_sec: $multi[0].probe.rates.xact_commit_per_sec,
        writes_per_sec: $multi[0].probe.rates.write_xacts_per_sec,
        writes_per_host_per_sec: ($multi[0].probe.rates.write_xacts_per_sec / $hosts),
        cross_host_toggle_p50_ms: ($multi[0].toggles.stop_monitoring.p50_ms),
        cross_host_toggle_p99_ms: ($multi[0].toggles.stop_monitoring.p99_ms),
        toggles_missed: $multi[0].toggles.missed
      }
    }
JQ
)" "$results"/host-*.json >"$results/summary.json"
cat "$results/summary.json"

[ "$docs" -eq 1 ] || exit 0
section="$results/section.md"
jq -r '
  def ms: (. * 10 | round / 10 | tostring) + " ms";
  "<!-- multihost:begin (generated by bench/multihost.sh; do not edit: run it again) -->\n" +
  "## Several hosts on one PostgreSQL\n\n" +
  "`" + .command + "` at " + .commit + ", " + .machine + "; load average before: " + .load_average + ".\n" +
  "\(.hosts) hosts x \(.per_host) orchestrators (\(.multi.established) connected), one heartbeat per \(.interval_sec) s, " +
  "against one host with \(.per_host) in the same run. The load generators share the cores with the hosts and PostgreSQL.\n\n" +
  "| | one host | \(.hosts) hosts | target |\n|---|---|---|---|\n" +
  "| ack p99 (worst host) | " + (.single.ack_p99_ms | ms) + " | " + ([.multi.per_host[].ack_p99_ms] | max | ms) + " | <= 20 ms |\n" +
  "| RSS per connection (worst host) | \(.single.rss_kb_per_connection | round) KiB | \([.multi.per_host[].rss_kb_per_connection] | max | round) KiB (\([.multi.per_host[].rss_ratio] | max * 100 | round / 100)x) | <= 1.2x |\n" +
  "| PostgreSQL write transactions per second | \(.single.writes_per_sec * 100 | round / 100) | \(.multi.writes_per_sec * 100 | round / 100) (\(.multi.writes_per_host_per_sec * 100 | round / 100) per host) | <= 1 per host + status changes |\n" +
  "| all commits per second (reads too) | \(.single.commits_per_sec * 10 | round / 10) | \(.multi.commits_per_sec * 10 | round / 10) | |\n" +
  "| toggle -> stop_monitoring p50 / p99 | same host: " + (.single.toggle_p50_ms | ms) + " / " + (.single.toggle_p99_ms | ms) +
  " | across hosts: " + (.multi.cross_host_toggle_p50_ms | ms) + " / " + (.multi.cross_host_toggle_p99_ms | ms) + " | <= 50 ms / <= 200 ms |\n\n" +
  "Status changes the hosts decided inside their windows (which start together, after every ramp): \(.multi.status_changes_in_window.to_active) to active, \(.multi.status_changes_in_window.to_inactive) to inactive; orchestrator rows written: \(.multi.orchestrator_rows_written_per_sec * 10 | round / 10) per second.\n\n" +
  "Per host: " + ([.multi.per_host | to_entries[] | "host \(.key + 1): \(.value.established) connected (ramp \(.value.ramp_sec | round) s, \(.value.retries) upgrades retried, \(.value.handshake_timeouts_since_start) handshake timeouts on the host), ack p99 " + (.value.ack_p99_ms | ms) + ", \(.value.rss_kb_per_connection | round) KiB per connection, \(.value.to_active) / \(.value.to_inactive) status changes to active / inactive"] | join("; ")) + ".\n\n" +
  "<!-- multihost:end -->"
' "$results/summary.json" >"$section"
replace_section docs/benchmarks.md "<!-- multihost:begin" "<!-- multihost:end -->" "$section"
log "docs/benchmarks.md: the Several hosts section rewritten"
