#!/usr/bin/env bash
# Starts a single-node Slurm on this machine for Integration/hpc/ (as root):
# munged, slurmctld and slurmd from Debian's slurm-wlm and munge, on
# localhost, with proctrack/linuxproc and task/none (no cgroups needed),
# PMIx and PMI-2 for MPI, and the husk SPANK plugin when it is given.
#
# Usage: start-slurm.sh DIR [SPANK_PLUGIN.so [PLUGIN ARGS...]]
# DIR receives slurm.conf, plugstack.conf, state and logs; jobs read the
# configuration through SLURM_CONF=DIR/slurm.conf. Stop with stop-slurm.sh DIR.
# The node claims 16 CPUs whatever the machine has (config_overrides), so
# a 16-task array runs its tasks at once, as on a real node.
set -euo pipefail
dir=$1 plugin=${2:-}
shift $(($# < 2 ? $# : 2))
[ "$(id -u)" -eq 0 ] || { echo "start-slurm.sh: run as root" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
"$here/stop-slurm.sh" "$dir" 2>/dev/null || true
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
chmod 755 "$dir"

# munge: Debian's package made a key; munged runs as the munge user.
[ -s /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || /usr/sbin/create-munge-key -f; }
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
munge -n </dev/null | unmunge >/dev/null || { echo "start-slurm.sh: munge does not work" >&2; exit 1; }

: >"$dir/plugstack.conf"
[ -n "$plugin" ] && echo "optional $plugin $*" >"$dir/plugstack.conf"
memory=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
cat >"$dir/slurm.conf" <<CONF
ClusterName=husk-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
PlugStackConfig=$dir/plugstack.conf
ReturnToService=2
KillWait=5
InactiveLimit=0
MinJobAge=30
SchedulerType=sched/backfill
NodeName=localhost CPUs=16 RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
chmod 644 "$dir/slurm.conf" "$dir/plugstack.conf"
export SLURM_CONF=$dir/slurm.conf
/usr/sbin/slurmctld -i
/usr/sbin/slurmd
for _ in $(seq 100); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1)
    case $state in idle*|mix*|alloc*) break ;; esac
    sleep 0.2
done
case ${state:-} in
    idle*|mix*|alloc*) echo "slurm: node localhost $state (SLURM_CONF=$dir/slurm.conf)" ;;
    *) echo "start-slurm.sh: the node did not come up (state '${state:-}')" >&2
       tail -n 5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2; exit 1 ;;
esac
