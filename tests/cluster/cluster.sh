# Sourced by tests/cluster_test.sh: a two-host cluster on this machine, made of what a real one is made of.
#   hosts:  h1 and h2, each a network namespace (joined by a veth pair, 10.250.0.1 and .2) with a UTS
#           namespace of its own, so each has its own address and host name; the file system is shared,
#           as a cluster's is.
#   Slurm:  munged, slurmctld (on h1) and one slurmd per host, from a slurm.conf written into $cluster;
#           every daemon runs inside a host's namespaces, so the tests of one run cannot meet another's.
#   mpirun: reaches h2 through $cluster/rsh-agent, which enters h2's namespaces where ssh would log in.
# cluster_up makes it all (about a second); cluster_down stops every daemon by its pid and removes the
# namespaces. A test killed before its cleanup leaves namespaces named after its pid: the next
# cluster_up ends what runs in them and removes them.

# Why this machine cannot hold the cluster, or nothing when it can.
cluster_unavailable() {
  [ "$(id -u)" = 0 ] || { echo "not root (network namespaces and Slurm's daemons need it)"; return; }
  local tool
  for tool in ip nsenter unshare munged slurmctld slurmd srun sbatch scontrol sinfo mpirun; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (tools/setup.sh installs it)"; return; }
  done
  local probe="primer-probe-$$"
  ip netns add "$probe" 2>/dev/null || { echo "network namespaces cannot be made here (ip netns add failed)"; return; }
  ip netns delete "$probe"
}

# Runs a command on host H (1 or 2): in its network and UTS namespaces.
on_host() {  # H COMMAND...
  local host=$1
  shift
  nsenter --net="/run/netns/$namespace_prefix-h$host" --uts="$cluster/uts-h$host" "$@"
}

# Ends what runs in namespaces left by tests that are gone, and removes them.
remove_stale_hosts() {
  local name owner
  for name in $(ip netns list | grep -o '^primer-cluster-[0-9]*-h[0-9]*' || true); do
    owner=${name#primer-cluster-}
    owner=${owner%-h*}
    kill -0 "$owner" 2>/dev/null && continue
    ip netns pids "$name" | xargs -r kill -KILL 2>/dev/null || true
    ip netns delete "$name" || true
  done
}

cluster_up() {  # DIRECTORY
  cluster=$1
  namespace_prefix="primer-cluster-$$"
  remove_stale_hosts
  # munged refuses a socket directory that others cannot enter, nor may a parent of it shut them out.
  mkdir -p "$cluster"
  local dir=$cluster
  while [ "$dir" != / ]; do
    chmod o+x "$dir"
    dir=$(dirname "$dir")
  done
  local h
  for h in 1 2; do
    ip netns add "$namespace_prefix-h$h"
    ip -n "$namespace_prefix-h$h" link set lo up
    touch "$cluster/uts-h$h"
    unshare --uts="$cluster/uts-h$h" hostname "h$h"
  done
  ip link add "pc$$a" type veth peer name "pc$$b"
  ip link set "pc$$a" netns "$namespace_prefix-h1"
  ip link set "pc$$b" netns "$namespace_prefix-h2"
  ip -n "$namespace_prefix-h1" addr add 10.250.0.1/24 dev "pc$$a"
  ip -n "$namespace_prefix-h2" addr add 10.250.0.2/24 dev "pc$$b"
  ip -n "$namespace_prefix-h1" link set "pc$$a" up
  ip -n "$namespace_prefix-h2" link set "pc$$b" up

  cat >"$cluster/rsh-agent" <<AGENT
#!/bin/sh
# mpirun's ssh: the host name, then the remote command as one string.
host=\${1#h}
shift
exec nsenter --net="/run/netns/$namespace_prefix-h\$host" --uts="$cluster/uts-h\$host" sh -c "\$*"
AGENT
  chmod +x "$cluster/rsh-agent"

  mkdir -p "$cluster/munge" "$cluster/state" "$cluster/log" "$cluster/spool/h1" "$cluster/spool/h2" \
    "$cluster/tmp/h1" "$cluster/tmp/h2"
  dd if=/dev/urandom of="$cluster/munge/key" bs=1024 count=1 status=none
  chmod 400 "$cluster/munge/key"
  on_host 1 munged --force --socket="$cluster/munge/socket" --key-file="$cluster/munge/key" \
    --log-file="$cluster/munge/log" --pid-file="$cluster/munge/pid" --seed-file="$cluster/munge/seed" --origin=10.250.0.1

  export SLURM_CONF=$cluster/slurm.conf
  cat >"$SLURM_CONF" <<CONF
ClusterName=primer-test
SlurmctldHost=h1(10.250.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$cluster/munge/socket
CredType=cred/munge
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=$cluster/state
SlurmdSpoolDir=$cluster/spool/%n
TmpFS=$cluster/tmp/%n
SlurmctldPidFile=$cluster/slurmctld.pid
SlurmdPidFile=$cluster/slurmd-%n.pid
SlurmctldLogFile=$cluster/log/slurmctld.log
SlurmdLogFile=$cluster/log/slurmd-%n.log
NodeName=h1 NodeAddr=10.250.0.1 CPUs=2 State=UNKNOWN
NodeName=h2 NodeAddr=10.250.0.2 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=h1,h2 Default=YES MaxTime=INFINITE State=UP
CONF
  on_host 1 slurmctld -f "$SLURM_CONF"
  for h in 1 2; do on_host $h slurmd -f "$SLURM_CONF" -N "h$h"; done
  local _
  for _ in $(seq 100); do
    [ "$(on_host 1 sinfo -h -o '%t %D' 2>/dev/null)" = "idle 2" ] && return 0
    sleep 0.1
  done
  echo "Slurm did not come up: sinfo says '$(on_host 1 sinfo -h 2>&1)'"
  tail -5 "$cluster"/log/*
  return 1
}

cluster_down() {
  [ -n "${cluster:-}" ] || return 0
  local pid_file h
  local pids=()
  for pid_file in "$cluster"/slurmd-h*.pid "$cluster/slurmctld.pid" "$cluster/munge/pid"; do
    [ -f "$pid_file" ] && pids+=("$(cat "$pid_file")")
  done
  # A process may end between being listed and being signalled: clean-up goes on regardless.
  [ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
  local _
  for _ in $(seq 30); do
    [ ${#pids[@]} -gt 0 ] && kill -0 "${pids[@]}" 2>/dev/null || break
    sleep 0.1
  done
  for h in 1 2; do
    # Whatever is left (job steps, ranks, a daemon that did not go at TERM) goes with its host.
    ip netns pids "$namespace_prefix-h$h" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns delete "$namespace_prefix-h$h" 2>/dev/null || true
    umount "$cluster/uts-h$h" 2>/dev/null || true
  done
  return 0
}
