# Sourced by the command-line tests (tests/*_test.sh): takes their four arguments, BIN_DIR TOKENIZER.model
# TEXT REPOSITORY, makes a scratch directory $work (removed on exit) and encodes TEXT with the tokenizer
# into the dataset $work/data, 5% of it validation.
set -euo pipefail
bin=$1 tokenizer=$2 text=$3 repo=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/primer-data" encode --tokenizer "$tokenizer" --input "$text" --output "$work/data" \
  --validation-fraction 0.05 >/dev/null 2>&1
