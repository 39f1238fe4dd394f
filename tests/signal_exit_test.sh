#!/usr/bin/env bash
# primer-train stopped by SIGTERM (what Slurm sends before preemption) writes a checkpoint and exits with
# 128 + 15 = 143, so a scheduler sees an unfinished run; --resume then continues from that checkpoint.
# Usage: signal_exit_test.sh BIN_DIR TOKENIZER.model TEXT REPOSITORY
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_setup.sh"
train=("$bin/primer-train" --config "$repo/configs/tiny_primer_ez.yaml" --set data.directory="$work/data"
  --set checkpoint.directory="$work/run" --set checkpoint.every=100000 --set eval.every=100000
  --set eval.batches=1 --set logging.every=1)
"${train[@]}" --set training.steps=100000 >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "step  *2/" "$work/log" && break; sleep 0.2; done
kill -TERM "$pid"
status=0
timeout 60 tail --pid="$pid" -f /dev/null || { echo "primer-train did not stop within 60 s of SIGTERM"; exit 1; }
wait "$pid" || status=$?
cat "$work/log" | tail -3
[ "$status" -eq 143 ] || { echo "exit status $status, expected 143"; exit 1; }
checkpoint=$(ls -d "$work"/run/checkpoints/step-* | tail -1)
[ -f "$checkpoint/state.json" ] || { echo "no checkpoint written"; exit 1; }
grep -q "validation loss 0.0000" "$work/log" && { echo "reported a validation loss it never measured"; exit 1; }
step=${checkpoint##*step-}
"${train[@]}" --set training.steps=$((10#$step + 2)) --resume >"$work/resumed" 2>&1
grep -q "resumed from $checkpoint" "$work/resumed" || { cat "$work/resumed"; exit 1; }
echo "SIGTERM: exit 143, checkpoint $(basename "$checkpoint"), resumed from it"
