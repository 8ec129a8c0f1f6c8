#!/usr/bin/env bash
# Husk in Slurm jobs, on the single-node Slurm that Integration/hpc/start-slurm.sh
# starts (Scripts/test does, as root): srun tasks, a batch script and its
# exit code, a 16-task array on one shared image and one fresh cache,
# scancel (SIGTERM, then SIGKILL) leaving nothing, srun --pty with a shell,
# and PMI-2's descriptor under srun --mpi=pmi2.
# Env: HUSK, SLURM_CONF (the running Slurm's configuration).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=$(command -v "${HUSK:-husk}")
if [ -z "${SLURM_CONF:-}" ] || ! command -v srun >/dev/null || ! sinfo -h >/dev/null 2>&1; then
    skip "Husk in Slurm jobs" "no running Slurm (SLURM_CONF unset or slurmctld down: Scripts/test starts one as root)"
    summary
    exit 0
fi
lib_work slurm
# Jobs run as this user with this environment (sbatch --export=ALL).
export HUSK IMG W

# The ranks of a step share one image server (one user namespace), which
# is the step's: it ends with the step, or HUSK_IDLE after it.
check "srun -n 4: the tasks of a step join one image server (one user namespace), gone after the step" sh -c '
    out=$(HUSK_IDLE=1 timeout 120 srun -n 4 "$HUSK" exec "$IMG" readlink /proc/self/ns/user | sort -u)
    [ "$(echo "$out" | wc -l)" = 1 ] || { echo "$out"; exit 1; }
    for _ in $(seq 50); do "$HUSK" server list | grep -qF "$IMG" || exit 0; sleep 0.1; done
    "$HUSK" server list; exit 1'
# The checks below are about one container and what is left of it: each
# mounts its image itself (image servers are tested above and in test-server.sh).
export HUSK_IDLE=0

check "srun -n 2 husk exec: each task runs in the image and sees its rank and size" sh -c '
    out=$(timeout 120 srun -n 2 "$HUSK" exec "$IMG" sh -c "test -x /bin/busybox && echo task \$SLURM_PROCID of \$SLURM_NTASKS" | sort)
    [ "$out" = "task 0 of 2
task 1 of 2" ] || { echo "$out"; exit 1; }'

check "srun: the step's exit code is the container's (7)" sh -c '
    timeout 120 srun -n 1 "$HUSK" exec "$IMG" sh -c "exit 7" 2>/dev/null; [ $? -eq 7 ]'

cat >"$W/batch.sh" <<'EOF'
#!/bin/bash
#SBATCH -n 1
"$HUSK" exec "$IMG" sh -c 'echo in-image job $SLURM_JOB_ID; cat /etc/hostname >/dev/null 2>&1; exit 5'
EOF
check "sbatch: a batch script runs husk exec, and the job's exit code is the container's (5)" bash -c '
    timeout 180 sbatch --wait --parsable -o "$W/batch.out" "$W/batch.sh" >"$W/batch.id"; status=$?
    id=$(cat "$W/batch.id")
    grep -q "^in-image job $id\$" "$W/batch.out" && [ $status -eq 5 ] &&
        scontrol show job "$id" | grep -q "ExitCode=5:0" || { echo "status $status"; cat "$W/batch.out"; exit 1; }'

# Sixteen tasks at once (the node claims 16 CPUs) on one OCI layout and one
# fresh cache: half convert-and-serve through FUSE, half extract; one
# conversion and one extraction must win, the others wait and reuse them.
mkdir -m 700 "$W/shared-tmp"
cat >"$W/array.sh" <<'EOF'
#!/bin/bash
#SBATCH --array=0-15
#SBATCH -n 1
export HUSK_CACHEDIR=$W/shared-cache TMPDIR=$W/shared-tmp
mode=fuse
[ $((SLURM_ARRAY_TASK_ID % 2)) -eq 0 ] && mode=extract
exec "$HUSK" exec --mode "$mode" oci:"$W/bb-oci" sh -c "test -x /bin/busybox && echo task $SLURM_ARRAY_TASK_ID $mode ok"
EOF
check "a 16-task job array on one image and one fresh cache: every task starts" bash -c '
    timeout 300 sbatch --wait -o "$W/array-%a.out" "$W/array.sh" >/dev/null || { cat "$W"/array-*.out; exit 1; }
    [ "$(cat "$W"/array-*.out | grep -c " ok$")" -eq 16 ] || { cat "$W"/array-*.out; exit 1; }'
check "... with one conversion in the cache and one extracted tree, nothing half-written left" bash -c '
    images=$(find "$W/shared-cache/images" -name "*.sqsh" | wc -l)
    trees=$(find "$W/shared-tmp/husk-$(id -u)/rootfs" -mindepth 1 -maxdepth 1 -type d | wc -l)
    partial=$(find "$W/shared-cache" "$W/shared-tmp" -name "*.tmp-*" | wc -l)
    [ "$images" -eq 1 ] && [ "$trees" -eq 1 ] && [ "$partial" -eq 0 ] ||
        { echo "images $images, trees $trees, partial $partial"; find "$W/shared-cache" "$W/shared-tmp" -maxdepth 4; exit 1; }'

# scancel: SIGTERM to every process of the job (the FUSE server must not
# die of it: the command still reads its image while it cleans up), then
# SIGKILL after KillWait; nothing of the job may be left.
leftovers() { # PATTERN: this user's live processes of the job
    lib_alive -f "$1"
    lib_alive -x husk-fuse
    lib_alive -x husk-starter
}
wait_gone() { # JOBID
    for _ in $(seq 150); do
        squeue -h -j "$1" 2>/dev/null | grep -q . || return 0
        sleep 0.2
    done
    return 1
}
cancel_started() { # NAME: submit $W/NAME.sh, wait for $W/NAME-started, scancel it, wait until it leaves the queue
    local id
    id=$(sbatch --parsable -o "$W/$1.out" "$W/$1.sh")
    for _ in $(seq 300); do [ -s "$W/$1-started" ] && break; sleep 0.1; done
    [ -s "$W/$1-started" ] || { echo "the job did not start"; cat "$W/$1.out"; scancel "$id"; return 1; }
    scancel "$id"
    wait_gone "$id" || { echo "job $id still in the queue"; return 1; }
}
export -f leftovers wait_gone lib_alive cancel_started
# The commands run in the container, whose environment is Husk's, not the
# job's: the paths are written into them here.
cat >"$W/cancel.sh" <<EOF
#!/bin/bash
#SBATCH -n 1
exec "\$HUSK" exec "\$IMG" sh -c 'trap "cat /etc/passwd >/dev/null && echo cleaned-up >$W/term; exit 143" TERM
    echo started >$W/cancel-started; while :; do sleep 1; done'
EOF
check "scancel (SIGTERM): the command gets it and can still read its image to clean up" bash -c '
    cancel_started cancel || exit 1
    grep -q cleaned-up "$W/term" || { echo "no clean-up"; cat "$W/cancel.out"; exit 1; }'
check "... and leaves no process (command, starter, FUSE server)" bash -c '
    sleep 1; left=$(leftovers "$W/cancel-started"); [ -z "$left" ] || { ps -o pid,args -p $left; exit 1; }'
cat >"$W/stubborn.sh" <<EOF
#!/bin/bash
#SBATCH -n 1
"\$HUSK" exec "\$IMG" sh -c 'trap "" TERM; echo started >$W/stubborn-started; while :; do sleep 1; done'
EOF
check "scancel of a job script (no exec) whose command ignores SIGTERM: SIGKILL after KillWait, nothing left" bash -c '
    cancel_started stubborn || exit 1
    # KillWait (start-slurm.sh: 5 s), then the kill itself.
    for _ in $(seq 100); do [ -z "$(leftovers "$W/stubborn-started")" ] && break; sleep 0.1; done
    left=$(leftovers "$W/stubborn-started"); [ -z "$left" ] || { ps -o pid,args -p $left; exit 1; }'
check "srun --pty husk shell: a working terminal (tty, prompt, commands)" bash -c '
    out=$(printf "echo shell-says-\$((6 * 7)); tty; exit 3\n" |
          timeout 120 script -qec "srun --pty \"$HUSK\" shell \"$IMG\"" /dev/null); status=$?
    printf "%s\n" "$out" | grep -q "shell-says-42" && printf "%s\n" "$out" | grep -q "^/dev/pts/" && [ $status -eq 3 ] ||
        { echo "status $status"; printf "%s\n" "$out"; exit 1; }'

check "srun --mpi=pmi2 -n 2: each task finds its PMI_FD open inside and PMI_RANK/PMI_SIZE set" bash -c '
    out=$(timeout 120 srun --mpi=pmi2 -n 2 "$HUSK" exec "$IMG" sh -c "test -n \"\$PMI_FD\" && test -e /proc/self/fd/\$PMI_FD && echo \$PMI_RANK/\$PMI_SIZE open" | sort)
    [ "$out" = "0/2 open
1/2 open" ] || { echo "$out"; exit 1; }'

# The SPANK plugin (start-slurm.sh loads it when Scripts/test gives it).
if srun --help 2>&1 | grep -q -- "--husk-image"; then
    check "srun --husk-image=IMG -n 2: each task runs inside the image (no /etc/debian_version), no HUSK_SPANK_ variable" sh -c '
        out=$(timeout 120 srun -n 2 --husk-image="$IMG" sh -c "test ! -e /etc/debian_version && test -x /bin/busybox &&
            ! env | grep -q HUSK_SPANK_ && echo task \$SLURM_PROCID" | sort)
        [ "$out" = "task 0
task 1" ] || { echo "$out"; exit 1; }'
    mkdir -p "$W/data" && echo spank-data >"$W/data/file"
    check "srun --husk-mounts=SRC:/data:ro --husk-workdir=/data: bound read-only, and the working directory" sh -c '
        out=$(timeout 120 srun -n 1 --husk-image="$IMG" --husk-mounts="$W/data:/data:ro" --husk-workdir=/data \
            sh -c "cat file; pwd; touch x 2>/dev/null && echo writable")
        [ "$out" = "spank-data
/data" ] || { echo "$out"; exit 1; }'
    check "srun --husk-image: the step's exit code is the container's (6)" sh -c '
        timeout 120 srun -n 1 --husk-image="$IMG" sh -c "exit 6" 2>/dev/null; [ $? -eq 6 ]'
    check "srun --husk-image=oci:LAYOUT -n 4 with a fresh cache: one conversion for the step" sh -c '
        HUSK_CACHEDIR=$W/spank-cache timeout 300 srun -n 4 --husk-image=oci:"$W/bb-oci" true &&
        [ "$(find "$W/spank-cache/images" -name "*.sqsh" | wc -l)" -eq 1 ]'
    check "srun --husk-image=docker://... pulls once before the tasks, as the user alone: an unreachable registry fails the step" sh -c '
        ! timeout 120 srun -n 2 --husk-image=docker://127.0.0.1:9/none/image:1 sh -c "echo ran" >"$W/pull.out" 2>"$W/pull.err" &&
        ! grep -q ran "$W/pull.out" && grep -q "pulling docker://127.0.0.1:9/none/image:1 failed" "$W/pull.err" &&
        ! grep -q "cannot become uid" "$W/pull.err" || { cat "$W/pull.err"; exit 1; }'
    check "srun without --husk-image: tasks run on the host as before" sh -c '
        timeout 120 srun -n 1 test -e /etc/debian_version'
    check "a missing image: the step fails with husk's one line, no task runs the command" sh -c '
        ! timeout 120 srun -n 1 --husk-image="$W/missing.sqsh" sh -c "echo ran" >"$W/missing.out" 2>"$W/missing.err" &&
        ! grep -q ran "$W/missing.out" && grep -q "^husk: .*missing.sqsh" "$W/missing.err"'
    check "every --husk-* option srun lists is documented in Man/husk_spank.8" sh -c '
        for option in $(srun --help 2>&1 | grep -o -- "--husk-[a-z]*" | sort -u); do
            grep -q -- "Fl -${option#--}" "$1" || { echo "$option is not in $1"; exit 1; }
        done' _ "${HUSK_MAN:-$here/../../Man}/husk_spank.8"
else
    skip "the husk SPANK plugin (srun --husk-image)" "the running Slurm does not load it (start-slurm.sh DIR libhusk_spank.so husk=PATH)"
fi

summary
