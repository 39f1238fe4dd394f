#!/usr/bin/env bash
# Where a CPU training step's time goes between oneDNN's products and everything else, at the throughput
# benchmark's shape: primer-train runs with ONEDNN_VERBOSE=1, which times every product it executes; the
# products of the timed steps (after the warm-up) are summed by shape and set against those steps' wall
# time and this run's GEMM rate (primer-bench gemm, the best of 5 probes). A step's share of the GEMM rate
# then splits into the share of its time spent in products and the products' own rate against the GEMM
# rate, which says how much of a shortfall is primer's code and how much is oneDNN's at these shapes.
# Usage: [SHAPE=benchmark|21m] benchmarks/step_products.sh [VARIANT (primer_ez)] [PRECISION (fp32)]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source benchmarks/throughput_common.sh
variant=${1:-primer_ez}
precision=${2:-fp32}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "CPU: $(lscpu | sed -nE 's/^Model name: +//p'), $(nproc) threads; shape ${SHAPE:-benchmark}; $variant $precision"
peak=$(gemm_rate build/bin "$precision")
# A log line after every step marks where its products end (the verbose lines and the log share stdout).
ONEDNN_VERBOSE=1 build/bin/primer-train --config configs/tiny_primer_ez.yaml --set model.variant="$variant" \
  "${shape[@]}" --set training.steps=$((warmup_steps + timed_steps)) --set training.precision="$precision" \
  --set logging.every=1 --set logging.peak_tflops="$peak" --set eval.every=100000 --set eval.batches=1 \
  --set checkpoint.every=100000 --set checkpoint.directory="$scratch/run" >"$scratch/log" 2>&1 ||
  { tail -20 "$scratch/log" >&2; exit 1; }
/usr/bin/python3 - "$scratch/log" "$scratch/run/metrics.jsonl" "$warmup_steps" "$peak" <<'PYTHON'
import collections, json, re, sys

log, metrics, warmup, peak = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) * 1e12
step_line = re.compile(r"\] step +(\d+)/(\d+) ")
step, last = 0, None
products = collections.defaultdict(lambda: [0, 0.0, 0.0])  # shape -> calls, ms, flops
for line in open(log):
    found = step_line.search(line)
    if found:
        step, last = int(found.group(1)), int(found.group(2))
        continue
    if not line.startswith("onednn_verbose,exec,cpu,matmul") or not warmup <= step < last:
        continue
    fields = line.rstrip("\n").split(",")
    dims, ms = fields[-2], float(fields[-1])
    src, wei = ([int(x) for x in part.split("x")] for part in dims.split(":")[:2])
    flops = 2.0 * src[0] * src[-2] * src[-1] * wei[-1]
    layouts = " ".join(re.sub(r"::blocked:(\w+?):f0\S*", r":\1", t) for t in fields[6].split())
    entry = products[f"{src[-2]} x {src[-1]} x {wei[-1]}  {layouts}"]
    entry[0] += 1
    entry[1] += ms
    entry[2] += flops

# "elapsed": training seconds since the start, logged with each step's rate.
rows = {r["step"]: r for r in map(json.loads, open(metrics)) if "elapsed" in r}
steps = last - warmup
step_ms = 1e3 * (rows[last]["elapsed"] - rows[warmup]["elapsed"]) / steps
mfu = sum(rows[s]["mfu"] for s in range(warmup + 1, last + 1)) / steps
product_ms = sum(e[1] for e in products.values()) / steps
product_flops = sum(e[2] for e in products.values()) / steps
product_share = product_flops / (product_ms * 1e-3) / peak
print(f"steps {warmup + 1}-{warmup + steps}: {step_ms:.1f} ms a step (the step's share of the GEMM rate: "
      f"{100 * mfu:.1f}%)")
print(f"oneDNN's products: {product_ms:.1f} ms a step ({100 * product_ms / step_ms:.1f}% of it), "
      f"{product_flops / 1e9:.1f} GFLOP at {product_flops / product_ms / 1e6:.0f} GFLOP/s, "
      f"{100 * product_share:.1f}% of the GEMM rate ({peak / 1e9:.0f} GFLOP/s)")
print(f"everything else: {step_ms - product_ms:.1f} ms a step ({100 * (1 - product_ms / step_ms):.1f}%)")
print("by shape (M x K x N, layouts): calls a step, ms a step, GFLOP/s, share of the GEMM rate")
for shape, (calls, ms, flops) in sorted(products.items(), key=lambda item: -item[1][1]):
    rate = flops / (ms * 1e-3)
    print(f"  {calls / steps:5.1f} {ms / steps:7.2f} {rate / 1e9:6.0f} {100 * rate / peak:5.1f}%  {shape}")
PYTHON
