#!/usr/bin/env bash
# MPI in the hybrid model: the host's launcher starts one husk exec per
# rank, the image carries a compatible Open MPI (Debian's, as the host's):
# the MPI image of Integration/fixtures/make-mpi-oci.sh. mpirun -np 2 and
# srun --mpi=pmix -n 2 run a hello world; a ping-pong from 1 KiB to 16 MiB
# between two ranks on this node completes under Husk for every size (the
# single-copy path hung at 4 MiB and up, ranks being in separate user
# namespaces) and its bandwidth is printed beside the host's. The 0.8x
# target is measured in Integration/bench/mpi.sh: no timing decides a test.
# Env: HUSK, HUSK_MPI_OCI (the layout), SLURM_CONF for the srun cases.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=$(command -v "${HUSK:-husk}")
if [ -z "${HUSK_MPI_OCI:-}" ] || [ ! -f "$HUSK_MPI_OCI/index.json" ] || ! command -v mpirun >/dev/null; then
    skip "MPI in the hybrid model" "HUSK_MPI_OCI (Integration/fixtures/make-mpi-oci.sh, as root) or the host's mpirun (openmpi-bin) is missing"
    summary
    exit 0
fi
lib_work mpi
"$HUSK" convert -q oci:"$HUSK_MPI_OCI" "$W/mpi.sqsh" >/dev/null
export HUSK W
cd "$W"
# Two ranks on a two-core machine are fine; more are oversubscribed.
mpirun=(mpirun --oversubscribe -np 2)

check "mpirun -np 2 husk exec: every rank prints its rank and size, no MPI error or warning" bash -c '
    out=$(timeout 120 "$@" "$HUSK" exec "$W/mpi.sqsh" /opt/husk-mpi/hello 2>"$W/mpirun.err" | sed "s/ on .*//" | sort)
    [ "$out" = "rank 0 of 2
rank 1 of 2" ] && ! grep -qi "error\|warning" "$W/mpirun.err" || { echo "$out"; cat "$W/mpirun.err"; exit 1; }' _ "${mpirun[@]}"

check "mpirun: the ping-pong completes for every size from 1 KiB to 16 MiB (no single-copy hang)" bash -c '
    timeout 600 "$@" "$HUSK" exec "$W/mpi.sqsh" /opt/husk-mpi/pingpong >"$W/husk.bw" 2>"$W/pingpong.err"
    [ "$(wc -l <"$W/husk.bw")" -eq 15 ] && [ "$(tail -n 1 "$W/husk.bw" | cut -d" " -f1)" -eq 16777216 ] ||
        { cat "$W/husk.bw" "$W/pingpong.err"; exit 1; }' _ "${mpirun[@]}"
# The same program on the host (the image's copy runs there too: same Debian).
"$HUSK" exec "$W/mpi.sqsh" cat /opt/husk-mpi/pingpong >"$W/pingpong" && chmod +x "$W/pingpong"
if timeout 600 "${mpirun[@]}" "$W/pingpong" >"$W/host.bw" 2>/dev/null && [ -s "$W/husk.bw" ]; then
    echo "# ping-pong bandwidth (MB/s), host and husk exec, and their ratio:"
    join "$W/host.bw" "$W/husk.bw" | awk '{printf "#   %9d  %9.1f  %9.1f  %.2f\n", $1, $2, $3, $3 / $2}'
fi

if [ -n "${SLURM_CONF:-}" ] && sinfo -h >/dev/null 2>&1; then
    check "srun --mpi=pmix -n 2 husk exec: every rank prints its rank and size, no PMIx error" bash -c '
        out=$(timeout 120 srun --mpi=pmix -n 2 "$HUSK" exec "$W/mpi.sqsh" /opt/husk-mpi/hello 2>"$W/srun.err" | sed "s/ on .*//" | sort)
        [ "$out" = "rank 0 of 2
rank 1 of 2" ] && ! grep -qi "error" "$W/srun.err" || { echo "$out"; cat "$W/srun.err"; exit 1; }'
else
    skip "srun --mpi=pmix with MPI" "no running Slurm (SLURM_CONF unset: Scripts/test starts one as root)"
fi
summary
