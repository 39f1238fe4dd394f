#!/usr/bin/env bash
# Training throughput of two builds side by side, in one run, to show that a change costs no speed:
# each variant trains the same model on the same data with each build in turn (alternating, so drift in
# the machine's speed falls on both), several rounds, and the best tokens/s of each build (over steps 21-40,
# after 20 steps of warm-up) is compared.
# Shape: benchmarks/train_throughput.sh's (4 layers, d_model 256, seq 256, batch 8, vocab 8192).
# Needs data/prose_mix_tokens (tools/quickstart.sh).
# Usage: [VARIANTS="transformer++ primer"] benchmarks/compare_builds.sh BASELINE_BIN [CANDIDATE_BIN (build/bin)] [ROUNDS (3)]
#   e.g. git worktree add /tmp/old main~5 && cmake -S /tmp/old -B /tmp/old/build -DPRIMER_CUDA=OFF &&
#        cmake --build /tmp/old/build --target primer-train && benchmarks/compare_builds.sh /tmp/old/build/bin
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
baseline=${1:?usage: compare_builds.sh BASELINE_BIN [CANDIDATE_BIN] [ROUNDS]}
candidate=${2:-build/bin}
rounds=${3:-3}
steps=40
read -r -a variants <<<"${VARIANTS:-vanilla transformer++ primer_ez primer}"
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT

tokens_per_second() {  # bin variant precision -> tok/s at the last logged step
  local log="$run/log"
  "$1/primer-train" --config configs/tiny_primer_ez.yaml \
      --set model.variant="$2" --set model.d_model=256 --set model.num_layers=4 --set model.num_heads=4 \
      --set model.d_ff=1024 --set model.vocab_size=8192 --set data.seq_len=256 --set training.batch_size=8 \
      --set training.steps=$steps --set training.precision="$3" --set logging.every=20 --set eval.every=1000 \
      --set eval.batches=1 --set checkpoint.every=1000 --set checkpoint.directory="$run/ckpt" >"$log" 2>&1 ||
    { cat "$log" >&2; exit 1; }
  rm -rf "$run/ckpt"
  sed -nE "s/.*step +$steps\/$steps .* ([0-9]+) tok\/s .*/\1/p" "$log"
}

echo "CPU: $(lscpu | sed -nE 's/^Model name: +//p'), $(nproc) threads; best of $rounds alternating runs of $steps steps"
echo "baseline:  $baseline"
echo "candidate: $candidate"
echo
echo "| variant | precision | baseline tok/s | candidate tok/s | candidate / baseline |"
echo "| --- | --- | --- | --- | --- |"
for variant in "${variants[@]}"; do
  for precision in fp32 bf16; do
    best_base=0
    best_new=0
    for _ in $(seq "$rounds"); do
      rate=$(tokens_per_second "$baseline" "$variant" "$precision")
      [ "$rate" -gt "$best_base" ] && best_base=$rate
      rate=$(tokens_per_second "$candidate" "$variant" "$precision")
      [ "$rate" -gt "$best_new" ] && best_new=$rate
    done
    echo "| $variant | $precision | $best_base | $best_new | $(awk -v a="$best_new" -v b="$best_base" 'BEGIN { printf "%.3f", a / b }') |"
  done
done
