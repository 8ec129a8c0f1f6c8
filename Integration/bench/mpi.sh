#!/usr/bin/env bash
# MPI ping-pong between two ranks on this node, side by side in one run:
# the program on the host, under husk exec (each rank in its own user
# namespace, the hybrid model) and under ch-run on the same squashfs
# (Charliecloud, likewise one namespace per rank), as bandwidth and ratio
# to the host. Run as an UNPRIVILEGED user (Scripts/bench drops root).
#
# Usage: HUSK=/path/to/husk Integration/bench/mpi.sh MPI-IMAGE.sqsh
#   MPI-IMAGE.sqsh  the image of Integration/fixtures/make-mpi-oci.sh,
#                   converted by husk (/opt/husk-mpi/pingpong in it)
# Each size runs 3 times (best of the timed rounds inside the program); a
# run that does not finish within 300 s is reported as a hang.
# Writes Integration/bench/results/mpi.md (HUSK_BENCH_RESULTS=DIR elsewhere).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HUSK=${HUSK:-husk}
image=${1:?usage: mpi.sh MPI-IMAGE.sqsh}
results=${HUSK_BENCH_RESULTS:-$here/results}
[ "$(id -u)" -ne 0 ] || { echo "run as an unprivileged user (Scripts/bench does)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "missing mpirun (openmpi-bin)" >&2; exit 2; }
mkdir -p "$results"
work=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-mpi.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
"$HUSK" exec "$image" cat /opt/husk-mpi/pingpong >pingpong && chmod +x pingpong
mpirun=(mpirun --oversubscribe -np 2)

# run NAME COMMAND...: NAME.bw holds "SIZE MB/s" lines, or NAME.hang.
run() {
    local name=$1
    shift
    timeout 300 "${mpirun[@]}" "$@" >"$name.bw" 2>"$name.err" || { : >"$name.hang"; }
}
run host ./pingpong
run husk "$HUSK" exec "$image" /opt/husk-mpi/pingpong
if command -v ch-run >/dev/null; then
    run ch-run ch-run "$image" -- /opt/husk-mpi/pingpong
fi

{
    echo "# MPI ping-pong on one node, two ranks ($(date -u +%Y-%m-%d), $(nproc) cores, $(mpirun --version | head -n 1))"
    echo
    echo "One-way bandwidth in MB/s (best of the timed rounds); ratio to the host in brackets."
    echo "husk exec: each rank in its own user namespace, Open MPI told to copy through the"
    echo "shared segment (MPILaunchDefaults); ch-run: the same, with Open MPI's defaults."
    echo
    printf '| size | host | husk exec | ch-run |\n|---:|---:|---:|---:|\n'
    while read -r size host; do
        row="| $size | $host"
        for name in husk ch-run; do
            value=$(awk -v s="$size" '$1 == s {print $2}' "$name.bw" 2>/dev/null || true)
            if [ -n "$value" ]; then
                row="$row | $value ($(awk -v a="$value" -v b="$host" 'BEGIN {printf "%.2f", a / b}')x)"
            elif [ -e "$name.hang" ]; then row="$row | hangs"
            else row="$row | -"; fi
        done
        echo "$row |"
    done <host.bw
} | tee "$results/mpi.md"
