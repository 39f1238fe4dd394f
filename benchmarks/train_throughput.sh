#!/usr/bin/env bash
# Training throughput on the CPU: primer-train in fp32 and with bf16 matmuls against PyTorch (Debian's
# 1.13) in fp32 and with bf16 autocast, on the same model shape, data size and threads, in one run.
# PyTorch runs at its best on this machine: its f32 GEMM is timed under each OpenBLAS core type (and
# autodetection), and the fastest is used for every PyTorch run; its large blocks get transparent huge
# pages (glibc's malloc.hugetlb tunable, which Debian's PyTorch allocates through, and
# THP_MEM_ALLOC_ENABLE for PyTorch's own allocator from 2.1 on). PyTorch returns freed blocks to the
# kernel and faults their pages in again every step: on an AMD Zen 5 at the benchmark shape, vanilla
# fp32 took 4.95M page faults in a run without them and 147K with, at 1.40x the tokens/s (1.35-1.56x in
# five pairs, fp32 and bf16). primer's allocator keeps freed blocks for reuse; huge pages left its speed
# as it was (docs/performance.md, issue 23's fourteenth round). primer's figures are also given as a
# share of this run's GEMM rate for their precision (benchmarks/throughput_common.sh: one rate per
# precision, the best of the probes taken at the start, before every primer cell and at the end: a
# machine whose speed drifts over minutes is measured at its fastest, as the runs may have been), so a
# machine's speed and the framework's efficiency can be told apart; a share above 100% stops the script
# as a measurement error. Every figure is the median of RUNS
# runs (3), each the median of its timed windows (primer) or steps (PyTorch), and the spread of the runs
# is printed beside it; the runs go in rounds of every cell, and the ratios between cells are taken
# within each round.
# Usage: [RUNS=3] [SHAPE=benchmark|21m] benchmarks/train_throughput.sh [VARIANT...]
#        (default variants: vanilla transformer++ primer_ez)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source benchmarks/throughput_common.sh
threads=$(nproc)
runs=${RUNS:-3}
python=/usr/bin/python3
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(vanilla transformer++ primer_ez)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Runs a command with OpenBLAS on core type $1 ("auto": autodetected). The shell may pin a core type and
# L2 size for older libraries (an OpenBLAS older than this CPU); both are cleared together for this command only.
with_core() {
  local core=$1
  shift
  if [ "$core" = auto ]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"
  else
    env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE="$core" "$@"
  fi
}

echo "CPU: $(lscpu | sed -nE 's/^Model name: +//p'), $threads threads; shape ${SHAPE:-benchmark}; $runs runs of each"
echo "primer's GEMM rate (primer-bench gemm, oneDNN):"
peak_fp32=$(gemm_rate build/bin fp32)
peak_bf16=$(gemm_rate build/bin bf16)
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

pytorch_rate() {  # variant precision -> tokens/s, or "n/a" (the reason goes to $scratch/failures)
  local out
  # shellcheck disable=SC2046
  if out=$(with_core "$best_core" env GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1" \
      THP_MEM_ALLOC_ENABLE=1 "$python" benchmarks/pytorch_train_step.py train --variant "$1" \
      $(pytorch_shape) --steps 30 --threads "$threads" --precision "$2" 2>&1); then
    sed -nE 's/tokens_per_second ([0-9.]+)/\1/p' <<<"$out"
  else
    echo "PyTorch $2 failed on this CPU: $(tail -1 <<<"$out")" >>"$scratch/failures"
    echo n/a
  fi
}

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
# Rounds outermost: each round runs every cell once, in the same order, so a slow spell of the machine
# (its speed drifts over minutes) falls on every cell alike instead of on the cell that happened to run
# through it, and ratios between cells (bf16 over fp32, a variant against vanilla) are taken within a
# round. Per cell: primer's tokens/s, its share times the GEMM rate it was logged against (rescaled to
# the run's best probe once all probes are in), PyTorch's tokens/s.
declare -A primer_rates primer_tflops torch_rates
for _ in $(seq "$runs"); do
  for variant in "${variants[@]}"; do
    for precision in fp32 bf16; do
      if [ $precision = fp32 ]; then
        peak_fp32=$(best "$peak_fp32" "$(gemm_rate build/bin fp32 2)")
        peak=$peak_fp32
      else
        peak_bf16=$(best "$peak_bf16" "$(gemm_rate build/bin bf16 2)")
        peak=$peak_bf16
      fi
      cell="$variant $precision"
      read -r rate share <<<"$(primer_rate build/bin "$variant" $precision "$peak" "$scratch")"
      primer_rates[$cell]+="$rate "
      primer_tflops[$cell]+="$(awk -v s="$share" -v p="$peak" 'BEGIN { print s * p / 100 }') "
      torch_rates[$cell]+="$(pytorch_rate "$variant" $precision) "
    done
  done
done
echo "closing GEMM probes:"
peak_fp32=$(best "$peak_fp32" "$(gemm_rate build/bin fp32)")
peak_bf16=$(best "$peak_bf16" "$(gemm_rate build/bin bf16)")
rows=()
for variant in "${variants[@]}"; do
  for precision in fp32 bf16; do
    cell="$variant $precision"
    final=$peak_fp32
    [ "$precision" = bf16 ] && final=$peak_bf16
    read -r -a cell_tflops <<<"${primer_tflops[$cell]}"
    for tflops in "${cell_tflops[@]}"; do
      check_share "primer $cell" "$(awk -v t="$tflops" -v f="$final" 'BEGIN { printf "%.2f", 100 * t / f }')"
    done
    share=$(awk -v t="$(spread "${primer_tflops[$cell]}" | cut -d' ' -f1)" -v f="$final" \
      'BEGIN { printf "%.2f", 100 * t / f }')
    torch="n/a n/a n/a"
    [[ ${torch_rates[$cell]} == *n/a* ]] || torch=$(spread "${torch_rates[$cell]}")
    rows+=("$variant $precision $(spread "${primer_rates[$cell]}") $share $torch")
  done
done
sort -u "$scratch/paths"
[ ! -f "$scratch/failures" ] || sort -u "$scratch/failures"
echo "GEMM rate of this run (best of all probes): f32 $peak_fp32 TFLOP/s, bf16 $peak_bf16 TFLOP/s"
echo "tokens/s, median of $runs runs (spread: lowest-highest); primer's share of the same-precision GEMM rate:"
echo
echo "| variant | precision | primer tok/s | spread | share of GEMM | PyTorch tok/s | spread | primer / PyTorch |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for row in "${rows[@]}"; do
  awk '{ spread_p = sprintf("%.0f-%.0f (%.1f%%)", $4, $5, 100 * ($5 - $4) / $3)
         if ($7 == "n/a") { torch = "n/a"; spread_t = "n/a"; ratio = "n/a" }
         else { torch = sprintf("%.0f", $7); spread_t = sprintf("%.0f-%.0f (%.1f%%)", $8, $9, 100 * ($9 - $8) / $7)
                ratio = sprintf("%.2fx", $3 / $7) }
         printf "| %s | %s | %.0f | %s | %.1f%% | %s | %s | %s |\n", $1, $2, $3, spread_p, $6, torch, spread_t, ratio }' <<<"$row"
done
echo
# "median (lowest-highest)" of the rounds' ratios of cell A's tokens/s to cell B's.
paired_ratio() {  # CELL_A CELL_B
  local -a a b
  read -r -a a <<<"${primer_rates[$1]}"
  read -r -a b <<<"${primer_rates[$2]}"
  local ratios=() i
  for i in "${!a[@]}"; do ratios+=("$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.4f", x / y }')"); done
  spread "${ratios[@]}" | awk '{ printf "%.2fx (%.2f-%.2f)", $1, $2, $3 }'
}
echo "ratios within each round, median (lowest-highest) of $runs:"
for variant in "${variants[@]}"; do
  echo "$variant: primer bf16 / fp32 = $(paired_ratio "$variant bf16" "$variant fp32")"
done
if [ -n "${primer_rates[vanilla fp32]:-}" ]; then
  for variant in "${variants[@]}"; do
    if [ "$variant" != vanilla ]; then
      echo "$variant: fp32 tokens/s / vanilla's = $(paired_ratio "$variant fp32" "vanilla fp32")"
    fi
  done
fi
