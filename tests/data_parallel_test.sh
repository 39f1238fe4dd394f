#!/usr/bin/env bash
# Data parallelism on the CPU through MPI, with primer-train as users run it:
#   equal:  `mpirun -np 2` trains 50 steps with the same losses as one process with the same global
#           batch (relative difference <= 1e-6 at every step, f32), with AdamW and with Adafactor, with
#           replicated and with sharded optimizer state (ZeRO-1, which must halve it per rank), gradients
#           in several buckets sent during the backward pass; one process through the same path
#           (distributed.check_collectives) trains bit for bit as without it; a batch
#           that does not add up to the global batch is refused before training.
#   resume: the 2-rank run resumed from its step-20 checkpoint with 2 ranks matches the uninterrupted run
#           bit for bit, and resumed as 1 process within 1e-6; with and without ZeRO-1.
#   kill:   one rank killed mid-run ends the other within 60 s, the job exits non-zero naming the rank,
#           and the checkpoints already written stay usable.
#   hang:   one rank stopped (SIGSTOP) mid-run: the other's collective times out after
#           distributed.timeout_seconds and the job ends non-zero, naming the call and the rank; the
#           checkpoints stay usable.
# Usage: data_parallel_test.sh MODE BIN_DIR TOKENIZER.model TEXT REPOSITORY
mode=$1
shift
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_setup.sh"
# CI machines run as root, which OpenMPI refuses unless told; one thread per rank so ranks do not contend.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
two_ranks=(mpirun -np 2 --oversubscribe --bind-to none)
train() {  # RUN_DIRECTORY [--set ...]...   (the config: $config, else the tiny Primer-EZ)
  local run=$1
  shift
  "$bin/primer-train" --config "${config:-$repo/configs/tiny_primer_ez.yaml}" --set data.directory="$work/data" \
    --set checkpoint.directory="$run" --set checkpoint.every=20 --set checkpoint.keep=5 \
    --set eval.every=100000 --set eval.batches=2 --set logging.every=10 --set training.steps=50 "$@"
}
case $mode in
  equal)
    # The tiny config with Adafactor in place of AdamW (whose keys Adafactor does not take).
    sed -e '/^optimizer:/,/^[a-z]/{/^optimizer:/!{/^[a-z]/!d}}' -e 's/^optimizer:/optimizer:\n  name: adafactor/' \
      "$repo/configs/tiny_primer_ez.yaml" >"$work/adafactor.yaml"
    for optimizer in adamw adafactor; do
      config="$repo/configs/tiny_primer_ez.yaml"
      [ $optimizer = adafactor ] && config="$work/adafactor.yaml"
      train "$work/one-$optimizer" --set training.batch_size=8 >"$work/log" 2>&1 ||
        { tail "$work/log"; exit 1; }
      for shard in false true; do
        "${two_ranks[@]}" "$bin/primer-train" --config "$config" \
          --set data.directory="$work/data" --set checkpoint.directory="$work/two-$optimizer-$shard" \
          --set checkpoint.every=20 --set checkpoint.keep=5 --set eval.every=100000 --set eval.batches=2 \
          --set logging.every=10 --set training.steps=50 --set distributed.shard_optimizer=$shard \
          --set distributed.bucket_mb=1 --set training.batch_size=4 --set training.global_batch_size=8 >"$work/log" 2>&1 ||
          { tail -20 "$work/log"; exit 1; }
        difference=$(loss_difference "$work/two-$optimizer-$shard" "$work/one-$optimizer" 1 50)
        echo "$optimizer, shard_optimizer $shard: 2 ranks x 4 sequences against 1 process x 8, 50 steps: largest relative loss difference $difference"
        within "$difference" 1e-6 || { echo "more than 1e-6"; exit 1; }
        # Buckets of 1 MB: several, sent during the backward pass.
        overlap=$(grep -m1 -o "[0-9]* of [0-9]* bucket(s) started during the backward pass" "$work/log") ||
          { tail "$work/log"; exit 1; }
        echo "  $overlap"
        [[ $overlap =~ ^([0-9]+)\ of\ ([0-9]+) && ${BASH_REMATCH[2]} -gt 1 && ${BASH_REMATCH[1]} -gt 0 ]] ||
          { echo "no bucket overlapped the backward pass"; exit 1; }
        if [ $shard = true ]; then
          # Rank 0's share against the whole state (the line the trainer logs).
          line=$(grep -m1 -o "optimizer state: .*ZeRO-1)" "$work/log") || { tail "$work/log"; exit 1; }
          echo "  $line"
          /usr/bin/python3 - "$line" <<'PYTHON' || { echo "ZeRO-1 did not halve the optimizer state per rank"; exit 1; }
import re, sys
mine, whole = map(float, re.search(r"state: ([0-9.]+) MiB .* ([0-9.]+) MiB over", sys.argv[1]).groups())
sys.exit(0 if mine <= 0.6 * whole else 1)
PYTHON
        fi
      done
    done
    unset config
    # One process through the collectives' path (what the GPU check runs through NCCL): the same run.
    train "$work/alone" --set training.batch_size=8 --set distributed.check_collectives=true \
      --set distributed.shard_optimizer=true >"$work/log" 2>&1 || { tail "$work/log"; exit 1; }
    difference=$(loss_difference "$work/alone" "$work/one-adamw" 1 50)
    echo "1 process with distributed.check_collectives and ZeRO-1 against without: largest relative loss difference $difference"
    within "$difference" 0 || { echo "the world-of-one collectives path changed the run"; exit 1; }
    if "${two_ranks[@]}" "$bin/primer-train" --config "$repo/configs/tiny_primer_ez.yaml" \
      --set data.directory="$work/data" --set checkpoint.directory="$work/refused" >"$work/log" 2>&1; then
      echo "2 ranks with the one-process batch trained instead of refusing"
      exit 1
    fi
    grep -q "set training.global_batch_size" "$work/log" || { tail "$work/log"; exit 1; }
    echo "a batch that does not add up to the global batch is refused: $(grep -m1 -o 'the global batch is.*' "$work/log" | cut -c1-100)..."
    ;;
  resume)
    for shard in false true; do
      two=(mpirun -np 2 --oversubscribe --bind-to none "$bin/primer-train" --config "$repo/configs/tiny_primer_ez.yaml"
        --set data.directory="$work/data" --set checkpoint.every=20 --set checkpoint.keep=5 --set eval.every=100000
        --set eval.batches=2 --set logging.every=10 --set training.steps=50 --set training.batch_size=4
        --set training.global_batch_size=8 --set distributed.shard_optimizer=$shard)
      runs="$work/shard-$shard"
      "${two[@]}" --set checkpoint.directory="$runs/whole" >"$work/log" 2>&1 || { tail -20 "$work/log"; exit 1; }
      for resumed in two one; do
        mkdir -p "$runs/$resumed/checkpoints"
        cp -r "$runs/whole/checkpoints/step-00000020" "$runs/$resumed/checkpoints/"
        cp "$runs/whole/metrics.jsonl" "$runs/$resumed/"
      done
      "${two[@]}" --set checkpoint.directory="$runs/two" --resume >"$work/log" 2>&1 || { tail -20 "$work/log"; exit 1; }
      train "$runs/one" --set training.batch_size=8 --resume >"$work/log" 2>&1 || { tail "$work/log"; exit 1; }
      grep -q "resumed from $runs/one/checkpoints/step-00000020" "$work/log" || { tail "$work/log"; exit 1; }
      said=$(grep -o "trained by 2 rank(s) and resumes with 1.*" "$work/log") ||
        { echo "the change of ranks went unsaid"; exit 1; }
      echo "  resumed as 1 process, the log says: ... $said"
      same=$(loss_difference "$runs/two" "$runs/whole" 21 50)
      other=$(loss_difference "$runs/one" "$runs/whole" 21 50)
      echo "shard_optimizer $shard: resumed at step 20, steps 21-50 against the uninterrupted 2-rank run: 2 ranks $same, 1 process $other"
      echo "  its checkpoint's optimizer state: $(cd "$runs/whole/checkpoints/step-00000020" && ls optimizer* | tr '\n' ' ')"
      within "$same" 0 || { echo "2 ranks resumed are not bit for bit the uninterrupted run"; exit 1; }
      within "$other" 1e-6 || { echo "1 process resumed differs by more than 1e-6"; exit 1; }
    done
    ;;
  kill | hang)
    # A 2-rank run that would go on for ever; once it has checkpointed at step 10, one rank is killed
    # (kill) or stopped (hang, with a 5 s collective timeout).
    "${two_ranks[@]}" "$bin/primer-train" --config "$repo/configs/tiny_primer_ez.yaml" \
      --set data.directory="$work/data" --set checkpoint.directory="$work/run" --set checkpoint.every=5 \
      --set eval.every=100000 --set eval.batches=1 --set logging.every=1 --set training.steps=100000 \
      --set training.batch_size=4 --set training.global_batch_size=8 --set distributed.timeout_seconds=5 \
      >"$work/log" 2>&1 &
    launcher=$!
    for _ in $(seq 300); do [ -d "$work/run/checkpoints/step-00000010" ] && break; sleep 0.2; done
    victim=$(pgrep -P "$launcher" -f primer-train | tail -1)
    [ -n "$victim" ] || { echo "no rank to $mode"; tail "$work/log"; exit 1; }
    # Whatever happens, no rank outlives the test (a stopped one would not go by itself).
    trap 'kill -KILL "$victim" "$launcher" 2>/dev/null || true; rm -rf "$work"' EXIT
    if [ "$mode" = kill ]; then kill -KILL "$victim"; what=killed; else kill -STOP "$victim"; what=stopped; fi
    start=$(date +%s)
    timeout 60 tail --pid="$launcher" -f /dev/null || { echo "the job outlived a $what rank by 60 s"; exit 1; }
    status=0
    wait "$launcher" || status=$?
    echo "rank pid $victim $what: the job ended in $(($(date +%s) - start)) s with status $status"
    [ "$status" -ne 0 ] || { echo "the job exited 0 after losing a rank"; exit 1; }
    if [ "$mode" = hang ]; then
      grep -m1 "waited more than" "$work/log" || { echo "no rank reported the timeout"; tail "$work/log"; exit 1; }
    else
      grep -iE "rank 1|process rank|signal 9|killed" "$work/log" | head -3
      grep -qiE "rank|signal 9" "$work/log" || { echo "nothing names the dead rank"; tail "$work/log"; exit 1; }
    fi
    checkpoint=$(ls -d "$work"/run/checkpoints/step-* | tail -1)
    step=${checkpoint##*step-}
    train "$work/run" --set training.batch_size=8 --set training.steps=$((10#$step + 1)) --resume \
      >"$work/resumed" 2>&1 || { echo "the checkpoints did not survive"; tail "$work/resumed"; exit 1; }
    grep -m1 "resumed from" "$work/resumed" || { tail "$work/resumed"; exit 1; }
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
