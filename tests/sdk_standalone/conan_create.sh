#!/usr/bin/env bash
# conan_create.sh <repo root> <work dir>
# `conan create conan/` with no remote at all (ConanCenter is unreachable
# where the SDK must build, and the recipe needs nothing from it), in a
# Conan home of its own under <work dir>. The test package is built from a
# copy, so nothing is written into the source tree.
set -euo pipefail
repo=$(cd "$1" && pwd) work=$2
venv=$("$repo/scripts/conan-venv.sh")
conan=$venv/bin/conan
[ -x "$conan" ] || { echo "conan_create: no Conan in $venv: run scripts/install-deps.sh" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
export CONAN_HOME=$work/home
"$conan" profile detect --exist-ok >/dev/null 2>&1
"$conan" remote remove '*' >/dev/null
[ -z "$("$conan" remote list)" ] || { echo "conan_create: a remote is still configured" >&2; exit 1; }

cp -r "$repo/conan/test_package" "$work/test_package"
"$conan" create "$repo/conan" --test-folder "$work/test_package"
# The recipe's version is version.hpp's, like the CMake package's.
version=$(sed -n 's/^#define MOOLAI_SDK_VERSION_STRING "\(.*\)"/\1/p' \
  "$repo/sdk/include/moolai/sdk/version.hpp")
"$conan" list "moolai-plugin-sdk/$version" | grep -Eq "^ +moolai-plugin-sdk/${version//./\\.}$" ||
  { echo "conan_create: no moolai-plugin-sdk/$version in the cache" >&2; exit 1; }
echo "conan_create: PASSED"
