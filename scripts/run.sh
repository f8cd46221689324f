#!/usr/bin/env bash
# Installs what is missing, builds, and starts the controller on the
# embedded default: SQLite under MOOLAI_DATA_DIR (./data), default plugins.
# Ctrl-C stops it. Extra arguments go to moolai-controller.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target moolai_bundle

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
exec build/bin/moolai-controller "$@"
