#!/usr/bin/env bash
# standalone_sdk.sh <repo root> <work dir> [cmake]
# The SDK as a plugin author without the controller gets it: sdk/ configured
# alone by a fresh CMake, installed to a prefix, and a plugin project
# (conan/test_package, the same one the Conan package is tested with) built
# against that prefix, its export list checked, and the plugin loaded and
# called through the installed test kit. Shows on the way that the SDK
# needs only a compiler and CMake:
#  1. every CMake run starts from an empty environment (PATH=/usr/bin:/bin,
#     HOME an empty dir, so no user package registry either);
#  2. the SDK is configured with find_package/find_library/find_path
#     confined to an empty root, so no third-party package could be found,
#     and its trace may show no find_package but Threads and no library or
#     header search of its own;
#  3. every header the installed SDK pulls in (all of them included in one
#     translation unit) lies in the prefix or belongs to the compiler's and
#     the C library's own Debian packages.
set -euo pipefail
repo=$(cd "$1" && pwd) work=$2 cmake=${3:-cmake}
rm -rf "$work"
mkdir -p "$work/home" "$work/empty-root"
work=$(cd "$work" && pwd)
prefix=$work/prefix
clean=(env -i PATH=/usr/bin:/bin HOME="$work/home")

fail() { echo "standalone_sdk: FAILED: $*" >&2; exit 1; }

# check_trace <trace.json> <allowed find_package names...>
check_trace() {
  local trace=$1; shift
  local allowed=" $* " name found=""
  while read -r name; do
    [[ "$allowed" == *" $name "* ]] || fail "$trace: find_package($name) -- not a compiler or CMake part"
    found+="$name "
  done < <(grep '"cmd":"find_package"' "$trace" | sed 's/.*"args":\["\([^"]*\)".*/\1/')
  echo "standalone_sdk: find_package calls: ${found:-none}"
  if grep -E '"cmd":"(find_library|find_path|pkg_check_modules|pkg_search_module)"' "$trace" |
     grep -F "\"file\":\"$repo/"; then
    fail "$trace: the project searches for a library or header (above)"
  fi
}

echo "=== configure sdk/ alone"
"${clean[@]}" "$cmake" -S "$repo/sdk" -B "$work/sdk-build" -G Ninja \
  -DCMAKE_FIND_ROOT_PATH="$work/empty-root" -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY \
  -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
  --no-warn-unused-cli --trace-format=json-v1 --trace-redirect="$work/sdk-trace.json"
check_trace "$work/sdk-trace.json" Threads

echo "=== install"
"${clean[@]}" "$cmake" --install "$work/sdk-build" --prefix "$prefix"
version=$(sed -n 's/^#define MOOLAI_SDK_VERSION_STRING "\(.*\)"/\1/p' \
  "$repo/sdk/include/moolai/sdk/version.hpp")
for f in include/moolai/plugin_types.h include/moolai/plugin_api.h include/moolai/sdk.hpp \
         include/moolai/sdk/testing.hpp include/moolai/sdk/testing/json.hpp \
         lib/cmake/MoolaiPluginSDK/MoolaiPluginSDKConfig.cmake \
         lib/cmake/MoolaiPluginSDK/MoolaiPluginSDKConfigVersion.cmake \
         lib/cmake/MoolaiPluginSDK/MoolaiPluginSDKTargets.cmake \
         lib/cmake/MoolaiPluginSDK/MoolaiPlugin.cmake; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"
done
grep -q "set(PACKAGE_VERSION \"$version\")" \
  "$prefix/lib/cmake/MoolaiPluginSDK/MoolaiPluginSDKConfigVersion.cmake" ||
  fail "the CMake package version is not version.hpp's $version"

echo "=== headers the SDK pulls in"
tu=$work/all_headers.cpp
(cd "$prefix/include" && find . -name '*.h' -o -name '*.hpp' | sort | sed 's|^\./\(.*\)|#include <\1>|') > "$tu"
"${clean[@]}" c++ -std=c++17 -I "$prefix/include" -M "$tu" > "$work/all_headers.d"
mapfile -t outside < <(tr ' \\' '\n\n' < "$work/all_headers.d" | grep '^/' |
  grep -v -e "^$prefix/" -e "^$tu\$" | xargs -r realpath -s | sort -u)
[ ${#outside[@]} -gt 0 ] || fail "no system header seen: the dependency list is wrong"
command -v dpkg-query >/dev/null || fail "dpkg-query is needed to tell who owns a header"
toolchain='^(libc6-dev|libstdc\+\+-[0-9]+-dev|libgcc-[0-9]+-dev|linux-libc-dev)(:[a-z0-9]+)?$'
owners=$(dpkg-query -S "${outside[@]}" 2>&1 | sed 's/: .*//' | tr ', ' '\n\n' | grep . | sort -u) ||
  fail "a header belongs to no package: $(dpkg-query -S "${outside[@]}" 2>&1 | grep 'no path found')"
echo "standalone_sdk: ${#outside[@]} system headers, from:" $owners
others=$(grep -Ev "$toolchain" <<<"$owners" || true)
[ -z "$others" ] || fail "the SDK's headers pull in headers of: $others"

echo "=== a plugin project against the prefix"
"${clean[@]}" "$cmake" -S "$repo/conan/test_package" -B "$work/plugin-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  --trace-format=json-v1 --trace-redirect="$work/plugin-trace.json"
check_trace "$work/plugin-trace.json" MoolaiPluginSDK Threads
grep -q "\"file\":\"$prefix/lib/cmake/MoolaiPluginSDK/MoolaiPluginSDKConfig.cmake\"" \
  "$work/plugin-trace.json" || fail "MoolaiPluginSDK was not found in $prefix"
"${clean[@]}" "$cmake" --build "$work/plugin-build"   # checks the export list
"$work/plugin-build/test_kit_check"
echo "standalone_sdk: PASSED"
