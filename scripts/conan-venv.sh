#!/usr/bin/env bash
# The Conan used to build and test the plugin SDK's Conan package (conan/),
# from PyPI into a virtualenv of its own, pinned so every machine and CI run
# the same one.
#   scripts/conan-venv.sh            prints the virtualenv's directory
#   scripts/conan-venv.sh --install  creates it unless it already has this Conan
# MOOLAI_CONAN_VENV overrides the directory.
set -euo pipefail
conan_version=2.34.0
venv=${MOOLAI_CONAN_VENV:-${XDG_CACHE_HOME:-${HOME:?neither MOOLAI_CONAN_VENV nor HOME is set}/.cache}/moolai/conan-$conan_version}

if [ "${1:-}" != --install ]; then
  echo "$venv"
  exit 0
fi
if [ -x "$venv/bin/conan" ] && "$venv/bin/conan" --version 2>/dev/null | grep -qx "Conan version $conan_version"; then
  echo "install-deps: conan $conan_version present ($venv)"
  exit 0
fi
echo "install-deps: installing conan $conan_version into $venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "conan==$conan_version"
"$venv/bin/conan" --version
