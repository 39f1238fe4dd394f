#!/usr/bin/env bash
# Training throughput on the CPU, one run: primer-train in fp32 and with bf16 matmuls against PyTorch
# (Debian's 1.13) in fp32 and with bf16 autocast, on the same model shape, data size and threads.
# PyTorch runs at its best on this machine: its f32 GEMM is timed under each OpenBLAS core type (and
# autodetection), and the fastest is used for every PyTorch run. Each figure is also given as a share of
# the GEMM rate measured in this run for its precision (oneDNN's 1024^3 GEMM, which primer-train measures
# at start for its MFU), so a machine's speed and the framework's efficiency can be told apart.
# Shape (../shared/environment.md's reference): 4 layers, d_model 256, 4 heads, d_ff 1024, vocab 8192,
# seq 256, batch 8, T5 bias, tied embeddings, AdamW. Needs data/prose_mix_tokens (tools/quickstart.sh).
# Usage: benchmarks/train_throughput.sh [VARIANT...]   (default: vanilla transformer++ primer_ez)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
threads=$(nproc)
steps=12
python=/usr/bin/python3
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(vanilla transformer++ primer_ez)
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT

# Runs a command with OpenBLAS on core type $1 ("auto": autodetected). The shell may pin a core type and
# L2 size for older libraries (../shared/environment.md); both are cleared together for this command only.
with_core() {
  local core=$1
  shift
  if [ "$core" = auto ]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"
  else
    env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE="$core" "$@"
  fi
}

echo "CPU: $(lscpu | sed -nE 's/^Model name: +//p'), $threads threads"
best_core=auto
best_rate=0
tried=""
for core in auto Haswell Zen SkylakeX; do
  out=$(with_core "$core" env OPENBLAS_VERBOSE=2 "$python" benchmarks/pytorch_train_step.py gemm --threads "$threads" 2>&1)
  rate=$(sed -nE 's/gemm_gflops ([0-9.]+)/\1/p' <<<"$out")
  kernel=$(sed -nE 's/^Core: (.*)/\1/p' <<<"$out" | tail -1)
  tried+=" $core->${kernel:-?} ${rate:-failed};"
  if [ -n "$rate" ] && awk -v a="$rate" -v b="$best_rate" 'BEGIN { exit !(a > b) }'; then
    best_rate=$rate
    best_core=$core
  fi
done
echo "PyTorch f32 GEMM (GFLOP/s by OpenBLAS core type):$tried using $best_core"

primer_run() {  # variant precision -> "tokens_per_second mfu_percent peak_tflops"
  local log="$run/$1-$2.log"
  build/bin/primer-train --config configs/tiny_primer_ez.yaml \
      --set model.variant="$1" --set model.d_model=256 --set model.num_layers=4 --set model.num_heads=4 \
      --set model.d_ff=1024 --set model.vocab_size=8192 --set data.seq_len=256 --set training.batch_size=8 \
      --set training.steps=$steps --set training.precision="$2" --set logging.every=4 --set eval.every=1000 \
      --set eval.batches=1 --set checkpoint.directory="$run/$1-$2" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  grep -E "bf16 matmuls:" "$log" | sed -E 's/^.*\] //' | sort -u >>"$run/paths"
  echo "$(sed -nE "s/.*step +$steps\/$steps .* ([0-9]+) tok\/s \| MFU ([0-9.]+)%.*/\1 \2/p" "$log")" \
       "$(sed -nE 's/.*MFU against ([0-9.e+-]+) TFLOP\/s.*/\1/p' "$log")"
}
pytorch_rate() {  # variant precision -> tokens/s, or "n/a" (the reason goes to $run/failures)
  local out
  if out=$(with_core "$best_core" "$python" benchmarks/pytorch_train_step.py train --variant "$1" --layers 4 \
      --d-model 256 --heads 4 --d-ff 1024 --vocab 8192 --seq 256 --batch 8 --steps $steps --threads "$threads" \
      --precision "$2" 2>&1); then
    sed -nE 's/tokens_per_second ([0-9.]+)/\1/p' <<<"$out"
  else
    echo "PyTorch $2 failed on this CPU: $(tail -1 <<<"$out")" >>"$run/failures"
    echo n/a
  fi
}

rows=()
for variant in "${variants[@]}"; do
  read -r p32 mfu32 peak32 <<<"$(primer_run "$variant" fp32)"
  read -r p16 mfu16 peak16 <<<"$(primer_run "$variant" bf16)"
  t32=$(pytorch_rate "$variant" fp32)
  t16=$(pytorch_rate "$variant" bf16)
  rows+=("$variant $p32 $t32 $mfu32 $p16 $t16 $mfu16")
done
sort -u "$run/paths"
[ ! -f "$run/failures" ] || sort -u "$run/failures"
echo "oneDNN GEMM measured by primer-train in this run: f32 $peak32 TFLOP/s, bf16 $peak16 TFLOP/s"
echo "tokens/s (and share of the same-precision oneDNN GEMM rate):"
printf '%-14s %18s %18s %8s %18s %18s %8s\n' variant "primer fp32" "pytorch fp32" ratio "primer bf16" \
  "pytorch bf16" ratio
for row in "${rows[@]}"; do
  awk 'function pair(primer, baseline, share) {
         if (baseline == "n/a") return sprintf("%9.0f (%4.1f%%) %18s %8s", primer, share, "n/a", "n/a")
         return sprintf("%9.0f (%4.1f%%) %9.0f (%4.1f%%) %7.2fx", primer, share, baseline,
                        share * baseline / primer, primer / baseline)
       }
       { printf "%-14s %s %s\n", $1, pair($2, $3, $4), pair($5, $6, $7) }' <<<"$row"
done
