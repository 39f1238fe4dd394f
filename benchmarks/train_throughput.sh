#!/usr/bin/env bash
# Training throughput on the CPU: primer-train (fp32, and bf16 matmuls) against PyTorch (Debian's 1.13,
# fp32) on the same model shape, data size and threads, measured in one run; prints tokens/s and ratios.
# Shape (../shared/environment.md's reference): 4 layers, d_model 256, 4 heads, d_ff 1024, vocab 8192,
# seq 256, batch 8, T5 bias, tied embeddings, AdamW, fp32. Needs data/prose_mix_tokens (tools/quickstart.sh).
# Usage: benchmarks/train_throughput.sh [VARIANT...]   (default: vanilla transformer++ primer_ez)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
threads=$(nproc)
# Some shells pin OpenBLAS to Haswell kernels, halving its speed (../shared/environment.md); PyTorch gets its best.
unset OPENBLAS_CORETYPE
steps=12
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(vanilla transformer++ primer_ez)
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
printf '%-14s %12s %12s %14s %10s %10s\n' variant "primer fp32" "primer bf16" "pytorch fp32" "fp32 ratio" "bf16 ratio"
primer_rate() {  # variant precision
  build/bin/primer-train --config configs/tiny_primer_ez.yaml \
      --set model.variant="$1" --set model.d_model=256 --set model.num_layers=4 --set model.num_heads=4 \
      --set model.d_ff=1024 --set model.vocab_size=8192 --set data.seq_len=256 --set training.batch_size=8 \
      --set training.steps=$steps --set training.precision="$2" --set logging.every=4 --set eval.every=1000 \
      --set eval.batches=1 --set checkpoint.directory="$run/$1-$2" 2>&1 \
    | sed -nE "s/.*step +$steps\/$steps .* ([0-9]+) tok\/s.*/\1/p"
}
for variant in "${variants[@]}"; do
  fp32=$(primer_rate "$variant" fp32)
  bf16=$(primer_rate "$variant" bf16)
  pytorch=$(/usr/bin/python3 benchmarks/pytorch_train_step.py "$variant" 4 256 4 1024 8192 256 8 $steps "$threads" \
    | sed -nE 's/tokens_per_second ([0-9.]+)/\1/p')
  printf '%-14s %12.0f %12.0f %14.0f %9.2fx %9.2fx\n' "$variant" "$fp32" "$bf16" "$pytorch" \
    "$(awk -v a="$fp32" -v b="$pytorch" 'BEGIN { print a / b }')" "$(awk -v a="$bf16" -v b="$pytorch" 'BEGIN { print a / b }')"
done
