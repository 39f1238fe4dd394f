#!/usr/bin/env bash
# Data-parallel scaling on the CPU, one run: tokens/s of 1 process x 1 thread against 2 processes x 1
# thread (mpirun) on the same global batch, with replicated and with sharded (ZeRO-1) optimizer state,
# and the share of the 2-rank step spent waiting for the gradient reduction; and, as the machine's
# ceiling, two independent one-thread processes of 8 sequences side by side (no communication at all). Shape: benchmarks/train_throughput.sh's (4 layers, d_model 256, seq 256, vocab
# 8192), global batch 16 sequences. Needs data/prose_mix_tokens (tools/quickstart.sh).
# Usage: benchmarks/data_parallel.sh [STEPS (40)]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
steps=${1:-40}
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
shape=(--config configs/tiny_primer_ez.yaml --set model.d_model=256 --set model.num_layers=4
  --set model.num_heads=4 --set model.d_ff=1024 --set model.vocab_size=8192 --set data.seq_len=256
  --set training.steps="$steps" --set training.global_batch_size=16 --set logging.every=$((steps / 2))
  --set eval.every=100000 --set eval.batches=1 --set checkpoint.every=100000)

# tokens/s over the second half of the run (the first half warms up), and the waiting share over it.
measure() {  # RUN_DIRECTORY
  /usr/bin/python3 - "$1/metrics.jsonl" "$steps" <<'PYTHON'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
steps = int(sys.argv[2])
rate = [r["tokens_per_second"] for r in records if "tokens_per_second" in r][-1]
elapsed = {r["step"]: r["elapsed"] for r in records if "elapsed" in r}
waiting = sum(r.get("communication_seconds", 0.0) for r in records if "loss" in r and r["step"] > steps // 2)
window = elapsed[steps] - elapsed[steps // 2]
print(f"{rate:.0f} {100 * waiting / window:.1f}")
PYTHON
}

build/bin/primer-train "${shape[@]}" --set training.batch_size=16 --set checkpoint.directory="$run/one" \
  >"$run/one.log" 2>&1 || { tail "$run/one.log"; exit 1; }
for shard in false true; do
  mpirun -np 2 --oversubscribe --bind-to core build/bin/primer-train "${shape[@]}" --set training.batch_size=8 \
    --set distributed.shard_optimizer=$shard --set checkpoint.directory="$run/two-$shard" >"$run/two.log" 2>&1 ||
    { tail "$run/two.log"; exit 1; }
done
for half in a b; do
  taskset -c "$([ $half = a ] && echo 0 || echo 1)" build/bin/primer-train "${shape[@]}" \
    --set training.global_batch_size=8 --set training.batch_size=8 --set checkpoint.directory="$run/apart-$half" \
    >"$run/apart-$half.log" 2>&1 &
done
wait
read -r one_rate _ <<<"$(measure "$run/one")"
read -r apart_a _ <<<"$(measure "$run/apart-a")"
read -r apart_b _ <<<"$(measure "$run/apart-b")"
apart_rate=$((apart_a + apart_b))
read -r two_rate two_waiting <<<"$(measure "$run/two-false")"
read -r zero_rate zero_waiting <<<"$(measure "$run/two-true")"
ratio() { awk -v a="$1" -v b="$one_rate" 'BEGIN { printf "%.2f", a / b }'; }
echo "CPU: $(lscpu | sed -nE 's/^Model name: +//p'), $(nproc --all) cores; global batch 16 x 256 tokens, $steps steps"
echo "| processes x threads | tokens/s | speedup | waiting on the gradient reduction |"
echo "| --- | --- | --- | --- |"
echo "| 1 x 1 | $one_rate | 1.00 | - |"
echo "| 2 x 1 (mpirun) | $two_rate | $(ratio "$two_rate") | ${two_waiting}% of the step |"
echo "| 2 x 1 (mpirun, ZeRO-1) | $zero_rate | $(ratio "$zero_rate") | ${zero_waiting}% of the step |"
echo "| 2 x 1 independent processes (the ceiling: no communication) | $apart_rate | $(ratio "$apart_rate") | - |"
