#!/usr/bin/env bash
# A one-node Slurm cluster on loopback for the tests of `--launcher slurm` (docs/serve.md):
# munged, slurmctld and slurmd from Debian's packages (scripts/deps.sh installs them), every
# file of theirs under one folder, nothing under /etc touched.
#   eval "$(bash scripts/slurm-loopback.sh start DIR)"   # prints `export SLURM_CONF=...`
#   bash scripts/slurm-loopback.sh stop DIR
# Needs root (slurmd runs job steps as their user) and the ports 16817-16818 (SLURM_PORT_BASE).
set -euo pipefail
action=${1:?usage: slurm-loopback.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: slurm-loopback.sh start|stop DIR}" && cd "$2" && pwd)
base=${SLURM_PORT_BASE:-16817}

stop() {
  for name in slurmd slurmctld munged; do
    if [[ -f "$dir/$name.pid" ]]; then
      pid=$(cat "$dir/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/$name.pid"
    fi
  done
}

if [[ "$action" == stop ]]; then
  stop
  exit 0
fi
[[ "$action" == start ]] || { echo "usage: slurm-loopback.sh start|stop DIR" >&2; exit 2; }
for tool in munged mungekey slurmctld slurmd srun sinfo; do
  command -v "$tool" >/dev/null || { echo "slurm-loopback: $tool missing (bash scripts/deps.sh)" >&2; exit 1; }
done
stop
mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
chmod 700 "$dir/munge"

# munge: a key of this cluster's own, a socket in the folder.
[[ -f "$dir/munge/munge.key" ]] || mungekey --create --keyfile="$dir/munge/munge.key" >&2
chmod 600 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed" >&2

# The node as slurmd sees this machine (CPUs, memory), so that it is not drained as smaller.
read -r cpus memory < <(slurmd -C | awk '/^NodeName/ {
  for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["CPUs"], v["RealMemory"] }')
cat >"$dir/slurm.conf" <<EOF
ClusterName=tritonize-loopback
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=5
InactiveLimit=0
MinJobAge=10
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=loopback Nodes=localhost Default=YES MaxTime=INFINITE OverSubscribe=FORCE:8 State=UP
EOF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF" -i >&2
slurmd -f "$SLURM_CONF" -N localhost >&2

# Up when a one-task step runs.
for _ in $(seq 120); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' &&
     timeout 20 srun --quiet -N1 -n1 true 2>/dev/null; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "slurm-loopback: the cluster did not come up; logs in $dir" >&2
tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 1
