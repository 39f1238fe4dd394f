#!/usr/bin/env bash
# Everything the CUDA backend must show on a GPU, in one prepared run that fits a short lease.
#   tools/gpu_check.sh prepare   here (no GPU needed): release build for sm_90, the programs and their
#                                non-CUDA libraries, a small tokenized dataset, the CPU's 200-step tiny
#                                run and greedy text (the GPU's reference), packed into
#                                .device/build.tar.xz (the device tool's run carries
#                                [".device/build.tar.xz"]: unpacked it would pass the 64 MiB limit)
#   tools/gpu_check.sh run       on the GPU host, from the repository root: unpacks, then runs each step
#                                under its own timeout, keeps going when one fails, and writes every log
#                                and a summary under $OUT (or .device/out): summary.txt, the per-op
#                                profiles and logs.tar.gz (the device tool brings back 8 files at most).
#                                The run fits GPU_CHECK_BUDGET seconds (default 540, leaving room for a
#                                rerun in a 15-minute lease): the step limits add up to 500 s, and no step
#                                runs past the budget. A step the budget does not reach is "not reached",
#                                not a failure. Exit status: 0 when every step passed, 1 when one failed,
#                                2 when none failed but some were not reached. GPU_CHECK_STEPS="name ..."
#                                runs only the steps named (a rerun).
# Steps, most telling first: libraries resolve; nvidia-smi; primer-smoke (CPU and GPU training, kernel
# self-test); every CudaBackend test against the CPU (a skipped test counts as a failure here); a 200-step
# fp32 tiny run on the GPU, twice, against the CPU's losses from `prepare` (1e-3); the same run through
# NCCL in a world of one (ZeRO-1) against the plain GPU run, within twice the spread of the two plain runs
# (float atomics make GPU runs differ in their last bits); greedy samples against the CPU's from
# `prepare`; the 111M Primer-EZ and vanilla in bf16 with the per-op profile; PyTorch eager and
# torch.compile on the same shape; last, if time is left, compute-sanitizer memcheck and racecheck over
# our kernels (optional: some hosts refuse it).
# The first checks run with CUDA_LAUNCH_BLOCKING=1 so an asynchronous fault is pinned to its launch.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bundle=.device/build
archive=.device/build.tar.xz
programs=(primer-unit-tests primer-smoke primer-train primer-sample primer-data)

# The programs' shared libraries, but for the C and C++ runtimes and CUDA's (the GPU host brings its own),
# copied into bin/lib: the GPU host runs another system, and an executable's runpath would not reach its
# libraries' own dependencies (oneDNN's libOpenCL, say), so `run` puts bin/lib on LD_LIBRARY_PATH.
bundle_libraries() {
  local bin=$1
  local provided='linux-vdso|ld-linux|/lib(c|m|dl|pthread|rt)\.so|/libstdc\+\+|/libgcc_s|/libcuda\.so|cuda|cublas|nccl|libnvidia'
  mkdir -p "$bin/lib"
  for program in "${programs[@]}"; do ldd "$bin/$program"; done | awk '/=> \//{print $3}' | grep -vE "$provided" |
    sort -u | while read -r library; do cp -L "$library" "$bin/lib/"; done
  du -sh "$bin/lib"
}

prepare() {
  set -e
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DPRIMER_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build build-gpu -j"$(nproc)" --target "${programs[@]}"
  rm -rf "$bundle" "$archive"
  mkdir -p "$bundle/bin" "$bundle/data"
  for program in "${programs[@]}"; do cp "build-gpu/bin/$program" "$bundle/bin/"; done
  bundle_libraries "$bundle/bin"
  # The dataset the GPU runs train on: the committed Moby Dick excerpt, 1,000-piece tokenizer.
  build-gpu/bin/primer-data train-tokenizer --input tests/data/moby_dick_200k.txt \
    --output "$bundle/data/moby_tokenizer" --vocab-size 1000 >/dev/null
  build-gpu/bin/primer-data encode --tokenizer "$bundle/data/moby_tokenizer.model" \
    --input tests/data/moby_dick_200k.txt --output "$bundle/data/moby" --validation-fraction 0.05 >/dev/null
  # The CPU side of the comparisons, run here so the GPU host spends its minutes on the GPU: 200 steps of
  # the tiny model (its losses and its checkpoint) and its greedy text.
  local reference="$bundle/cpu_reference"
  build-gpu/bin/primer-train --config configs/tiny_primer_ez.yaml --set data.directory="$bundle/data/moby" \
    --set training.steps=200 --set training.device=cpu --set eval.every=100 --set eval.batches=4 \
    --set checkpoint.directory="$reference" --set checkpoint.every=200 --set checkpoint.keep=1 \
    --set logging.every=50 >/dev/null
  # Past the end-of-text token: the 200-step model ends its text after one piece, which would compare
  # one step of the caches instead of 40.
  build-gpu/bin/primer-sample --checkpoint "$reference" --prompt "Call me" --greedy --max-new-tokens 40 \
    --no-stop-at-eos >"$bundle/cpu_reference_sample.txt"
  tar -C .device -cJf "$archive" build
  du -sh "$bundle" "$archive"
  rm -rf "$bundle"
}

out=${OUT:-.device/out}
budget=${GPU_CHECK_BUDGET:-540}
started=$SECONDS
summary=()
failures=0
not_reached=0

# step NAME SECONDS COMMAND...: runs COMMAND under `timeout SECONDS` (cut to what is left of the budget),
# output to $logs/NAME.log. With under 10 s of budget left it is not run, and said so.
step() {
  local name=$1 limit=$2
  shift 2
  if [ -n "${GPU_CHECK_STEPS:-}" ] && [[ " $GPU_CHECK_STEPS " != *" $name "* ]]; then
    summary+=("")
    return
  fi
  local left=$((budget - (SECONDS - started)))
  if ((left < 10)); then
    summary+=("$(printf '%-22s %-11s %s' "$name" "not reached" "the ${budget}s budget was spent")")
    not_reached=$((not_reached + 1))
    return
  fi
  ((limit > left)) && limit=$left
  local begin=$SECONDS status
  # A child bash runs the step, so that timeout can stop a shell function too (they are exported below).
  timeout --kill-after=5 "$limit" bash -c 'set -eo pipefail; "$@"' step "$@" >"$logs/$name.log" 2>&1
  status=$?
  local verdict=passed
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then verdict="timeout"; elif [ $status -ne 0 ]; then verdict="failed"; fi
  [ "$verdict" = passed ] || failures=$((failures + 1))
  summary+=("$(printf '%-22s %-11s %4ds  %s' "$name" "$verdict" $((SECONDS - begin)) "$(tail -1 "$logs/$name.log" | cut -c1-90)")")
}

# Like step, but its failure (or not being reached) is reported and not counted (tools a host may refuse).
optional_step() {
  local failed_before=$failures not_reached_before=$not_reached
  step "$@"
  if [ $failures -gt $failed_before ] || [ $not_reached -gt $not_reached_before ]; then
    failures=$failed_before
    not_reached=$not_reached_before
    summary[-1]="${summary[-1]} (optional)"
  fi
}

libraries_resolve() {
  local missing=0
  for program in $program_names; do
    if ldd "$bundle/bin/$program" | grep 'not found'; then missing=1; fi
  done
  [ $missing -eq 0 ] && echo "every library resolves"
}

cuda_tests() {
  local log status=0
  log=$("$bundle/bin/primer-unit-tests" --gtest_filter='CudaBackend*' 2>&1) || status=$?
  echo "$log"
  if grep -q '\[  SKIPPED \]' <<<"$log"; then
    echo "a CUDA test was skipped: on the GPU host that is a failure"
    return 1
  fi
  return $status
}

sanitizer() {  # TOOL
  local tool=$1 sanitizer
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  # Our kernels only (their names hold primer's namespace), on the shapes of the parity tests.
  "$sanitizer" --tool "$tool" --error-exitcode 1 --kernel-name kns=primer "$bundle/bin/primer-unit-tests" \
    --gtest_filter='CudaBackend*:-*TrainingShape*' --gtest_brief=1
}

tiny_run() {  # NAME DEVICE [--set ...]...
  rm -rf "$runs/tiny_$1"
  "$bundle/bin/primer-train" --config configs/tiny_primer_ez.yaml --set data.directory="$bundle/data/moby" \
    --set training.steps=200 --set training.device="$2" --set eval.every=100 --set eval.batches=4 \
    --set checkpoint.directory="$runs/tiny_$1" --set checkpoint.every=200 --set logging.every=50 "${@:3}"
  cp "$runs/tiny_$1/metrics.jsonl" "$logs/tiny_$1_metrics.jsonl"
}

losses_of() {  # RUN: its metrics file ("cpu": the CPU reference made by prepare)
  if [ "$1" = cpu ]; then echo "$bundle/cpu_reference/metrics.jsonl"; else echo "$runs/tiny_$1/metrics.jsonl"; fi
}

compare_losses() {  # RUN_A RUN_B LIMIT: the largest loss difference over the 200 steps
  python3 - "$(losses_of "$1")" "$(losses_of "$2")" "$3" <<'PYTHON'
import json, sys
read = lambda path: [json.loads(line)["loss"] for line in open(path) if '"loss"' in line]
a, b = read(sys.argv[1]), read(sys.argv[2])
assert len(a) == len(b) == 200, (len(a), len(b))
worst = max(abs(x - y) for x, y in zip(a, b))
print(f"200 steps: largest loss difference {worst:.2e} (first {a[0]:.4f} / {b[0]:.4f}, last {a[-1]:.4f} / {b[-1]:.4f})")
sys.exit(0 if worst <= float(sys.argv[3]) else 1)
PYTHON
}

# The NCCL run against the plain GPU run, within twice the spread of two plain GPU runs (at least 1e-6).
compare_to_spread() {
  local spread
  spread=$(python3 - "$(losses_of cuda)" "$(losses_of cuda_again)" <<'PYTHON'
import json, sys
read = lambda path: [json.loads(line)["loss"] for line in open(path) if '"loss"' in line]
print(max(abs(x - y) for x, y in zip(read(sys.argv[1]), read(sys.argv[2]))))
PYTHON
  )
  echo "two plain GPU runs differ by up to $spread"
  compare_losses cuda nccl "$(python3 -c "print(max(1e-6, 2 * $spread))")"
}

compare_samples() {
  local cpu gpu
  cpu=$(cat "$bundle/cpu_reference_sample.txt")
  gpu=$("$bundle/bin/primer-sample" --checkpoint "$bundle/cpu_reference" --prompt "Call me" --greedy \
    --max-new-tokens 40 --no-stop-at-eos --device cuda)
  printf 'cpu:  %s\ncuda: %s\n' "$cpu" "$gpu"
  [ "$cpu" = "$gpu" ] || { echo "the devices' greedy texts differ"; return 1; }
  echo "greedy text identical"
}

# The 111M shape of docs/performance.md's GPU section and of pytorch_run: 12 x 768, 12 heads, d_ff
# 3072, vocab 32768, seq 1024, batch 16, T5 bias, tied embeddings, bf16, AdamW, no z-loss, no clipping.
large_run() {  # VARIANT
  rm -rf "$runs/large_$1"
  PRIMER_PROFILE=1 "$bundle/bin/primer-train" --config configs/tiny_primer_ez.yaml \
    --set model.variant="$1" --set model.d_model=768 --set model.num_layers=12 --set model.num_heads=12 \
    --set model.d_ff=3072 --set model.vocab_size=32768 --set model.max_seq_len=1024 \
    --set data.directory="$bundle/data/moby" --set data.seq_len=1024 --set training.batch_size=16 \
    --set training.steps=30 --set training.device=cuda --set training.precision=bf16 \
    --set training.z_loss=0 --set training.clip_grad_norm=0 --set logging.every=10 \
    --set eval.every=100000 --set eval.batches=1 --set checkpoint.every=100000 --set checkpoint.keep=1 \
    --set checkpoint.directory="$runs/large_$1"
  cp "$runs/large_$1/profile.txt" "$out/profile_$1.txt"
}

pytorch_run() {  # VARIANT [--compile]
  python3 benchmarks/pytorch_train_step.py train --variant "$1" --layers 12 --d-model 768 --heads 12 --d-ff 3072 \
    --vocab 32768 --seq 1024 --batch 16 --steps 20 --precision bf16 --device cuda "${@:2}"
}

run() {
  logs=$(mktemp -d)
  mkdir -p "$out"
  [ -f "$archive" ] || { echo "gpu_check: no $archive; run 'tools/gpu_check.sh prepare' here first" >&2; exit 1; }
  tar -C .device -xJf "$archive"
  # Runpath reaches only the programs' direct dependencies; oneDNN's own (libOpenCL.so.1) need the path.
  export LD_LIBRARY_PATH="$repo/$bundle/bin/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  runs=$(mktemp -d)
  program_names="${programs[*]}"
  export bundle runs logs out program_names
  export -f libraries_resolve cuda_tests sanitizer tiny_run losses_of compare_losses compare_to_spread \
    compare_samples large_run pytorch_run
  step libraries 15 libraries_resolve
  if [ $failures -gt 0 ]; then
    cat "$logs/libraries.log"
    echo "gpu_check: libraries missing; nothing else can run" >&2
    exit 1
  fi
  step nvidia-smi 15 nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv
  CUDA_LAUNCH_BLOCKING=1 step smoke 30 "$bundle/bin/primer-smoke"
  CUDA_LAUNCH_BLOCKING=1 step cuda-tests 60 cuda_tests
  step tiny-cuda 30 tiny_run cuda cuda
  step tiny-losses 10 compare_losses cpu cuda 1e-3
  step tiny-cuda-again 30 tiny_run cuda_again cuda
  # The data-parallel path on one GPU: gradients through NCCL (a world of one), ZeRO-1's reduce-scatter
  # and all-gather included, against the plain GPU run.
  step tiny-nccl 30 tiny_run nccl cuda --set distributed.check_collectives=true --set distributed.shard_optimizer=true
  step nccl-losses 10 compare_to_spread
  step greedy-samples 15 compare_samples
  step primer-ez-111m 70 large_run primer_ez
  step vanilla-111m 55 large_run vanilla
  step pytorch-eager 40 pytorch_run primer_ez
  step pytorch-compile 90 pytorch_run primer_ez --compile
  optional_step memcheck 90 sanitizer memcheck
  optional_step racecheck 60 sanitizer racecheck
  {
    printf '%s\n' "${summary[@]}" | grep -v '^$'
    echo "tokens/s and memory:"
    for log in primer-ez-111m vanilla-111m pytorch-eager pytorch-compile; do
      [ -f "$logs/$log.log" ] || continue
      grep -h -E "step +30/30|peak GPU memory|tokens_per_second|peak_memory" "$logs/$log.log" | sed "s/^/$log: /"
    done
    echo "failed steps: $failures; not reached within the budget: $not_reached"
  } | tee "$out/summary.txt"
  tar -C "$logs" -czf "$out/logs.tar.gz" .
  [ $failures -eq 0 ] || exit 1
  [ $not_reached -eq 0 ] || exit 2
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *)
    echo "usage: tools/gpu_check.sh prepare | run" >&2
    exit 2
    ;;
esac
