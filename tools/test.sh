#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, builds with CUDA when nvcc exists, runs every
# test, compiles the layers' no-CUDA branches, then builds everything again under AddressSanitizer +
# UBSan with the CUDA code in the interpret mode (an emulated device on the CPU) and runs every test
# there, the CUDA ones included; then the
# interpret mode's race checker under ThreadSanitizer; last, the cluster tests (a two-host Slurm cluster
# made on this machine, docs/cluster_testing.md), which need root: elsewhere they skip, saying why, but in
# CI (CI set, as .ci/run sets it) a skip fails the run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

"$repo/tools/setup.sh" --deps-only

echo "== release build (CUDA kernels compiled when nvcc is present) =="
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$repo/build" -j"$jobs"
ctest --test-dir "$repo/build" --output-on-failure -j"$jobs" --label-exclude cluster

echo "== the layers with a branch for builds without CUDA (-DPRIMER_CUDA=OFF) compile =="
# The builds above both have CUDA (nvcc or the interpret mode); this keeps the other branch of
# cuda_info.cpp, the backend registry and the collectives building (it once broke unseen).
cmake -S "$repo" -B "$repo/build-nocuda" -DCMAKE_BUILD_TYPE=Release -DPRIMER_CUDA=OFF -DPRIMER_BUILD_TESTS=OFF \
  -DPRIMER_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$repo/build-nocuda" -j"$jobs" --target primer_backend primer_distributed

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build, CUDA in the interpret mode =="
# The same tests again, the CUDA ones included: the .cu kernels, cuBLASLt and NCCL run over the emulated
# device (docs/cuda_interpret.md), under the sanitizers, the sm_90 and sm_80 device profiles and two
# thread orders; a kernel that no test launched fails launch_census_every_kernel_launched.
cmake -S "$repo" -B "$repo/build-sanitize" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRIMER_SANITIZE=ON \
  -DPRIMER_CUDA_INTERPRET=ON -DPRIMER_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$repo/build-sanitize" -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$repo/build-sanitize" --output-on-failure -j"$jobs" --label-exclude cluster

echo "== ThreadSanitizer build of the interpret mode's tests: the race checker =="
# Every emulated thread a TSan fiber, ordered only by barriers and warp steps: a planted shared-memory race
# must be reported, and the kernels that share memory between threads must run without one.
cmake -S "$repo" -B "$repo/build-racecheck" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRIMER_SANITIZE_THREAD=ON \
  -DPRIMER_CUDA_INTERPRET=ON -DPRIMER_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$repo/build-racecheck" -j"$jobs" --target primer-interpret-tests
# The tests count the reports themselves (the planted race makes some on purpose).
TSAN_OPTIONS=exitcode=0 "$repo/build-racecheck/bin/primer-interpret-tests" --gtest_filter='RaceCheck.*'

echo "== cluster tests: Slurm (srun, sbatch, requeue) and mpirun over two hosts made on this machine =="
if [ -n "${CI:-}" ]; then export PRIMER_CLUSTER_TESTS=required; fi
ctest --test-dir "$repo/build" --output-on-failure --label-regex cluster
