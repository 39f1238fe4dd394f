#!/usr/bin/env bash
# Training throughput of two builds side by side, in one run, to show that a change costs no speed: each
# variant trains the same model on the same data with each build in turn (alternating, so drift in the
# machine's speed falls on both), ROUNDS rounds; each run's tokens/s is the median of its timed windows
# (benchmarks/throughput_common.sh), and each build's figure the median of its rounds, with their spread.
# Shares are of one GEMM rate per precision (the best of several probes, taken with the candidate's
# primer-bench); a share above 100% stops the script as a measurement error.
# Usage: [VARIANTS="transformer++ primer"] [SHAPE=benchmark|21m] benchmarks/compare_builds.sh BASELINE_BIN [CANDIDATE_BIN (build/bin)] [ROUNDS (3)]
#   e.g. git worktree add /tmp/old main~5 && cmake -S /tmp/old -B /tmp/old/build -DPRIMER_CUDA=OFF &&
#        cmake --build /tmp/old/build --target primer-train && benchmarks/compare_builds.sh /tmp/old/build/bin
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source benchmarks/throughput_common.sh
baseline=${1:?usage: compare_builds.sh BASELINE_BIN [CANDIDATE_BIN] [ROUNDS]}
candidate=${2:-build/bin}
rounds=${3:-3}
read -r -a variants <<<"${VARIANTS:-vanilla transformer++ primer_ez primer}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "CPU: $(lscpu | sed -nE 's/^Model name: +//p'), $(nproc) threads; shape ${SHAPE:-benchmark}; $rounds alternating rounds"
echo "baseline:  $baseline"
echo "candidate: $candidate"
echo "GEMM rate (primer-bench gemm):"
peak_fp32=$(gemm_rate "$candidate" fp32)
peak_bf16=$(gemm_rate "$candidate" bf16)
echo
echo "| variant | precision | baseline tok/s (spread) | share | candidate tok/s (spread) | share | candidate / baseline |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for variant in "${variants[@]}"; do
  for precision in fp32 bf16; do
    peak=$peak_fp32
    [ $precision = bf16 ] && peak=$peak_bf16
    base_rates=() base_shares=() new_rates=() new_shares=()
    for _ in $(seq "$rounds"); do
      read -r rate share <<<"$(primer_rate "$baseline" "$variant" $precision "$peak" "$scratch")"
      check_share "baseline $variant $precision" "$share"
      base_rates+=("$rate")
      base_shares+=("$share")
      read -r rate share <<<"$(primer_rate "$candidate" "$variant" $precision "$peak" "$scratch")"
      check_share "candidate $variant $precision" "$share"
      new_rates+=("$rate")
      new_shares+=("$share")
    done
    read -r b b_min b_max <<<"$(spread "${base_rates[@]}")"
    read -r c c_min c_max <<<"$(spread "${new_rates[@]}")"
    b_share=$(spread "${base_shares[@]}" | cut -d' ' -f1)
    c_share=$(spread "${new_shares[@]}" | cut -d' ' -f1)
    awk -v v="$variant" -v p=$precision -v b="$b" -v bl="$b_min" -v bh="$b_max" -v bs="$b_share" -v c="$c" \
      -v cl="$c_min" -v ch="$c_max" -v cs="$c_share" \
      'BEGIN { printf "| %s | %s | %.0f (%.0f-%.0f) | %.1f%% | %.0f (%.0f-%.0f) | %.1f%% | %.3f |\n",
               v, p, b, bl, bh, bs, c, cl, ch, cs, c / b }'
  done
done
