#!/usr/bin/env bash
# Stops the Slurm that start-slurm.sh DIR started (munged stays: it is shared).
set -uo pipefail
dir=$1
for daemon in slurmd slurmctld; do
    pidfile=$dir/$daemon.pid
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
done
exit 0
