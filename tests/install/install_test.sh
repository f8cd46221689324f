#!/usr/bin/env bash
# install_test.sh BUILD_DIR -- installs BUILD_DIR into a temporary prefix and
# checks the operator's layout: binaries, plugins, dashboard, systemd unit,
# example settings; then starts the installed controller and asks it.
set -uo pipefail
build=${1:?usage: install_test.sh BUILD_DIR}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moolai-install.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
check() {  # description command...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
bin=$prefix/bin/moolai-controller
check "controller installed" test -x "$bin"
check "simulator installed" test -x "$prefix/bin/moolai-orchestrator-sim"
for p in storage_sqlite storage_postgres auth_local independence_default messaging_default; do
  check "plugin $p installed" test -f "$prefix/lib/moolai/plugins/lib$p.so"
done
check "SDK headers installed" test -f "$prefix/include/moolai/plugin_api.h"
check "SDK CMake package installed" test -f "$prefix/lib/cmake/MoolaiPluginSDK/MoolaiPluginSDKConfig.cmake"
unit=$prefix/lib/systemd/system/moolai-controller.service
check "systemd unit installed" test -f "$unit"
check "unit starts the installed binary" grep -qx "ExecStart=$bin" "$unit"
for opt in DynamicUser=yes StateDirectory=moolai ProtectSystem=strict NoNewPrivileges=yes; do
  check "unit has $opt" grep -qx "$opt" "$unit"
done
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify accepts the unit" systemd-analyze verify "$unit"
fi
check "example config installed" test -f "$prefix/share/moolai/examples/config.example.json"
check "example env installed" test -f "$prefix/share/moolai/examples/moolai-controller.env"
check "--version from the installed binary" "$bin" --version

# The example config, pointed at a scratch database, loads every plugin.
sed "s|/var/lib/moolai|$tmp/data|" "$prefix/share/moolai/examples/config.example.json" >"$tmp/config.json"
mkdir -p "$tmp/data"
check "example config passes --check-config" "$bin" --check-config --config "$tmp/config.json"

# The installed controller serves its dashboard from share/moolai/dashboard.
if [ -f "$prefix/share/moolai/dashboard/index.html" ]; then
  MOOLAI_DATA_DIR=$tmp/data CONTROLLER_HOST=127.0.0.1 CONTROLLER_PORT=0 CONTROLLER_WS_PORT=0 \
    "$bin" >"$tmp/controller.log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 200); do  # up to 10 s for the ready line
    port=$(sed -n 's/.*controller ready: REST on [^ ]*:\([0-9]*\),.*/\1/p' "$tmp/controller.log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$tmp/controller.log"; port=1; }
  check "installed controller becomes ready" curl -sf "http://127.0.0.1:$port/readyz"
  check "installed controller serves the dashboard" \
    sh -c "curl -sf http://127.0.0.1:$port/ | grep -q '<div id=\"root\">'"
  kill "$pid"; wait "$pid"; pid=
else
  echo "note: no dashboard built (gui/build.sh), its check skipped"
fi

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
