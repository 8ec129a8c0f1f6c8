#!/usr/bin/env bash
# A container whose launcher dies (a Slurm job script killed by scancel's
# SIGTERM that did not exec husk): Slurm's proctrack/linuxproc loses track
# of it, so in a job (SLURM_JOB_ID set) the starter ends it as Slurm would:
# SIGTERM to the command, SIGKILL after Slurm's KillWait. Outside a job it
# lives on (nohup). No Slurm needed: the job's variables are set by hand.
# Env: HUSK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=$(command -v "${HUSK:-husk}")
lib_work orphan
printf 'ClusterName=test\nKillWait=2\n' >"$W/slurm.conf"
export HUSK IMG W
# One container and what is left of it: it mounts its image itself (an
# image server would rightly outlive it by HUSK_IDLE).
export HUSK_IDLE=0

# launch NAME [VAR=VALUE...]: a bash that runs husk in the foreground (not
# exec), in the background; its pid in $W/NAME.launcher. The command traps
# SIGTERM (records it, then carries on: only SIGKILL ends it).
launch() {
    local name=$1
    shift
    env "$@" bash -c '"$HUSK" exec "$IMG" sh -c "trap \"echo term >$W/$0.term\" TERM; echo up >$W/$0.up
        while :; do sleep 1; done # orphan-marker-$0"; true' "$name" &
    echo $! >"$W/$name.launcher"
    for _ in $(seq 100); do [ -s "$W/$name.up" ] && return 0; sleep 0.1; done
    return 1
}
alive() { [ -n "$(lib_alive -f "[o]rphan-marker-$1")" ]; }
export -f launch alive lib_alive

check "in a Slurm job, the launcher killed: the command gets SIGTERM, then SIGKILL after KillWait (2 s)" bash -c '
    launch job SLURM_JOB_ID=42 SLURM_CONF="$W/slurm.conf" || { echo "did not start"; exit 1; }
    kill -9 "$(cat "$W/job.launcher")"
    for _ in $(seq 100); do alive job || break; sleep 0.1; done
    ! alive job && grep -q term "$W/job.term" || { echo "alive: $(alive job && echo yes); term: $(cat "$W/job.term" 2>&1)"; exit 1; }'
check "... and nothing of it is left (starter, FUSE server)" sh -c '
    sleep 0.5; [ -z "$(lib_alive -x husk-fuse)$(lib_alive -x husk-starter)" ]'
check "outside a job, the launcher killed: the container lives on (nohup)" bash -c '
    launch nohup || { echo "did not start"; exit 1; }
    kill -9 "$(cat "$W/nohup.launcher")"
    sleep 4
    alive nohup && [ ! -e "$W/nohup.term" ]; status=$?
    pkill -9 -u "$(id -u)" -f "[o]rphan-marker-nohup"
    exit $status'
summary
