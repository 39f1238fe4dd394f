#!/usr/bin/env bash
# The CUDA backend's checks for a host with an NVIDIA GPU (the `device` tool's machines have no compiler
# toolchain to spare, so the build happens here and travels).
#   tools/gpu_check.sh prepare   here: release build (sm_80 + sm_90), copy the programs the checks need
#                                into .device/build/bin with their non-CUDA libraries in .device/build/bin/lib
#   tools/gpu_check.sh run       on the GPU host, with .device/build carried: the CUDA self-test, every op
#                                against the CPU backend, then compute-sanitizer memcheck and racecheck
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=.device/build/bin
programs=(primer-unit-tests primer-smoke primer-train primer-sample)
filter='CudaBackend*'

case "${1:-}" in
  prepare)
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j"$(nproc)" --target "${programs[@]}"
    rm -rf .device/build
    mkdir -p "$out"
    for program in "${programs[@]}"; do cp "build/bin/$program" "$out/"; done
    "$repo/../shared/tools/bundle-libs.sh" "$out"
    du -sh .device/build
    ;;
  run)
    [ -x "$out/primer-unit-tests" ] || { echo "gpu_check: no $out; run 'tools/gpu_check.sh prepare' first" >&2; exit 1; }
    if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; fi
    "$out/primer-smoke"
    "$out/primer-unit-tests" --gtest_filter="$filter" --gtest_brief=1
    sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    for tool in memcheck racecheck; do
      echo "== compute-sanitizer --tool $tool =="
      "$sanitizer" --tool "$tool" --error-exitcode 1 "$out/primer-unit-tests" --gtest_filter="$filter" --gtest_brief=1
    done
    ;;
  *)
    echo "usage: tools/gpu_check.sh prepare | run" >&2
    exit 2
    ;;
esac
