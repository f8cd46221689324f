#!/usr/bin/env bash
# build_out_of_tree.sh <source dir> <build dir> <sdk prefix> [cmake args...]
# Configures and builds a plugin project the way a plugin author would:
# a fresh build dir, the SDK found through CMAKE_PREFIX_PATH only.
set -euo pipefail
src=$1 build=$2 prefix=$3; shift 3
rm -rf "$build"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" "$@"
cmake --build "$build"
