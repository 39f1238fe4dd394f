#!/usr/bin/env bash
# `training.device: cuda` in the CUDA interpret mode (a build with -DPRIMER_CUDA_INTERPRET=ON), with the
# programs as users run them, on a tiny Primer-EZ (2 layers of 64, 2 heads, 32 positions, 1,024 tokens:
# an emulated step takes half a second in a release build, about four times that under the sanitizers):
#   train:    50 steps on cuda track the CPU's losses: f32 within 1e-4 relative at every step, bf16
#             products within 1e-2 of the CPU's bf16 run.
#   resume:   a checkpoint written on cuda resumes on cpu, and one written on cpu resumes on cuda, each
#             within 1e-4 of the uninterrupted run.
#   sample:   primer-sample --device cuda gives the CPU's greedy text.
#   parallel: 2 ranks on cuda through the emulated NCCL equal one cuda process (1e-6), with and without
#             ZeRO-1 (ctest runs it with PRIMER_INTERPRET=streams=deferred: the NCCL stream and the compute
#             stream ordered by their events only).
# Usage: cuda_interpret_test.sh MODE BIN_DIR TOKENIZER.model TEXT REPOSITORY
mode=$1
shift
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_setup.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
tiny=(--config "$repo/configs/tiny_primer_ez.yaml" --set data.directory="$work/data" --set model.num_layers=2
  --set model.d_model=64 --set model.num_heads=2 --set model.d_ff=256 --set model.vocab_size=1024
  --set data.seq_len=32 --set training.batch_size=4 --set training.steps=50 --set eval.every=100000
  --set eval.batches=1 --set logging.every=10 --set checkpoint.every=25 --set checkpoint.keep=5)
train() {  # RUN DEVICE [--set ...]...
  local run=$1 device=$2
  shift 2
  "$bin/primer-train" "${tiny[@]}" --set checkpoint.directory="$run" --set training.device="$device" "$@" \
    >"$run.log" 2>&1 || { tail -20 "$run.log"; exit 1; }
}
compare() {  # WHAT RUN_A RUN_B FIRST LAST LIMIT
  local difference
  difference=$(loss_difference "$2" "$3" "$4" "$5") || exit 1
  echo "$1: largest relative loss difference over steps $4-$5: $difference (limit $6)"
  within "$difference" "$6" || { echo "more than $6"; exit 1; }
}
# A copy of RUN's step-25 checkpoint and metrics in NEW, to resume from.
branch() {  # RUN NEW
  mkdir -p "$2/checkpoints"
  cp -r "$1/checkpoints/step-00000025" "$2/checkpoints/"
  cp "$1/metrics.jsonl" "$2/"
}

case $mode in
  train)
    train "$work/cpu" cpu
    train "$work/cuda" cuda
    grep -q "interpret mode" "$work/cuda.log" || { echo "the log does not say the device is emulated"; exit 1; }
    compare "f32, cuda against cpu" "$work/cuda" "$work/cpu" 1 50 1e-4
    train "$work/cpu-bf16" cpu --set training.precision=bf16
    train "$work/cuda-bf16" cuda --set training.precision=bf16
    compare "bf16 products, cuda against cpu" "$work/cuda-bf16" "$work/cpu-bf16" 1 50 1e-2
    ;;
  resume)
    train "$work/cuda" cuda
    train "$work/cpu" cpu
    branch "$work/cuda" "$work/cuda-then-cpu"
    train "$work/cuda-then-cpu" cpu --resume
    compare "written on cuda at step 25, resumed on cpu" "$work/cuda-then-cpu" "$work/cuda" 26 50 1e-4
    branch "$work/cpu" "$work/cpu-then-cuda"
    train "$work/cpu-then-cuda" cuda --resume
    compare "written on cpu at step 25, resumed on cuda" "$work/cpu-then-cuda" "$work/cpu" 26 50 1e-4
    ;;
  sample)
    train "$work/cpu" cpu
    sample=("$bin/primer-sample" --checkpoint "$work/cpu" --prompt "Call me" --greedy --max-new-tokens 24)
    on_cpu=$("${sample[@]}") || exit 1
    on_cuda=$("${sample[@]}" --device cuda) || exit 1
    printf 'cpu:  %s\ncuda: %s\n' "$on_cpu" "$on_cuda"
    [ "$on_cpu" = "$on_cuda" ] || { echo "the greedy texts differ"; exit 1; }
    ;;
  parallel)
    train "$work/one" cuda --set training.batch_size=4
    for shard in false true; do
      mpirun -np 2 --oversubscribe --bind-to none "$bin/primer-train" "${tiny[@]}" --set training.device=cuda \
        --set checkpoint.directory="$work/two-$shard" --set training.batch_size=2 --set training.global_batch_size=4 \
        --set distributed.shard_optimizer=$shard --set distributed.bucket_mb=1 >"$work/two-$shard.log" 2>&1 ||
        { tail -20 "$work/two-$shard.log"; exit 1; }
      compare "2 ranks on cuda through NCCL, shard_optimizer $shard, against 1 process" "$work/two-$shard" "$work/one" 1 50 1e-6
    done
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
