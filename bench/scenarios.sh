#!/usr/bin/env bash
# bench/scenarios.sh BIN_DIR RESULTS_DIR -- the benchmark's scenarios (a)-(f),
# run by bench/run.sh inside scripts/with-postgres.sh (DATABASE_* set).
# Every measurement is one JSON file in RESULTS_DIR, written by
# moolai-bench-load; nothing here computes a number that is reported.
#
# Sizes come from the environment (bench/run.sh sets them; --quick smaller).
set -euo pipefail

bin=$1
results=$2
load=$bin/moolai-bench-load
: "${A_CONNECTIONS:=1000}" "${A_IN_FLIGHT:=1}" "${A_RAMP:=1000}" "${A_WARMUP:=3}"
: "${A_DURATION:=10}" "${A_ROUNDS:=5}"
: "${B_CONNECTIONS:=19000}" "${B_RAMP:=500}" "${B_INTERVAL_MS:=30000}" "${B_WARMUP:=12}"
: "${B_DURATION:=60}" "${B_TOGGLES:=100}"
: "${C_CONNECTIONS:=1000}" "${C_DURATION:=30}"
: "${E_REQUESTS:=200}" "${F_RUNS:=5}" "${SEEDED:=50000}" "${CLIENT_THREADS:=1}"
: "${PROFILE_SEC:=8}"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Ports below the ephemeral range (32768+), so the load generator's many
# outgoing connections never collide with them.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    case "$taken" in *" $p "*) continue ;; esac
    port_in_use "$p" || { taken="$taken$p "; echo "$p"; return; }
  done
}

started_pids=()
cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

dev_token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -dc '0-9a-f')
work=$(mktemp -d "${TMPDIR:-/tmp}/moolai-bench.XXXXXX")
trap 'cleanup; rm -rf "$work"' EXIT

declare -A rest_port ws_port
for backend in sqlite postgres; do
  rest_port[$backend]=$(free_port)
  ws_port[$backend]=$(free_port)
done
ref_port=$(free_port)
mkdir -p "$work/sqlite-data"

# The environment of one backend's controller, as `env` arguments.
controller_env() {
  local backend=$1
  local common=(CONTROLLER_HOST=127.0.0.1 CONTROLLER_PORT="${rest_port[$backend]}"
    CONTROLLER_WS_PORT="${ws_port[$backend]}" DEV_BEARER_TOKEN="$dev_token"
    MOOLAI_ORCHESTRATOR_AUTH=token MOOLAI_SUPERADMIN_USERNAME= MOOLAI_SUPERADMIN_PASSWORD=
    MOOLAI_REST_RATE_PER_ADDRESS=0)
  if [ "$backend" = sqlite ]; then
    echo "${common[@]}" DATABASE_HOST= MOOLAI_DATA_DIR="$work/sqlite-data"
  else
    echo "${common[@]}"
  fi
}

sql() {  # backend statement -> rows
  if [ "$1" = sqlite ]; then
    sqlite3 "$work/sqlite-data/moolai.db" "$2"
  else
    PGPASSWORD=$DATABASE_PASSWORD psql -qAt -h "$DATABASE_HOST" -p "$DATABASE_PORT" \
      -U "$DATABASE_USER" -d "$DATABASE_NAME" -c "$2"
  fi
}

wait_health() {  # port pid
  local i
  for i in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$1/api/v1/controller/health" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start_controller() {  # backend -> sets controller_pid
  local backend=$1
  # shellcheck disable=SC2046
  env $(controller_env "$backend") "$bin/moolai-controller" >>"$results/$backend.controller.log" 2>&1 &
  controller_pid=$!
  started_pids+=("$controller_pid")
  wait_health "${rest_port[$backend]}" "$controller_pid" ||
    { log "$backend controller did not become ready; see $results/$backend.controller.log"; exit 1; }
}

stop_controller() {
  kill -TERM "$1"
  wait "$1" || true
}

startup_time() {  # backend runs name
  local backend=$1
  # shellcheck disable=SC2046
  env $(controller_env "$backend") "$load" startup --port "${rest_port[$backend]}" --runs "$2" \
    --log "$results/$backend.controller.log" -- "$bin/moolai-controller" >"$results/$backend.$3.json"
}

# (f) and the stored fleet: schema, empty start-up, one orchestrator made
# through REST (its credential is the fleet's), the rest inserted with SQL,
# start-up with the full table.
prepare_backend() {
  local backend=$1
  log "$backend: first start (creates the schema), then $F_RUNS starts with an empty database"
  startup_time "$backend" 1 f_first
  startup_time "$backend" "$F_RUNS" f_empty

  start_controller "$backend"
  local reply
  reply=$(curl -fsS -H "Authorization: Bearer $dev_token" -H 'Content-Type: application/json' \
    -d '{"orchestrator_id":"bench-template","organization_id":"bench"}' \
    "http://127.0.0.1:${rest_port[$backend]}/api/v1/internal/orchestrators/register")
  fleet_token=$(printf '%s' "$reply" | jq -r .data.token)
  stop_controller "$controller_pid"

  local n=$((SEEDED - 1)) t0 t1
  log "$backend: inserting $n orchestrators with SQL (same credential as bench-template)"
  t0=$(date +%s.%N)
  if [ "$backend" = sqlite ]; then
    sql sqlite "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
      INSERT INTO orchestrator_instances (orchestrator_id, organization_id, name, credential_hash)
      SELECT printf('bench-%05d', i), 'bench', printf('bench-%05d', i),
        (SELECT credential_hash FROM orchestrator_instances WHERE orchestrator_id = 'bench-template')
      FROM n"
  else
    sql postgres "INSERT INTO orchestrator_instances (orchestrator_id, organization_id, name, credential_hash)
      SELECT 'bench-' || lpad(i::text, 5, '0'), 'bench', 'bench-' || lpad(i::text, 5, '0'),
        (SELECT credential_hash FROM orchestrator_instances WHERE orchestrator_id = 'bench-template')
      FROM generate_series(1, $n) AS i; ANALYZE orchestrator_instances"
  fi
  t1=$(date +%s.%N)
  echo "{\"seconds\": $(printf %.3f "$(echo "$t1 - $t0" | bc)"), \"stored\": $(sql "$backend" 'SELECT COUNT(*) FROM orchestrator_instances')}" \
    >"$results/$backend.seed.json"
  log "$backend: $F_RUNS starts with $SEEDED stored"
  startup_time "$backend" "$F_RUNS" f_50k
  printf '%s' "$fleet_token" >"$work/$backend.token"
}

pg_probe="PGPASSWORD=$DATABASE_PASSWORD psql -qAt -h $DATABASE_HOST -p $DATABASE_PORT -U $DATABASE_USER -d $DATABASE_NAME -c \"SELECT json_build_object('xact_commit', xact_commit, 'tup_updated', tup_updated) FROM pg_stat_database WHERE datname = current_database()\""

ws_load() {  # target port pid out extra-args...
  local target=$1 port=$2 pid=$3 out=$4
  shift 4
  local args=(ws --port "$port" --server-pid "$pid" --threads "$CLIENT_THREADS")
  if [ "$target" != reference ]; then
    args+=(--token "$(cat "$work/$target.token")" --rest-port "${rest_port[$target]}"
      --bearer "$dev_token")
    [ "$target" = postgres ] && args+=(--probe "$pg_probe")
  fi
  "$load" "${args[@]}" "$@" >"$out"
}

for backend in sqlite postgres; do prepare_backend "$backend"; done

log "starting the reference server and both controllers"
"$bin/moolai-bench-reference" --port "$ref_port" >"$results/reference.log" 2>&1 &
ref_pid=$!
started_pids+=("$ref_pid")
declare -A pid_of
pid_of[reference]=$ref_pid
start_controller sqlite
pid_of[sqlite]=$controller_pid
start_controller postgres
pid_of[postgres]=$controller_pid
declare -A port_of=([reference]=$ref_port [sqlite]=${ws_port[sqlite]} [postgres]=${ws_port[postgres]})

page_requests() {  # backend out
  "$load" http --port "${rest_port[$1]}" --bearer "$dev_token" \
    --target '/api/v1/controller/orchestrators?page={page}&page_size=50' \
    --pages $((SEEDED / 50)) --requests "$E_REQUESTS" >"$2"
}
# PostgreSQL is measured twice: right after the bulk insert, when no page of
# the table is marked all-visible yet (every row read is checked in the heap),
# and after the VACUUM that autovacuum runs by itself soon after such an
# insert -- the state a stored fleet lives in. The target is read from the
# second; the first is shown beside it.
for backend in sqlite postgres; do
  if [ "$backend" = postgres ]; then
    log "(e) $backend: $E_REQUESTS page requests before the first VACUUM"
    page_requests "$backend" "$results/$backend.e_fresh.json"
    sql postgres "VACUUM ANALYZE orchestrator_instances"
  fi
  log "(e) $backend: $E_REQUESTS page requests"
  page_requests "$backend" "$results/$backend.e.json"
done

# (a) in rounds, the three servers taking turns, so a change in the
# machine's other load hits all three alike.
for round in $(seq 1 "$A_ROUNDS"); do
  for target in reference sqlite postgres; do
    log "(a) round $round/$A_ROUNDS: $target"
    ws_load "$target" "${port_of[$target]}" "${pid_of[$target]}" "$results/$target.a.$round.json" \
      --connections "$A_CONNECTIONS" --ramp "$A_RAMP" --closed-loop "$A_IN_FLIGHT" \
      --warmup "$A_WARMUP" --duration "$A_DURATION"
  done
done

# Where the CPU goes: perf samples of the whole server process while it
# carries the load of (a); the report sorts the symbols into categories.
if [ "$PROFILE_SEC" != 0 ] && command -v perf >/dev/null; then
  for target in reference postgres; do
    log "profile: $target under the load of (a), ${PROFILE_SEC}s of perf record"
    ws_load "$target" "${port_of[$target]}" "${pid_of[$target]}" "$results/profile.$target.load.json" \
      --connections "$A_CONNECTIONS" --ramp "$A_RAMP" --closed-loop "$A_IN_FLIGHT" \
      --warmup 3 --duration "$PROFILE_SEC" &
    load_pid=$!
    sleep 4.5  # the ramp (1 s), the settling second, most of the warm-up
    perf record -q -F 499 -p "${pid_of[$target]}" -o "$work/perf.data" -- sleep "$PROFILE_SEC" \
      >/dev/null 2>&1 || true
    wait "$load_pid" || true
    perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
      grep -v '^#' | grep -v '^$' | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/[[:space:]]*$//' \
      >"$results/profile.$target.txt" || true
  done
fi

# (c) at the small fleet: the heartbeat rate of (b), a 1,000-orchestrator fleet.
for target in sqlite postgres; do
  log "(c) $target: $C_CONNECTIONS orchestrators, one heartbeat per $((B_INTERVAL_MS / 1000)) s"
  ws_load "$target" "${port_of[$target]}" "${pid_of[$target]}" "$results/$target.c.json" \
    --connections "$C_CONNECTIONS" --ramp "$B_RAMP" --open-loop "$B_INTERVAL_MS" \
    --warmup "$B_WARMUP" --duration "$C_DURATION"
done

for target in reference sqlite postgres; do
  log "(b) $target: $B_CONNECTIONS orchestrators, ramp $B_RAMP/s, one heartbeat per $((B_INTERVAL_MS / 1000)) s"
  extra=()
  live_pages=
  if [ "$target" != reference ]; then
    extra=(--toggles "$B_TOGGLES")
    # (e) again while this fleet is connected and heartbeating: its batched
    # updates keep PostgreSQL's pages from staying all-visible. Started a few
    # seconds into the measured window (the nominal ramp plus the warm-up).
    (sleep $((B_CONNECTIONS / B_RAMP + B_WARMUP + 5)) &&
      page_requests "$target" "$results/$target.e_live.json") &
    live_pages=$!
  fi
  ws_load "$target" "${port_of[$target]}" "${pid_of[$target]}" "$results/$target.b.json" \
    --connections "$B_CONNECTIONS" --ramp "$B_RAMP" --open-loop "$B_INTERVAL_MS" \
    --warmup "$B_WARMUP" --duration "$B_DURATION" --settle-timeout 300 "${extra[@]}"
  [ -z "$live_pages" ] || wait "$live_pages" || log "(e) during (b) failed for $target"
done
log "done"
