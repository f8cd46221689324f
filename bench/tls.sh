#!/usr/bin/env bash
# bench/tls.sh [--idle N] [--busy N] [--interval SEC] [--window SEC] [--rounds R]
#              [--no-build] [--build-dir DIR] [--no-docs]
# -- wss:// against ws:// on the WebSocket port, same run, same machine.
#
# Each round starts the controller twice on the same SQLite data (seeded as
# bench/lib.sh does: one real credential shared by the fleet), once plain and
# once with TLS on the WebSocket port only (MOOLAI_WS_TLS_CERT/KEY, a CA and
# a server certificate made here with the openssl CLI; REST stays plain for
# the health and metrics reads). The modes take turns, plain first.
# Against each:
#   idle: --idle orchestrators (default 2,000) connect with
#     moolai-orchestrator-sim (heartbeat every 30 s, no usage or metadata);
#     RSS per connection = (RSS with them registered - RSS before) / N.
#   busy: --busy orchestrators (default 500) send one i_am_alive every
#     --interval s (default 0.05, the simulator's least: 10,000 offered per
#     second); over a
#     --window s window (default 10, after 3 s warm-up): acks/s from the
#     controller's moolai_heartbeat_ack_seconds_count, and the controller's
#     CPU (utime + stime from /proc) per ack.
# The simulator is a real client of the library (wss:// verifies the
# certificate), so with TLS it pays its side of the encryption on the same
# 2 cores: the ratios are the claim, not the absolute figures.
#
# Writes $build_dir/tls-results/tls.json and, unless --no-docs, the "TLS"
# section of docs/benchmarks.md (between its tls:begin/tls:end marks).
# Targets (issue #14): CPU per ack with TLS <= 1.5x plain; <= 40 KiB RSS per
# idle TLS connection.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench_name=tls
# shellcheck source=bench/lib.sh
. bench/lib.sh

idle=2000
busy=500
interval=0.05
window=10
rounds=3
build=1
build_dir=build-bench
docs=1
command_line="bench/tls.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --idle) idle=$2; shift 2 ;;
    --busy) busy=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-docs) docs=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
load_average=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(measured_commit)
if [ "$build" -eq 1 ]; then
  build_bench_tools
  cmake --build "$build_dir" -j "$(nproc)" --target moolai-orchestrator-sim
fi
bin="$build_dir/bin"
results="$build_dir/tls-results"
mkdir -p "$results"
work=$(mktemp -d /tmp/moolai-bench-tls-XXXXXX)
controller_pid=
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  [ -n "$controller_pid" ] && stop_controller "$controller_pid"
  cp "$work"/*.log "$results/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A CA and a server certificate for 127.0.0.1 (EC P-256, as a deployer would
# make today).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=bench CA" -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
  -CAcreateserial -days 1 -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null

setup_controller sqlite "$work"
fleet=$((idle > busy ? idle : busy))
seed_fleet "$fleet" "$work/controller.log"
for i in $(seq 1 "$fleet"); do printf 'bench-%05d %s\n' "$i" "$fleet_token"; done >"$work/credentials"
base_env=("${controller_env[@]}")

metric() {  # name -> value (first sample), from the plain REST port
  curl -fsS -H "Authorization: Bearer $dev_token" "http://127.0.0.1:$rest_port/metrics" |
    awk -v n="$1" '$1 == n && v == "" { v = $2 } END { print v }'
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
wait_connections() {  # count deadline_s
  local deadline=$((SECONDS + $2))
  while [ "$(metric moolai_ws_connections)" != "$1" ]; do
    [ $SECONDS -lt $deadline ] || { log "not $1 connected after $2 s"; return 1; }
    sleep 0.2
  done
}
start_sim() {  # url count interval log
  local tls_args=()
  case "$1" in wss://*) tls_args=(--ca "$work/ca.pem") ;; esac
  "$bin/moolai-orchestrator-sim" --credentials "$work/credentials" --count "$2" --url "$1" \
    "${tls_args[@]}" --heartbeat-interval "$3" --usage-interval 0 --metadata-interval 0 \
    --ramp-rate 500 --stats-interval 0 --threads 1 >>"$4" 2>&1 &
  sim_pid=$!
}
stop_sim() {
  kill -INT "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
  sim_pid=
}

hz=$(getconf CLK_TCK)
measure() {  # mode round -> appends a JSON line to $results/rounds.jsonl
  local mode=$1 round=$2 url rss0 rss1 acks0 acks1 cpu0 cpu1 t0 t1
  controller_env=("${base_env[@]}")
  if [ "$mode" = tls ]; then
    controller_env+=(MOOLAI_WS_TLS_CERT="$work/server.pem" MOOLAI_WS_TLS_KEY="$work/server.key")
    url="wss://127.0.0.1:$ws_port/ws"
  else
    url="ws://127.0.0.1:$ws_port/ws"
  fi
  start_controller "$work/controller.log"
  rss0=$(rss_kib "$controller_pid")
  start_sim "$url" "$idle" 30 "$work/sim.log"
  wait_connections "$idle" 120
  sleep 2  # the last registers' frames and their storage round
  rss1=$(rss_kib "$controller_pid")
  stop_sim
  wait_connections 0 90  # TLS: a closed connection counts until its TLS shutdown ends (<= 5 s)

  start_sim "$url" "$busy" "$interval" "$work/sim.log"
  wait_connections "$busy" 60
  sleep 3  # warm-up
  acks0=$(metric moolai_heartbeat_ack_seconds_count)
  cpu0=$(cpu_ticks "$controller_pid")
  t0=$(date +%s.%N)
  sleep "$window"
  acks1=$(metric moolai_heartbeat_ack_seconds_count)
  cpu1=$(cpu_ticks "$controller_pid")
  t1=$(date +%s.%N)
  stop_sim
  stop_controller "$controller_pid"
  controller_pid=
  jq -nc --arg mode "$mode" --argjson round "$round" --argjson idle "$idle" \
    --argjson rss0 "$rss0" --argjson rss1 "$rss1" --argjson acks "$((acks1 - acks0))" \
    --argjson ticks "$((cpu1 - cpu0))" --argjson hz "$hz" \
    --argjson seconds "$(echo "$t1 - $t0" | bc -l)" \
    '{mode: $mode, round: $round, rss_per_conn_kib: (($rss1 - $rss0) / $idle),
      acks_per_s: ($acks / $seconds), cpu_pct: (100 * $ticks / $hz / $seconds),
      cpu_us_per_ack: (1e6 * $ticks / $hz / $acks)}' >>"$results/rounds.jsonl"
  log "$mode round $round: $(tail -1 "$results/rounds.jsonl")"
}

: >"$results/rounds.jsonl"
for r in $(seq 1 "$rounds"); do
  measure plain "$r"
  measure tls "$r"
done

write_settings "$results/settings.json" --arg idle "$idle" --arg busy "$busy" \
  --arg interval "$interval" --arg window "$window" --arg rounds "$rounds"
jq -s '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def of(m; k): map(select(.mode == m) | .[k]) | median;
  {rounds: .,
   plain: {rss_per_conn_kib: of("plain"; "rss_per_conn_kib"), acks_per_s: of("plain"; "acks_per_s"),
           cpu_pct: of("plain"; "cpu_pct"), cpu_us_per_ack: of("plain"; "cpu_us_per_ack")},
   tls: {rss_per_conn_kib: of("tls"; "rss_per_conn_kib"), acks_per_s: of("tls"; "acks_per_s"),
         cpu_pct: of("tls"; "cpu_pct"), cpu_us_per_ack: of("tls"; "cpu_us_per_ack")}}' \
  "$results/rounds.jsonl" >"$results/tls.json"

[ "$docs" -eq 1 ] || exit 0
section=$(mktemp)
jq -r --slurpfile s "$results/settings.json" '
  def f(x): (x * 10 | round) / 10;
  def ratio(a; b): ((a / b * 100 | round) / 100 | tostring) + "×";
  .plain as $p | .tls as $t | $s[0] as $s |
  "<!-- tls:begin (generated by bench/tls.sh; do not edit: run it again) -->",
  "## TLS (issue #14)", "",
  "| | |", "|---|---|",
  "| command | `\($s.command)` |", "| date | \($s.date) |", "| commit | `\($s.commit)` |",
  "| machine | \($s.machine) |", "| load average at start | \($s.load_average) |",
  "| build | \($s.build) |", "",
  "The WebSocket port with TLS (`wss://`, TLS 1.3, EC P-256 certificate) against plain (`ws://`), the controller restarted for each mode, modes taking turns, \($s.rounds) rounds, medians. Load: `moolai-orchestrator-sim` on the same 2 cores, with TLS doing its own side of the encryption too; other work on the machine shares them (see the load average).", "",
  "| metric | plain | TLS | TLS / plain | target | result |", "|---|--:|--:|--:|---|---|",
  "| RSS per idle connection (KiB), \($s.idle) registered | \(f($p.rss_per_conn_kib)) | \(f($t.rss_per_conn_kib)) | \(ratio($t.rss_per_conn_kib; $p.rss_per_conn_kib)) | TLS ≤ 40 KiB | **\(if $t.rss_per_conn_kib <= 40 then "PASS" else "FAIL" end)** |",
  "| acks/s, \($s.busy) orchestrators, one heartbeat each per \($s.interval) s | \($p.acks_per_s | round) | \($t.acks_per_s | round) | \(ratio($t.acks_per_s; $p.acks_per_s)) | | |",
  "| controller CPU (% of one core) | \(f($p.cpu_pct)) | \(f($t.cpu_pct)) | | | |",
  "| controller CPU per ack (µs) | \(f($p.cpu_us_per_ack)) | \(f($t.cpu_us_per_ack)) | \(ratio($t.cpu_us_per_ack; $p.cpu_us_per_ack)) | ≤ 1.5× plain | **\(if $t.cpu_us_per_ack <= 1.5 * $p.cpu_us_per_ack then "PASS" else "FAIL" end)** |",
  "", "Every round:", "",
  "| round | mode | RSS/conn (KiB) | acks/s | CPU % | CPU µs/ack |", "|--:|---|--:|--:|--:|--:|",
  (.rounds[] | "| \(.round) | \(.mode) | \(f(.rss_per_conn_kib)) | \(.acks_per_s | round) | \(f(.cpu_pct)) | \(f(.cpu_us_per_ack)) |"),
  "", "<!-- tls:end -->"' "$results/tls.json" >"$section"
replace_section docs/benchmarks.md "<!-- tls:begin" "<!-- tls:end -->" "$section"
rm -f "$section"
log "docs/benchmarks.md: TLS section written"
