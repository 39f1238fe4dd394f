#!/usr/bin/env bash
# primer-train on a cluster, launched as users launch it, on a Slurm cluster of two hosts that
# tests/cluster/cluster.sh brings up on this machine (network and UTS namespaces, munged, slurmctld and
# a slurmd per host). Each mode makes its own cluster and compares with one process run without any:
#   srun:        `srun --mpi=pmix -n 2` on one node trains the tiny model with one process's losses (1e-6),
#                with and without ZeRO-1; ranks and local ranks are Slurm's.
#   two_hosts:   one rank on each host, by mpirun (through the namespace agent, TCP between the hosts) and
#                by `srun -N 2`: each equals one process (1e-6); the run directory, at one path on the
#                shared file system, is written by rank 0.
#   requeue:     tools/slurm/train.sbatch, the script docs/distributed.md shows (the test fails when the
#                two differ): Slurm's TERM before the time limit stops every rank after one step, rank 0
#                checkpoints, exit 143, the script requeues the job; the second run (restart 1) resumes
#                there, and the finished run is the uninterrupted one bit for bit (losses and weights).
#   fewer_hosts: a 2-node ZeRO-1 job loses h2 (everything on it killed, the node set DOWN): the job ends
#                within 60 s; a 1-node job resumes from its last checkpoint (the optimizer shards
#                regathered) and finishes within 1e-6 of one uninterrupted process.
#   killed_rank: the rank on h2 killed, under mpirun and under srun: the job ends on both hosts within
#                60 s, non-zero, and the launcher names the rank and the host.
# Usage: cluster_test.sh MODE BIN_DIR TOKENIZER.model TEXT REPOSITORY
# Exits 77 (ctest: skipped) with the reason where this machine cannot make the cluster (not root, no
# namespaces, Slurm not installed); with PRIMER_CLUSTER_TESTS=required (CI) that is a failure instead.
set -euo pipefail
mode=$1
shift
source "$(dirname "${BASH_SOURCE[0]}")/cluster/cluster.sh"
unavailable=$(cluster_unavailable)
if [ -n "$unavailable" ]; then
  echo "cluster tests cannot run here: $unavailable"
  [ "${PRIMER_CLUSTER_TESTS:-}" = required ] && { echo "PRIMER_CLUSTER_TESTS=required: failing"; exit 1; }
  exit 77
fi
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_setup.sh"
trap 'cluster_down; rm -rf "$work"' EXIT
cluster_up "$work/cluster"
# CI runs as root, which OpenMPI refuses unless told; one thread per rank so ranks do not contend.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
two_hosts_mpirun=(mpirun -np 2 -H h1,h2 --bind-to none --mca plm_rsh_agent "$cluster/rsh-agent" -x OMP_NUM_THREADS)
# The tiny Primer-EZ, 8 sequences a step: primer-train's options after RUN_DIRECTORY STEPS.
options() {  # RUN_DIRECTORY STEPS
  echo --config "$repo/configs/tiny_primer_ez.yaml" --set data.directory="$work/data" \
    --set checkpoint.directory="$1" --set training.steps="$2" --set checkpoint.keep=100 \
    --set eval.every=100000 --set eval.batches=2 --set logging.every=10 --set training.global_batch_size=8
}
one_process() {  # RUN_DIRECTORY STEPS [--set ...]...   (no launcher, no Slurm)
  local run=$1 steps=$2
  shift 2
  # shellcheck disable=SC2046
  "$bin/primer-train" $(options "$run" "$steps") --set training.batch_size=8 "$@" >"$work/one.log" 2>&1 ||
    { tail "$work/one.log"; exit 1; }
}
# The ranks' places as rank 0 logs them, against what the launcher was asked for.
expect_placement() {  # LOG "LAUNCHER: rank 0 on ..., rank 1 on ..."
  local line
  line=$(grep -o "ranks placed by .*" "$1") || { tail -20 "$1"; exit 1; }
  echo "  the log: $line"
  [ "$line" = "ranks placed by $2" ] || { echo "expected: ranks placed by $2"; exit 1; }
}
compare() {  # WHAT RUN REFERENCE FIRST LAST LIMIT
  local difference
  difference=$(loss_difference "$2" "$3" "$4" "$5")
  echo "$1: steps $4-$5, largest relative loss difference $difference (limit $6)"
  within "$difference" "$6" || exit 1
}
# The pids of the processes called NAME on host H.
processes_on_host() {  # H NAME
  local pid
  for pid in $(ip netns pids "$namespace_prefix-h$1"); do
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; then echo "$pid"; fi
  done
}
wait_for_checkpoint() {  # RUN_DIRECTORY STEP LAUNCHER_PID LOG
  local _
  for _ in $(seq 600); do
    [ -d "$1/checkpoints/step-$(printf %08d "$2")" ] && return 0
    kill -0 "$3" 2>/dev/null || { echo "the job ended before step $2"; tail -20 "$4"; exit 1; }
    sleep 0.1
  done
  echo "no checkpoint at step $2 after 60 s"
  tail -20 "$4"
  exit 1
}
# Waits for the launcher to end, at most 60 s; sets status to its exit status.
ends_within_60s() {  # LAUNCHER_PID WHAT
  timeout 60 tail --pid="$1" -f /dev/null || { echo "the job outlived $2 by 60 s"; exit 1; }
  status=0
  wait "$1" || status=$?
}

case $mode in
  srun)
    one_process "$work/one" 50
    for shard in false true; do
      # shellcheck disable=SC2046
      on_host 1 srun --mpi=pmix -N 1 -n 2 -w h1 --kill-on-bad-exit=1 "$bin/primer-train" \
        $(options "$work/srun-$shard" 50) --set training.batch_size=4 --set distributed.shard_optimizer=$shard \
        >"$work/log" 2>&1 || { tail -20 "$work/log"; exit 1; }
      compare "srun -n 2 on h1, shard_optimizer $shard, against 1 process" "$work/srun-$shard" "$work/one" 1 50 1e-6
      expect_placement "$work/log" "srun: rank 0 on h1 (local rank 0), rank 1 on h1 (local rank 1)"
    done
    ;;
  two_hosts)
    one_process "$work/one" 50
    # shellcheck disable=SC2046
    on_host 1 "${two_hosts_mpirun[@]}" "$bin/primer-train" $(options "$work/mpirun" 50) \
      --set training.batch_size=4 >"$work/log" 2>&1 || { tail -20 "$work/log"; exit 1; }
    compare "mpirun -H h1,h2 against 1 process" "$work/mpirun" "$work/one" 1 50 1e-6
    expect_placement "$work/log" "mpirun: rank 0 on h1 (local rank 0), rank 1 on h2 (local rank 0)"
    # shellcheck disable=SC2046
    on_host 1 srun --mpi=pmix -N 2 --ntasks-per-node=1 --kill-on-bad-exit=1 "$bin/primer-train" \
      $(options "$work/srun" 50) --set training.batch_size=4 --set distributed.shard_optimizer=true \
      >"$work/log" 2>&1 || { tail -20 "$work/log"; exit 1; }
    compare "srun -N 2 (ZeRO-1) against 1 process" "$work/srun" "$work/one" 1 50 1e-6
    expect_placement "$work/log" "srun: rank 0 on h1 (local rank 0), rank 1 on h2 (local rank 0)"
    # Each rank wrote its optimizer shard into rank 0's checkpoint directory: the one path all hosts see.
    ls "$work/srun/checkpoints/step-00000050/" | grep -c "optimizer.shard-[0-9]*-of-00002" | grep -qx 2 ||
      { echo "the checkpoint lacks a rank's optimizer shard"; ls "$work/srun/checkpoints/step-00000050/"; exit 1; }
    ;;
  requeue)
    script=$repo/tools/slurm/train.sbatch
    # The script docs/distributed.md shows is the one tested here.
    /usr/bin/python3 - "$repo/docs/distributed.md" "$script" <<'PYTHON' || exit 1
import re, sys
doc, script = open(sys.argv[1]).read(), open(sys.argv[2]).read()
shown = re.search(r"`tools/slurm/train\.sbatch`[^\n]*\n+```bash\n(.*?)```", doc, re.S)
if not shown:
    sys.exit("docs/distributed.md does not show tools/slurm/train.sbatch")
if shown.group(1) != script:
    sys.exit("docs/distributed.md shows a different script from tools/slurm/train.sbatch: make them one again")
print("docs/distributed.md shows tools/slurm/train.sbatch as it is")
PYTHON
    # Submitted as the doc says, from a directory with the build at build/; the job's size and time
    # limit are the test's. The run must outlast the first check of the time limit (slurmctld looks every
    # 30 s), which sends TERM at once, the limit being under 120 s: as many steps as take about 50 s on
    # this machine, at least 700 (about 50 s on the 2-core build machine), from a 40-step probe.
    # shellcheck disable=SC2046
    on_host 1 srun --mpi=pmix -N 1 -n 2 -w h1 "$bin/primer-train" $(options "$work/probe" 40) \
      --set training.batch_size=4 >"$work/log" 2>&1 || { tail -20 "$work/log"; exit 1; }
    steps=$(/usr/bin/python3 - "$work/probe/metrics.jsonl" <<'PYTHON'
import json, math, sys
timed = [r for r in map(json.loads, open(sys.argv[1])) if "elapsed" in r and r["step"] in (10, 40)]
seconds_per_step = (timed[1]["elapsed"] - timed[0]["elapsed"]) / 30
print(max(700, 100 * math.ceil(50 / seconds_per_step / 100)))
PYTHON
)
    mkdir "$work/submit"
    ln -s "$(dirname "$bin")" "$work/submit/build"
    submit() {  # RUN_DIRECTORY OUTPUT [sbatch options]...
      local run=$1 output=$2
      shift 2
      # shellcheck disable=SC2046
      on_host 1 sbatch --parsable --chdir="$work/submit" --output="$output" --nodes=1 --ntasks-per-node=2 \
        --cpus-per-task=1 "$@" "$script" $(options "$run" "$steps" | cut -d' ' -f2-) --set training.batch_size=4 \
        --set checkpoint.every=100000
    }
    job_field() {  # JOB FIELD
      on_host 1 scontrol show job "$1" | grep -o "\b$2=[^ ]*" | cut -d= -f2
    }
    wait_for() {  # JOB "STATE RESTARTS" SECONDS
      local _
      for _ in $(seq $((10 * $3))); do
        [ "$(job_field "$1" JobState) $(job_field "$1" Restarts)" = "$2" ] && return 0
        sleep 0.1
      done
      echo "job $1 is $(job_field "$1" JobState) ($(job_field "$1" Reason)) after $(job_field "$1" Restarts) restarts, not $2, after $3 s"
      cat "$work"/*.out
      echo "Slurm's logs on job $1:"
      grep -h -E "(JobId|job|StepId)[ =]?$1\b" "$cluster"/log/slurm*.log | tail -30
      exit 1
    }
    job=$(submit "$work/requeued" "$work/job.out" --time=1)
    echo "job $job: $steps steps, time limit 1 min, TERM 120 s before it"
    # The TERM, the checkpoint, exit 143 and the script's requeue: the job waits to start again.
    wait_for "$job" "PENDING 1" 120
    # The requeue's hold shows as Reason=BeginTime, which slurmctld may set a moment after the state (a
    # CI run once read another reason right after the requeue).
    for _ in $(seq 100); do
      [ "$(job_field "$job" Reason)" = BeginTime ] && break
      sleep 0.1
    done
    [ "$(job_field "$job" Reason)" = BeginTime ] ||
      { echo "the requeued job waits for $(job_field "$job" Reason), not BeginTime"; cat "$work/job.out"; exit 1; }
    stopped=$(grep -o "interrupted at step [0-9]* by signal 15" "$work/job.out") ||
      { echo "the first run did not stop at Slurm's TERM"; cat "$work/job.out"; exit 1; }
    echo "first run: $stopped; $(grep -o "Exited with exit code 143" "$work/job.out" | head -1); $(grep -m1 -o "requeued$" "$work/job.out")"
    grep -q "tasks 0-1: Exited with exit code 143" "$work/job.out" || { cat "$work/job.out"; exit 1; }
    # Skip the requeue's 120 s wait, once the first run's step daemons are gone and h1 has finished
    # completing the job (Slurm's wait covers both: a step that starts sooner finds its PMIx socket still
    # taken, and a CI run once saw the restart fail with no output while h1 was still completing); a limit
    # the rest of the run fits in, so no second TERM.
    for _ in $(seq 300); do
      [ -z "$(processes_on_host 1 slurmstepd)" ] && [ "$(on_host 1 sinfo -h -n h1 -o %t)" = idle ] && break
      sleep 0.1
    done
    # slurmd refuses a credential made in the second its job's last one was revoked, whole seconds
    # compared ("Job credential revoked": a CI run restarted within that second and the job failed).
    idle_at=$(date +%s)
    while [ "$(date +%s)" -le "$idle_at" ]; do sleep 0.05; done
    on_host 1 scontrol update JobId="$job" StartTime=now TimeLimit=30
    wait_for "$job" "COMPLETED 1" 180
    grep -q "restart 1" "$work/job.out" || { echo "the second run is not restart 1"; cat "$work/job.out"; exit 1; }
    resumed=$(grep -o "resumed from .*" "$work/job.out") || { cat "$work/job.out"; exit 1; }
    echo "second run (SLURM_RESTART_COUNT 1): $resumed; exit code $(job_field "$job" ExitCode)"
    [ "$(job_field "$job" ExitCode)" = 0:0 ] || exit 1
    # The uninterrupted run: the same script and ranks, no time limit to meet.
    reference=$(submit "$work/uninterrupted" "$work/reference.out")
    wait_for "$reference" "COMPLETED 0" 240
    compare "requeued job against the uninterrupted one" "$work/requeued" "$work/uninterrupted" 1 "$steps" 0
    final=checkpoints/step-$(printf %08d $steps)
    for file in model.safetensors optimizer.safetensors; do
      cmp "$work/requeued/$final/$file" "$work/uninterrupted/$final/$file" ||
        { echo "$file differs from the uninterrupted run's"; exit 1; }
    done
    echo "the final weights and optimizer state are the uninterrupted run's, bit for bit"
    ;;
  fewer_hosts)
    steps=80
    one_process "$work/one" $steps
    # shellcheck disable=SC2046
    on_host 1 srun --mpi=pmix -N 2 --ntasks-per-node=1 --kill-on-bad-exit=1 "$bin/primer-train" \
      $(options "$work/run" $steps) --set training.batch_size=4 --set distributed.shard_optimizer=true \
      --set checkpoint.every=5 >"$work/log" 2>&1 &
    launcher=$!
    wait_for_checkpoint "$work/run" 10 $launcher "$work/log"
    # h2 dies: every process on it (its slurmd and its rank) at once; the administrator marks it DOWN.
    ip netns pids "$namespace_prefix-h2" | xargs -r kill -KILL 2>/dev/null || true
    on_host 1 scontrol update NodeName=h2 State=DOWN Reason="test: h2 lost"
    start=$(date +%s)
    ends_within_60s $launcher "the loss of h2"
    echo "h2 lost: the 2-node job ended in $(($(date +%s) - start)) s with status $status"
    [ "$status" -ne 0 ] || { echo "the job exited 0 after losing a host"; exit 1; }
    grep -m1 "Node failure on h2" "$work/log" || { tail "$work/log"; exit 1; }
    # shellcheck disable=SC2046
    on_host 1 srun --mpi=pmix -N 1 -n 1 -w h1 "$bin/primer-train" $(options "$work/run" $steps) \
      --set training.batch_size=8 --set distributed.shard_optimizer=true --set checkpoint.every=5 --resume \
      >"$work/resumed.log" 2>&1 || { tail -20 "$work/resumed.log"; exit 1; }
    from=$(grep -o "resumed from .*step-[0-9]*" "$work/resumed.log") || { tail "$work/resumed.log"; exit 1; }
    step=$((10#${from##*step-}))
    echo "1 node: $from ($(grep -o "trained by 2 rank(s) and resumes with 1[^;]*" "$work/resumed.log"))"
    compare "resumed on 1 node against 1 uninterrupted process" "$work/run" "$work/one" $((step + 1)) $steps 1e-6
    ;;
  killed_rank)
    for launcher_name in mpirun srun; do
      # shellcheck disable=SC2046
      if [ $launcher_name = mpirun ]; then
        on_host 1 "${two_hosts_mpirun[@]}" "$bin/primer-train" $(options "$work/$launcher_name" 100000) \
          --set training.batch_size=4 --set checkpoint.every=5 >"$work/log" 2>&1 &
      else
        on_host 1 srun --mpi=pmix -N 2 --ntasks-per-node=1 --kill-on-bad-exit=1 "$bin/primer-train" \
          $(options "$work/$launcher_name" 100000) --set training.batch_size=4 --set checkpoint.every=5 \
          >"$work/log" 2>&1 &
      fi
      launcher=$!
      wait_for_checkpoint "$work/$launcher_name" 5 $launcher "$work/log"
      victim=$(processes_on_host 2 primer-train)
      [ -n "$victim" ] || { echo "no rank on h2"; exit 1; }
      kill -KILL "$victim"
      start=$(date +%s)
      ends_within_60s $launcher "a killed rank"
      echo "$launcher_name: the rank on h2 (pid $victim) killed: the job ended in $(($(date +%s) - start)) s, status $status"
      [ "$status" -ne 0 ] || { echo "the job exited 0 after losing a rank"; exit 1; }
      [ -z "$(processes_on_host 1 primer-train)" ] || { echo "the rank on h1 outlived the job"; exit 1; }
      said=$(grep -m1 -E "rank 1 .*node h2|h2: task 1" "$work/log") ||
        { echo "nothing names rank 1 on h2"; tail -20 "$work/log"; exit 1; }
      echo "  the launcher: $said"
    done
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
