#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the run need;
# with --bench also what bench/run.sh uses (jq, sqlite3, bc, perf). Then the
# pinned Conan (from PyPI, in a virtualenv: scripts/conan-venv.sh) that the
# SDK's Conan package is built and tested with.
# Idempotent: asks apt-get only for what dpkg says is missing, and pip only
# when the virtualenv lacks that Conan.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libpistache-dev libwebsocketpp-dev libpqxx-dev
  libboost-dev libboost-filesystem-dev libboost-system-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libsqlite3-dev libsodium-dev
  libssl-dev openssl
  clang libc++-dev libc++abi-dev libclang-rt-14-dev
  postgresql postgresql-client
  curl binutils clang-format
  python3-venv
  chromium
)
# The dashboard needs Node 18+ and npm: Debian's, unless a Node is already
# there (a NodeSource nodejs bundles npm and conflicts with Debian's npm).
if [ "${1:-}" = --bench ]; then
  packages+=(jq sqlite3 bc linux-perf)
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

"$(dirname "$0")/conan-venv.sh" --install
