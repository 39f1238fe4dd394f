#!/usr/bin/env bash
# The main job: fetch the bundled corpus, train a 4096-piece tokenizer, encode the corpus, train the
# tiny Primer-EZ (about 1.5 minutes on 2 cores), then sample from it. Steps already done are skipped;
# training resumes from the newest checkpoint of runs/tiny_primer_ez, so running it again continues.
# Usage: tools/quickstart.sh [primer-train options, e.g. --config configs/tiny_primer.yaml --resume]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bin=build/bin
[ -x "$bin/primer-train" ] || { echo "quickstart: build first (tools/setup.sh)" >&2; exit 1; }

tools/fetch_prose_mix.sh
if [ ! -f data/prose_mix_bpe4k.model ]; then
  "$bin/primer-data" train-tokenizer --input data/prose_mix --output data/prose_mix_bpe4k --vocab-size 4096
fi
if [ ! -f data/prose_mix_tokens/meta.json ]; then
  "$bin/primer-data" encode --tokenizer data/prose_mix_bpe4k.model --input data/prose_mix \
    --output data/prose_mix_tokens --validation-fraction 0.02
fi
"$bin/primer-data" stats data/prose_mix_tokens
case " $* " in
  *" --config "*) "$bin/primer-train" "$@" ;;
  *)
    "$bin/primer-train" --config configs/tiny_primer_ez.yaml --resume "$@"
    echo "greedy continuation from runs/tiny_primer_ez:"
    "$bin/primer-sample" --checkpoint runs/tiny_primer_ez --prompt "The President said" --greedy \
      --repetition-penalty 1.5 --max-new-tokens 40
    ;;
esac
