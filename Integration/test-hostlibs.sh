#!/usr/bin/env bash
# --nv, --rocm and --bind-mpi end to end, as the unprivileged user running it.
# On a host without GPUs, --nv and --rocm warn in one line and run the
# command; --bind-mpi runs an MPI hello world compiled on the host (mpicc)
# under the host's mpirun in the Debian test image, which has no MPI.
# Env: HUSK; optional HUSK_DEBIAN_OCI (the Debian 12 test image's layout).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
lib_work hostlibs
export PATH=$PATH:/usr/sbin:/sbin  # ldconfig, as husk looks for it

# one_warning FLAG...: the command runs (exit 0, its output), and stderr is
# exactly one line: husk: warning: FLAG: no … driver found on this host (…); running without GPUs
one_warning() {
    local flag=$1
    shift
    local out err rc=0
    out=$("$HUSK" exec "$flag" "$@" 2>"$W/err") || rc=$?
    err=$(cat "$W/err")
    [ "$rc" -eq 0 ] || { echo "exit status $rc"; echo "$err"; return 1; }
    [ "$out" = "ran" ] || { echo "stdout [$out], expected [ran]"; return 1; }
    [ "$(grep -c '' "$W/err")" -eq 1 ] || { echo "stderr is not one line:"; echo "$err"; return 1; }
    echo "$err" | grep -Eq "^husk: warning: $flag: no .* driver found on this host \(.*\); running without GPUs\$" ||
        { echo "unexpected warning: $err"; return 1; }
}

if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so' || [ -e /dev/nvidiactl ]; then
    skip "--nv on a host without NVIDIA GPUs" "this host has an NVIDIA driver"
else
    check "--nv without an NVIDIA driver: one warning line, the command runs, exit 0" one_warning --nv "$IMG" echo ran
    check "--nv --contain: the same" one_warning --nv --contain --pwd / "$IMG" echo ran
    check "--nv: no LD_LIBRARY_PATH when nothing is bound" sh -c '! "$1" env --nv "$2" 2>/dev/null | grep -q "^LD_LIBRARY_PATH="' _ "$HUSK" "$IMG"
    check "instance start --nv: starts, warns, stops" sh -c '
        "$1" instance start --nv "$2" gpu-inst "sleep 60" 2>"$3/inst.err" && grep -q "warning: --nv: no NVIDIA driver" "$3/inst.err" &&
        "$1" exec --nv instance://gpu-inst true && "$1" instance stop gpu-inst' _ "$HUSK" "$IMG" "$W"
fi
if [ -e /dev/kfd ]; then
    skip "--rocm on a host without AMD GPUs" "this host has ROCm"
else
    check "--rocm without ROCm: one warning line, the command runs, exit 0" one_warning --rocm "$IMG" echo ran
fi
check "--nv keeps the command's exit status" sh -c '"$1" exec --nv --rocm "$2" sh -c "exit 3" 2>/dev/null; [ $? -eq 3 ]' _ "$HUSK" "$IMG"

# An image with an old glibc (the libc.so.6 -> libc-2.28.so of older
# releases) and busybox as a directory image: refused before anything runs.
mkdir -p "$W/old/usr/lib/x86_64-linux-gnu" "$W/old/bin"
ln -s usr/lib "$W/old/lib"
: >"$W/old/usr/lib/x86_64-linux-gnu/libc-2.28.so"
ln -s libc-2.28.so "$W/old/usr/lib/x86_64-linux-gnu/libc.so.6"

if ! command -v mpicc >/dev/null || ! command -v mpirun >/dev/null; then
    skip "--bind-mpi" "no mpicc/mpirun on this host (Debian: openmpi-bin libopenmpi-dev)"
    summary
    exit
fi
check_fails_like "--bind-mpi with the busybox image: one line naming the missing glibc" 255 \
    "^husk: --bind-mpi: bb has no glibc .*need glibc 2\.[0-9]+ or newer" "$HUSK" exec --bind-mpi "$IMG" true
if [ "$(uname -m)" = x86_64 ]; then
    check_fails_like "--bind-mpi with an image of glibc 2.28: one line, both versions" 255 \
        "^husk: --bind-mpi: old has glibc 2\.28, older than the glibc 2\.[0-9]+ " "$HUSK" exec --bind-mpi "$W/old" true
fi

if [ -z "${HUSK_DEBIAN_OCI:-}" ] || [ ! -d "$HUSK_DEBIAN_OCI" ]; then
    skip "--bind-mpi with the Debian image" "HUSK_DEBIAN_OCI is not set"
    summary
    exit
fi
"$HUSK" convert -q oci:"$HUSK_DEBIAN_OCI" "$W/debian.sqsh" >/dev/null
cat >"$W/hello.c" <<'C'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
    int rank, size, sum = 0, one = 1;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    printf("rank %d of %d (sum %d)\n", rank, size, sum);
    MPI_Finalize();
    return 0;
}
C
check "mpicc builds the hello world on the host" mpicc -o "$W/hello" "$W/hello.c"
cd "$W"
check "the Debian image has no MPI of its own" sh -c '! "$1" exec "$2" ./hello >/dev/null 2>&1' _ "$HUSK" "$W/debian.sqsh"
check "--bind-mpi: LD_LIBRARY_PATH starts with /.husk/host/lib, libmpi is there" sh -c '
    "$1" exec --bind-mpi "$2" sh -c "case \$LD_LIBRARY_PATH in /.husk/host/lib*) ;; *) exit 1;; esac; test -r /.husk/host/lib/libmpi.so.40 || ls /.husk/host/lib/libmpi.so.*"' \
    _ "$HUSK" "$W/debian.sqsh"
# Open MPI as an unprivileged user, on one node: no ssh, more ranks than cores.
export OMPI_MCA_plm_rsh_agent= OMPI_MCA_rmaps_base_oversubscribe=1
mpi_hello() {
    timeout 120 mpirun --oversubscribe -np 2 "$HUSK" exec --bind-mpi "$W/debian.sqsh" ./hello >"$W/mpi.out" 2>"$W/mpi.err" || {
        echo "mpirun: exit $?"; cat "$W/mpi.out" "$W/mpi.err"; return 1; }
    for r in 0 1; do
        grep -qx "rank $r of 2 (sum 2)" "$W/mpi.out" || { echo "no line for rank $r:"; cat "$W/mpi.out" "$W/mpi.err"; return 1; }
    done
}
check "mpirun -np 2 husk exec --bind-mpi debian.sqsh ./hello: both ranks, rank R of 2" mpi_hello
summary
