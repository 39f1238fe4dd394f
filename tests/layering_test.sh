#!/usr/bin/env bash
# Nothing includes a header from a layer above it: every `#include "primer/LAYER/..."` in a layer's
# sources and headers must name the layer itself or one it depends on, directly or through others, in
# the graph src/CMakeLists.txt builds its libraries from (written to LAYERS_FILE at configure time).
# Usage: layering_test.sh REPOSITORY LAYERS_FILE
set -euo pipefail
repo=$1
layers_file=$2
declare -A direct
while IFS=: read -r layer dependencies; do
  [ -n "$layer" ] && direct[$layer]=$dependencies
done <"$layers_file"

# The layers `layer` may include: itself and everything below it.
reachable() {
  local -A seen=()
  local pending=("$1")
  while [ ${#pending[@]} -gt 0 ]; do
    local next=${pending[-1]}
    unset 'pending[-1]'
    [ -n "${seen[$next]:-}" ] && continue
    seen[$next]=1
    for dependency in ${direct[$next]:-}; do pending+=("$dependency"); done
  done
  echo "${!seen[@]}"
}

violations=0
checked=0
for layer in "${!direct[@]}"; do
  allowed=" $(reachable "$layer") "
  for file in $(find "$repo/src/$layer" "$repo/include/primer/$layer" -name '*.cpp' -o -name '*.h' 2>/dev/null); do
    while read -r included; do
      checked=$((checked + 1))
      if [[ "$allowed" != *" $included "* ]]; then
        echo "${file#"$repo"/} (layer $layer) includes primer/$included/, a layer above it or beside it"
        violations=$((violations + 1))
      fi
    done < <(sed -nE 's@^#include "primer/([a-z_]+)/.*@\1@p' "$file")
  done
done
echo "$checked includes checked across ${#direct[@]} layers: $violations pointing upwards"
[ "$violations" -eq 0 ]
