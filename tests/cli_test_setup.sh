# Sourced by the command-line tests (tests/*_test.sh): takes their four arguments, BIN_DIR TOKENIZER.model
# TEXT REPOSITORY, makes a scratch directory $work (removed on exit) and encodes TEXT with the tokenizer
# into the dataset $work/data, 5% of it validation; defines loss_difference and within for comparing runs.
set -euo pipefail
bin=$1 tokenizer=$2 text=$3 repo=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/primer-data" encode --tokenizer "$tokenizer" --input "$text" --output "$work/data" \
  --validation-fraction 0.05 >/dev/null 2>&1
# The largest relative difference between the training losses of two runs over steps FIRST..LAST.
loss_difference() {  # RUN_A RUN_B FIRST LAST
  /usr/bin/python3 - "$@" <<'PYTHON'
import json, sys
def losses(run):
    return {r["step"]: r["loss"] for r in map(json.loads, open(run + "/metrics.jsonl")) if "loss" in r}
a, b = losses(sys.argv[1]), losses(sys.argv[2])
steps = range(int(sys.argv[3]), int(sys.argv[4]) + 1)
missing = [s for s in steps if s not in a or s not in b]
if missing:
    sys.exit(f"steps {missing[:5]} missing from a run's metrics")
print(max(abs(a[s] - b[s]) / abs(b[s]) for s in steps))
PYTHON
}
within() {  # VALUE LIMIT
  /usr/bin/python3 -c "import sys; sys.exit(0 if float('$1') <= float('$2') else 1)"
}
