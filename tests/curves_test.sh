#!/usr/bin/env bash
# primer-bench curves, as users run it, on a suite of 2 variants x 2 tiny sizes:
#   resume:  interrupted (SIGINT) during its second run, the rerun skips the finished run, resumes the
#            interrupted one and trains the rest, then writes the report and PNGs; after a change to one
#            size in the suite file only that size's runs start over.
#   invalid: a suite with an unknown variant, an impossible size or a missing dataset fails before any
#            training, naming the suite file, the line and the key; a run directory the suite did not
#            make is refused and left as it was.
# Usage: curves_test.sh MODE BIN_DIR TOKENIZER.model TEXT REPOSITORY
mode=$1
shift
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_setup.sh"
export OMP_NUM_THREADS=1
suite="$work/suite.yaml"
write_suite() {  # [STEPS OF SIZE b (60)]
  cat >"$suite" <<YAML
name: test
dataset: $work/data
recipe: $repo/configs/tiny_primer_ez.yaml
set: [model.vocab_size=1000, eval.batches=2, logging.every=10, training.batch_size=4]
variants: [vanilla, primer]
sizes:
  - {name: a, d_model: 32, num_layers: 1, num_heads: 2, steps: 40}
  - {name: b, d_model: 48, num_layers: 2, num_heads: 2, steps: ${1:-60}}
evaluations: 4
held_out_text: $text
YAML
}
bench() {  # LOG
  "$bin/primer-bench" curves --suite "$suite" --out "$work/out" >"$1" 2>&1
}

case $mode in
  resume)
    write_suite
    # Not through bench(): $! must be primer-bench itself, not a subshell that would not pass the signal.
    "$bin/primer-bench" curves --suite "$suite" --out "$work/out" >"$work/first.log" 2>&1 &
    pid=$!
    # Stop it once the second run (vanilla-b) has a checkpoint of its own.
    for _ in $(seq 600); do
      ls "$work"/out/runs/vanilla-b/checkpoints/step-* >/dev/null 2>&1 && break
      sleep 0.1
    done
    kill -INT "$pid"
    status=0
    wait "$pid" || status=$?
    echo "interrupted during vanilla-b: exit status $status"
    [ "$status" -eq 130 ] || { grep -vE "\] step|validation loss" "$work/first.log" | tail -20; exit 1; }
    bench "$work/second.log" || { tail "$work/second.log"; exit 1; }
    grep -E "\[[0-9]/4\]" "$work/second.log" | sed 's/^\[[^]]*\] \[[a-z]*\] /  /'
    grep -q "vanilla-a: already finished" "$work/second.log" || { echo "the finished run was not skipped"; exit 1; }
    grep -q "vanilla-b: resuming" "$work/second.log" || { echo "the interrupted run was not resumed"; exit 1; }
    grep -q "resumed from $work/out/runs/vanilla-b/checkpoints" "$work/second.log" || exit 1
    for file in report.md loss_vs_flops.png loss_vs_seconds.png speedup.png; do
      [ -s "$work/out/$file" ] || { echo "no $file"; exit 1; }
    done
    grep -q "| primer | b | 48 x 2 |" "$work/out/report.md" || { cat "$work/out/report.md"; exit 1; }
    # One size changed: its two runs start over, the other two are kept.
    write_suite 50
    bench "$work/third.log" || { tail "$work/third.log"; exit 1; }
    restarted=$(grep -c "the suite changed this run's config" "$work/third.log" || true)
    kept=$(grep -c "already finished" "$work/third.log" || true)
    echo "after changing size b's steps: $restarted runs started over, $kept kept"
    [ "$restarted" -eq 2 ] && [ "$kept" -eq 2 ] || { grep -E "\[[0-9]/4\]" "$work/third.log"; exit 1; }
    ;;
  invalid)
    expect_refusal() {  # WHAT SED-EXPRESSION EXPECTED-IN-ERROR
      write_suite
      sed -i "$2" "$suite"
      if bench "$work/log"; then echo "$1: accepted"; exit 1; fi
      grep -q "$3" "$work/log" || { echo "$1: the error does not say '$3':"; cat "$work/log"; exit 1; }
      [ ! -d "$work/out/runs" ] || { echo "$1: runs began before the suite was refused"; exit 1; }
      echo "$1: $(grep -m1 primer-bench "$work/log")"
    }
    expect_refusal "unknown variant" 's/variants: \[vanilla, primer\]/variants: [vanilla, primer_xl]/' \
      "$suite:5: variants\[1\]: unknown variant 'primer_xl'"
    expect_refusal "impossible size" 's/name: b, d_model: 48/name: b, d_model: 49/' \
      "$suite:8: sizes\[1\].num_heads: d_model 49 is not divisible by num_heads 2"
    expect_refusal "missing dataset" "s|^dataset: .*|dataset: $work/nowhere|" \
      "$suite:2: dataset: the dataset '$work/nowhere' does not exist"
    # A run directory the suite did not make is refused, not replaced.
    write_suite
    mkdir -p "$work/out/runs/vanilla-a"
    echo "someone's notes" >"$work/out/runs/vanilla-a/notes.txt"
    if bench "$work/log"; then echo "a foreign run directory was taken over"; exit 1; fi
    grep -q "runs/vanilla-a holds files but no suite_run.json" "$work/log" || { cat "$work/log"; exit 1; }
    [ -f "$work/out/runs/vanilla-a/notes.txt" ] || { echo "the foreign run directory was deleted"; exit 1; }
    echo "foreign run directory: $(grep -m1 primer-bench "$work/log")"
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
