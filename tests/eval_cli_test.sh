#!/usr/bin/env bash
# primer-eval gives the trainer's validation loss on the same tokens, and bits per byte of any text.
# Usage: eval_cli_test.sh BIN_DIR TOKENIZER.model TEXT REPOSITORY
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_setup.sh"
"$bin/primer-train" --config "$repo/configs/tiny_primer_ez.yaml" --set data.directory="$work/data" \
  --set checkpoint.directory="$work/run" --set training.steps=30 --set eval.every=30 >/dev/null 2>&1
trained=$(sed -nE 's/.*"validation_loss":([0-9.e+-]+).*/\1/p' "$work/run/metrics.jsonl" | tail -1)
"$bin/primer-eval" --checkpoint "$work/run" --data "$work/data" >"$work/data_eval"
evaluated=$(sed -nE 's/^loss +([0-9.]+) nats.*/\1/p' "$work/data_eval")
cat "$work/data_eval"
awk -v a="$trained" -v b="$evaluated" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-6 * a) }' ||
  { echo "primer-eval says $evaluated, the trainer's evaluation $trained"; exit 1; }
grep -qE '^bits per byte +[0-9]' "$work/data_eval" || { echo "no bits per byte for the dataset"; exit 1; }
"$bin/primer-eval" --checkpoint "$work/run" --text "$text" --batches 2 | tee "$work/text_eval"
grep -q "bits per byte   n/a (only part of the text was evaluated)" "$work/text_eval"
"$bin/primer-eval" --checkpoint "$work/run" --text "$text" | tee "$work/text_eval"
grep -qE '^bits per byte +[0-9]' "$work/text_eval"
echo "primer-eval: $evaluated, the trainer: $trained"
