# bench/lib.sh -- shell helpers of bench/storm.sh and bench/soak.sh (sourced).
# They start the controller on loopback with a fresh data directory (or the
# PostgreSQL of scripts/with-postgres.sh, DATABASE_* set) and seed a fleet of
# orchestrators that share one real credential, as bench/scenarios.sh does.

log() { printf '[%s %s] %s\n' "${bench_name:-bench}" "$(date +%H:%M:%S)" "$*" >&2; }

# Ports below the ephemeral range (32768+), so the load generator's many
# outgoing connections never collide with them.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken_ports=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    case "$taken_ports" in *" $p "*) continue ;; esac
    port_in_use "$p" || { taken_ports="$taken_ports$p "; echo "$p"; return; }
  done
}

# The machine, as the benchmark documents state it.
machine_line() {
  printf '%s, %s cores; memory: %s' \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" "$(nproc)" \
    "$(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
}

# setup_controller BACKEND WORK_DIR: sets rest_port, ws_port, dev_token,
# admin_user, admin_password and controller_env (an array for `env`).
setup_controller() {
  backend=$1
  work=$2
  rest_port=$(free_port)
  ws_port=$(free_port)
  dev_token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -dc '0-9a-f')
  admin_user=bench-admin
  admin_password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  controller_env=(CONTROLLER_HOST=127.0.0.1 CONTROLLER_PORT="$rest_port"
    CONTROLLER_WS_PORT="$ws_port" DEV_BEARER_TOKEN="$dev_token"
    MOOLAI_ORCHESTRATOR_AUTH=token MOOLAI_SUPERADMIN_USERNAME="$admin_user"
    MOOLAI_SUPERADMIN_PASSWORD="$admin_password"
    MOOLAI_REST_RATE_PER_ADDRESS=0)  # the load comes from one address: measure the server, not its limit
  if [ "$backend" = sqlite ]; then
    mkdir -p "$work/sqlite-data"
    controller_env+=(DATABASE_HOST= MOOLAI_DATA_DIR="$work/sqlite-data")
  fi
}

sql() {  # statement -> rows, on the backend of setup_controller
  if [ "$backend" = sqlite ]; then
    sqlite3 "$work/sqlite-data/moolai.db" "$1"
  else
    PGPASSWORD=$DATABASE_PASSWORD psql -qAt -h "$DATABASE_HOST" -p "$DATABASE_PORT" \
      -U "$DATABASE_USER" -d "$DATABASE_NAME" -c "$1"
  fi
}

wait_health() {  # pid
  local i
  for i in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$rest_port/api/v1/controller/health" >/dev/null 2>&1 && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_controller LOG -> controller_pid (the caller's trap stops it).
start_controller() {
  env "${controller_env[@]}" "$bin/moolai-controller" >>"$1" 2>&1 &
  controller_pid=$!
  wait_health "$controller_pid" || { log "the controller did not become ready; see $1"; exit 1; }
}

stop_controller() {  # pid
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# seed_fleet N LOG -> fleet_token: the schema, one orchestrator made through
# REST (its credential is the fleet's), bench-00001 ... bench-N with SQL.
seed_fleet() {
  local n=$1 reply
  start_controller "$2"
  reply=$(curl -fsS -H "Authorization: Bearer $dev_token" -H 'Content-Type: application/json' \
    -d '{"orchestrator_id":"bench-template","organization_id":"bench"}' \
    "http://127.0.0.1:$rest_port/api/v1/internal/orchestrators/register")
  fleet_token=$(printf '%s' "$reply" | jq -r .data.token)
  stop_controller "$controller_pid"
  controller_pid=
  log "$backend: inserting $n orchestrators with SQL (same credential as bench-template)"
  if [ "$backend" = sqlite ]; then
    sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
      INSERT INTO orchestrator_instances (orchestrator_id, organization_id, name, credential_hash)
      SELECT printf('bench-%05d', i), 'bench', printf('bench-%05d', i),
        (SELECT credential_hash FROM orchestrator_instances WHERE orchestrator_id = 'bench-template')
      FROM n"
  else
    sql "INSERT INTO orchestrator_instances (orchestrator_id, organization_id, name, credential_hash)
      SELECT 'bench-' || lpad(i::text, 5, '0'), 'bench', 'bench-' || lpad(i::text, 5, '0'),
        (SELECT credential_hash FROM orchestrator_instances WHERE orchestrator_id = 'bench-template')
      FROM generate_series(1, $n) AS i; ANALYZE orchestrator_instances"
  fi
}

# build_bench_tools: unless --no-build (build=0), configures $build_dir as
# bench/run.sh does (Release, Ninja, no tests) and builds the bench tools and
# what they measure (target bench_tools).
build_bench_tools() {
  [ "$build" -eq 1 ] || return 0
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOOLAI_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build_dir" -j "$(nproc)" --target bench_tools
}

# write_settings FILE [--arg NAME VALUE ...]: the run's settings.json (the
# command line, date, commit, machine, load average at the start, build, and
# the extra --arg pairs) that the reports print. Reads command_line, commit,
# load_average and build_dir.
write_settings() {
  local file=$1 build_type
  shift
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
  jq -n --arg command "$command_line" --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    --arg commit "$commit" --arg machine "$(machine_line)" --arg load_average "$load_average" \
    --arg build "$build_type, $(c++ --version | head -1), build dir $(basename "$build_dir")" \
    "$@" '$ARGS.named' >"$file"
}

# The commit measured, marked when the work tree differs.
measured_commit() {
  echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo ' (with uncommitted changes)')"
}

# replace_section FILE BEGIN_MARK END_MARK NEW_CONTENT_FILE: the lines from the
# one containing BEGIN_MARK to the one containing END_MARK are replaced by the
# new content (which carries both marks); appended when the marks are absent.
replace_section() {
  local file=$1 begin=$2 end=$3 new=$4 tmp
  tmp=$(mktemp)
  if grep -qF "$begin" "$file" 2>/dev/null; then
    awk -v b="$begin" -v e="$end" -v f="$new" '
      index($0, b) { while ((getline line < f) > 0) print line; skip = 1; next }
      skip && index($0, e) { skip = 0; next }
      !skip { print }' "$file" >"$tmp"
  else
    { [ -f "$file" ] && cat "$file" && echo; cat "$new"; } >"$tmp"
  fi
  mv "$tmp" "$file"
}
