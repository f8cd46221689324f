#!/usr/bin/env bash
# Installs what is missing, builds the controller, the default plugins and
# the dashboard, and starts the controller on the embedded default: SQLite
# under MOOLAI_DATA_DIR (./data), default plugins, the dashboard on
# http://localhost:8765/. A few simulated orchestrators join so the fleet is
# alive from the first minute (MOOLAI_SIM_COUNT, default 5; 0 = none).
# Ctrl-C stops everything. Extra arguments go to moolai-controller.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target moolai_bundle
gui/build.sh
export MOOLAI_DASHBOARD_DIR=${MOOLAI_DASHBOARD_DIR:-$PWD/gui/frontend/dist}

export MOOLAI_DATA_DIR=${MOOLAI_DATA_DIR:-$PWD/data}
mkdir -p "$MOOLAI_DATA_DIR"
# No built-in account: on the first start, make a superadmin with a random
# password and show it once (it is not stored anywhere but as a hash).
if [ ! -e "$MOOLAI_DATA_DIR/moolai.db" ] && [ -z "${MOOLAI_SUPERADMIN_PASSWORD:-}" ]; then
  export MOOLAI_SUPERADMIN_USERNAME=${MOOLAI_SUPERADMIN_USERNAME:-admin}
  MOOLAI_SUPERADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  export MOOLAI_SUPERADMIN_PASSWORD
  echo "First start: superadmin '$MOOLAI_SUPERADMIN_USERNAME', password '$MOOLAI_SUPERADMIN_PASSWORD' (shown once)"
fi

build/bin/moolai-controller "$@" &
controller=$!
sim=""
stop() {
  [ -n "$sim" ] && kill "$sim" 2>/dev/null
  kill "$controller" 2>/dev/null
}
trap stop INT TERM

rest_port=${CONTROLLER_PORT:-8765}
ws_port=${CONTROLLER_WS_PORT:-8766}
sim_count=${MOOLAI_SIM_COUNT:-5}
credentials="$MOOLAI_DATA_DIR/sim-credentials.txt"
for _ in $(seq 100); do  # up to 10 s
  curl -sf "http://127.0.0.1:$rest_port/api/v1/controller/health" >/dev/null && break
  kill -0 "$controller" 2>/dev/null || break
  sleep 0.1
done
if [ "$sim_count" -gt 0 ] && kill -0 "$controller" 2>/dev/null; then
  sim_args=(--url "ws://127.0.0.1:$ws_port/ws" --stats-interval 60)
  if [ -n "${MOOLAI_SUPERADMIN_PASSWORD:-}" ]; then
    # Reuses the saved credentials, re-creates the ones the controller no
    # longer knows, and creates more when MOOLAI_SIM_COUNT grew.
    sim_args+=(--count "$sim_count" --provision --api "http://127.0.0.1:$rest_port"
               --username "${MOOLAI_SUPERADMIN_USERNAME:-admin}" --organization demo-org
               --credentials-out "$credentials")
  elif [ -s "$credentials" ]; then
    # The random first-start password is gone: run the saved fleet as it is.
    sim_args+=(--credentials "$credentials")
  else
    sim_args=()
    echo "run.sh: no simulated orchestrators (no $credentials and no superadmin password to create them)"
  fi
  if [ ${#sim_args[@]} -gt 0 ]; then
    MOOLAI_SIM_PASSWORD=${MOOLAI_SUPERADMIN_PASSWORD:-} build/bin/moolai-orchestrator-sim "${sim_args[@]}" &
    sim=$!
    echo "run.sh: $sim_count simulated orchestrators running (MOOLAI_SIM_COUNT=0 to skip)"
  fi
fi
echo "run.sh: dashboard on http://localhost:$rest_port/ (Ctrl-C stops)"
status=0
wait "$controller" || status=$?
[ -n "$sim" ] && kill "$sim" 2>/dev/null && wait "$sim" 2>/dev/null
exit "$status"
