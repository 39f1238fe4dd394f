# Sourced by benchmarks/train_throughput.sh and benchmarks/compare_builds.sh: the benchmark shapes, the
# GEMM rate every run of a benchmark divides by, and primer-train's tokens/s measured the same way in both.
#   GEMM rate: `primer-bench gemm`, the best of several probes (each the best of 5 1024^3 products), once
#              per precision per benchmark, passed to every run as logging.peak_tflops.
#   tokens/s:  the median of the windows primer-train logs (logging.every steps each) after the warm-up:
#              $timed_steps steps in $((timed_steps / window)) windows; a run's share of the GEMM rate is
#              the median of the windows' MFU, and a share above 100% is a measurement error that stops
#              the benchmark.
# Needs data/prose_mix_tokens (tools/quickstart.sh).

if [ ! -f data/prose_mix_tokens/meta.json ]; then
  echo "data/prose_mix_tokens is missing: run tools/quickstart.sh first (it fetches and encodes the corpus)" >&2
  exit 1
fi

warmup_steps=10
timed_steps=40
window=5

# SHAPE: "benchmark" (the default: 4 layers, d_model 256, 4 heads, d_ff 1024, vocab 8192, seq 256,
# batch 8, the figures docs/performance.md keeps) or "21m" (6 layers, d_model 512, 8 heads, d_ff 2048).
case ${SHAPE:-benchmark} in
  benchmark) shape=(--set model.d_model=256 --set model.num_layers=4 --set model.num_heads=4 --set model.d_ff=1024) ;;
  21m) shape=(--set model.d_model=512 --set model.num_layers=6 --set model.num_heads=8 --set model.d_ff=2048) ;;
  *) echo "SHAPE is benchmark or 21m, not ${SHAPE}" >&2; exit 2 ;;
esac
shape+=(--set model.vocab_size=8192 --set data.seq_len=256 --set training.batch_size=8)
# The same shape for benchmarks/pytorch_train_step.py.
pytorch_shape() {
  awk '{ for (i = 1; i <= NF; ++i) if ($i ~ /^model\.|^data\.|^training\./) {
           split($i, kv, "="); key = kv[1]; sub(/.*\./, "", key); value[key] = kv[2] } }
       END { printf "--layers %s --d-model %s --heads %s --d-ff %s --vocab %s --seq %s --batch %s",
             value["num_layers"], value["d_model"], value["num_heads"], value["d_ff"], value["vocab_size"],
             value["seq_len"], value["batch_size"] }' <<<"${shape[*]}"
}

# The best GEMM rate of PROBES probes, in TFLOP/s; the probes go to stderr.
gemm_rate() {  # BIN PRECISION [PROBES (5)]
  local out
  out=$("$1/primer-bench" gemm --precision "$2" --probes "${3:-5}") || { echo "$out" >&2; exit 1; }
  sed 's/^/  /' <<<"$out" >&2
  sed -nE 's/^gemm .* best of .*: ([0-9.]+) TFLOP\/s$/\1/p' <<<"$out"
}

# One primer-train run: "tokens_per_second share_percent", both medians over the timed windows.
primer_rate() {  # BIN VARIANT PRECISION PEAK_TFLOPS SCRATCH
  local bin=$1 variant=$2 precision=$3 peak=$4 scratch=$5
  rm -rf "$scratch/run"
  "$bin/primer-train" --config configs/tiny_primer_ez.yaml --set model.variant="$variant" "${shape[@]}" \
    --set training.steps=$((warmup_steps + timed_steps)) --set training.precision="$precision" \
    --set logging.every=$window --set logging.peak_tflops="$peak" --set eval.every=100000 --set eval.batches=1 \
    --set checkpoint.every=100000 --set checkpoint.directory="$scratch/run" >"$scratch/log" 2>&1 ||
    { cat "$scratch/log" >&2; exit 1; }
  grep -E "bf16 matmuls:" "$scratch/log" | sed -E 's/^.*\] //' | sort -u >>"$scratch/paths"
  /usr/bin/python3 - "$scratch/run/metrics.jsonl" $warmup_steps <<'PYTHON'
import json, statistics, sys
windows = [r for r in map(json.loads, open(sys.argv[1])) if "tokens_per_second" in r and r["step"] > int(sys.argv[2])]
print(statistics.median(r["tokens_per_second"] for r in windows), 100 * statistics.median(r["mfu"] for r in windows))
PYTHON
}

# "median min max" of numbers.
spread() {
  tr -s ' ' '\n' <<<"$*" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}

# Stops the benchmark when a share of the GEMM rate is above 100%: the step cannot run faster than its
# own products, so the GEMM rate or the step was mismeasured.
check_share() {  # WHAT SHARE_PERCENT
  if awk -v s="$2" 'BEGIN { exit !(s > 100) }'; then
    echo "measurement error: $1 ran at $2% of the GEMM rate; more than 100% means the GEMM probe or the step timing is off (another process on the cores?). Stopping." >&2
    exit 1
  fi
}
