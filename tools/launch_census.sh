#!/usr/bin/env bash
# Kernel launches in one CUDA training step, counted without a GPU: the interpret mode's launch census
# (docs/cuda_interpret.md) of a run of 3 steps minus that of a run of 2, by kernel, then the total
# (cuBLASLt's products are not counted). The model has the 111M's depth and parameter count per layer
# (12 layers, bf16, AdamW) at a width the emulated device runs in about a minute; --set options after
# the build folder change it (model.variant=vanilla, training.clip_grad_norm=1.0, ...).
# Usage: tools/launch_census.sh [BUILD_DIR, an interpret-mode build: build-sanitize] [--set key=value]...
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=build-sanitize
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  build=$1
  shift
fi
grep -q "PRIMER_CUDA_INTERPRET:BOOL=ON" "$build/CMakeCache.txt" 2>/dev/null ||
  { echo "launch_census: $build is not a build with -DPRIMER_CUDA_INTERPRET=ON (tools/test.sh makes build-sanitize)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Runs a command with its output in a log, shown only when it fails.
quietly() { "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; echo "launch_census: failed: $*" >&2; exit 1; }; }
quietly "$build/bin/primer-data" train-tokenizer --input tests/data/moby_dick_200k.txt --output "$work/tokenizer" \
  --vocab-size 1000
quietly "$build/bin/primer-data" encode --tokenizer "$work/tokenizer.model" --input tests/data/moby_dick_200k.txt \
  --output "$work/moby" --validation-fraction 0.05
for steps in 2 3; do
  PRIMER_INTERPRET="census=$work/census.$steps" ASAN_OPTIONS=detect_leaks=0 quietly "$build/bin/primer-train" \
    --config configs/tiny_primer_ez.yaml --set model.d_model=64 --set model.num_layers=12 \
    --set model.num_heads=4 --set model.d_ff=256 --set model.vocab_size=1000 --set model.max_seq_len=64 \
    --set data.directory="$work/moby" --set data.seq_len=32 --set training.batch_size=2 \
    --set training.steps=$steps --set training.device=cuda --set training.precision=bf16 \
    --set training.z_loss=0 --set training.clip_grad_norm=0 --set logging.every=1 \
    --set eval.every=100000 --set eval.batches=1 --set checkpoint.every=100000 \
    --set checkpoint.directory="$work/run$steps" "$@"
done
# Census lines are "source kernel launches".
awk 'FNR == NR { before[$1 " " $2] += $3; next } { after[$1 " " $2] += $3 }
     END { for (k in after) if (after[k] != before[k]) printf "%6d %s\n", after[k] - before[k], k }' \
  "$work/census.2" "$work/census.3" | sort -k1,1nr | tee "$work/step"
awk '{ total += $1 } END { printf "%6d launches a step\n", total }' "$work/step"
