#!/usr/bin/env bash
# Fails unless every plugin in $1 defines exactly one dynamic symbol,
# moolai_plugin_entry (nm -D --defined-only), and no STB_GNU_UNIQUE one.
set -euo pipefail
dir=$1
shopt -s nullglob
plugins=("$dir"/lib*.so)
[ ${#plugins[@]} -gt 0 ] || { echo "no plugins in $dir"; exit 1; }
status=0
for so in "${plugins[@]}"; do
  syms=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | tr '\n' ' ')
  if [ "$syms" != "moolai_plugin_entry " ]; then
    echo "FAIL $so exports: $syms"; status=1
  elif readelf --dyn-syms -W "$so" | grep -q UNIQUE; then
    echo "FAIL $so has STB_GNU_UNIQUE symbols"; status=1
  else
    echo "ok   $so"
  fi
done
exit $status
