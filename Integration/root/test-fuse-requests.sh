#!/usr/bin/env bash
# What needs root to check, run by Scripts/test as root: what the image
# server's FUSE server is asked. Every request is a round trip between the
# container and that process, so what the kernel can keep (the image never
# changes) it is told to keep. Root reads the FUSE server's read count in
# /proc/PID/io (one read per request; the server is not dumpable, so its
# owner cannot). The husk commands run as the user HUSK_TEST_USER names
# (unset: as root).
# Env: HUSK, HUSK_TEST_USER.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=${HUSK:-husk}
lib_needs_root "the FUSE server's requests"
lib_work fuse-requests
lib_as_test_user HUSK_IDLE=60
run() { "${AS_USER[@]}" "$@"; }
trap 'run "$HUSK" server stop --all >/dev/null 2>&1 || true; lib_remove_work "$W"; lib_cleanup' EXIT

# The reads so far of the FUSE server of this test's one image server.
fuse_reads() {
    local pid
    pid=$(run "$HUSK" server list --json | /usr/bin/python3 -c 'import json, sys; s = json.load(sys.stdin); print(s[0]["fuse"] if len(s) == 1 else "")')
    [ -n "$pid" ] && [ "$pid" -gt 0 ] || { echo "image servers: $(run "$HUSK" server list)"; return 1; }
    awk '$1 == "syscr:" { print $2 }' "/proc/$pid/io"
}

# A symlink read 200 times in one container: its target comes from the page
# cache after the first (FUSE_CAP_CACHE_SYMLINKS), not a request each time
# (/bin, /lib and /lib64 are symlinks in merged-/usr images: every exec and
# every library the loader opens goes through one).
symlinks_are_cached() {
    run "$HUSK" exec "$IMG" busybox readlink /usr/lib64 >/dev/null  # starts the server, warms the caches
    local before after out
    before=$(fuse_reads) || return 1
    out=$(run "$HUSK" exec "$IMG" sh -c 'i=0; while [ $i -lt 200 ]; do busybox readlink /usr/lib64; i=$((i+1)); done' | sort | uniq -c)
    after=$(fuse_reads) || return 1
    [ "$(echo $out)" = "200 lib" ] || { echo "readlink said: $out"; return 1; }
    # 200 uncached reads would be 200 requests at least; the container's
    # own start asks a handful.
    [ $((after - before)) -lt 50 ] || { echo "the FUSE server read $((after - before)) requests"; return 1; }
}

check "a symlink read 200 times in a container is one FUSE request, not 200" symlinks_are_cached
summary
