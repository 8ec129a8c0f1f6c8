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
# Three interleaved rounds, best per size; a run that does not finish
# within 300 s is reported as a hang (and not tried again).
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

# run NAME COMMAND...: appends "SIZE MB/s" lines to NAME.runs, or marks NAME.hang.
run() {
    local name=$1
    shift
    [ -e "$name.hang" ] && return 0
    timeout 300 "${mpirun[@]}" "$@" >>"$name.runs" 2>"$name.err" || { : >"$name.hang"; }
}
# Three rounds, the programs interleaved so that a slow spell of the machine
# hits all of them; per size the best of the rounds counts.
for round in 1 2 3; do
    run host ./pingpong
    run husk "$HUSK" exec "$image" /opt/husk-mpi/pingpong
    run husk-32k "$HUSK" exec --env OMPI_MCA_btl_vader_max_send_size=32768 "$image" /opt/husk-mpi/pingpong
    if command -v ch-run >/dev/null; then
        run ch-run ch-run "$image" -- /opt/husk-mpi/pingpong
    fi
done
for name in host husk husk-32k ch-run; do
    [ -e "$name.runs" ] || continue
    awk '{if ($2 > best[$1]) best[$1] = $2} END {for (s in best) print s, best[s]}' "$name.runs" | sort -n >"$name.bw"
done

{
    echo "# MPI ping-pong on one node, two ranks ($(date -u +%Y-%m-%d), $(nproc) cores, $(mpirun --version | head -n 1))"
    echo
    echo "One-way bandwidth in MB/s (best of the timed rounds); ratio to the host in brackets."
    echo "Best of three interleaved rounds. husk exec: each rank in its own user namespace, Open"
    echo "MPI told to copy through the shared segment in 256 KiB fragments (MPILaunchDefaults);"
    echo "husk exec, 32 KiB: the same with Open MPI's own fragment size; ch-run: one user"
    echo "namespace per rank too, Open MPI's defaults (single copy by CMA)."
    echo
    printf '| size | host | husk exec | husk exec, 32 KiB | ch-run |\n|---:|---:|---:|---:|---:|\n'
    while read -r size host; do
        row="| $size | $host"
        for name in husk husk-32k ch-run; do
            value=$(awk -v s="$size" '$1 == s {print $2}' "$name.bw" 2>/dev/null || true)
            if [ -n "$value" ]; then
                row="$row | $value ($(awk -v a="$value" -v b="$host" 'BEGIN {printf "%.2f", a / b}')x)"
            elif [ -e "$name.hang" ]; then row="$row | hangs"
            else row="$row | -"; fi
        done
        echo "$row |"
    done <host.bw
} | tee "$results/mpi.md"
