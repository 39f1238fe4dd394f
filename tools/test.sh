#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, builds with CUDA when nvcc exists, runs every
# test, then builds the unit tests again without CUDA under AddressSanitizer + UBSan and runs them there.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

"$repo/tools/setup.sh" --deps-only

echo "== release build (CUDA kernels compiled when nvcc is present) =="
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$repo/build" -j"$jobs"
ctest --test-dir "$repo/build" --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build, PRIMER_CUDA=OFF =="
cmake -S "$repo" -B "$repo/build-sanitize" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRIMER_SANITIZE=ON \
  -DPRIMER_CUDA=OFF -DPRIMER_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$repo/build-sanitize" -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$repo/build-sanitize" --output-on-failure -j"$jobs"
