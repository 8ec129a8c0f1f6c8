#!/usr/bin/env bash
# Image servers (issue 13): the first run of a squashfs image starts this
# user's server for it; later runs of the same image and id mapping join it
# (one husk-server, one husk-fuse, one user namespace); other mappings get
# their own; nobody else joins; it leaves after HUSK_IDLE with nothing
# left; kill -9 of a container or of the server harms nobody else and
# leaves nothing once the others end; HUSK_IDLE=0 is the one-shot mode.
# Env: HUSK, optional HUSK_STRANGER (a second user, reached with sudo -n -u).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
lib_work server
SERVERS=/tmp/husk-$(id -u)/servers
export HUSK IMG W SERVERS
export HUSK_IDLE=2
unset XDG_RUNTIME_DIR

# This image's servers (their keys and pids), per husk server list; other
# tests' servers may still be about.
servers() { "$HUSK" server list | awk -v img="$IMG" 'NR > 1 && $4 == img { print $1 }'; }
server_pids() { "$HUSK" server list | awk -v img="$IMG" 'NR > 1 && $4 == img { print $2 }'; }
# Notes this image's servers, their FUSE servers and sockets, for all_gone.
track() {
    local pid key
    for pid in $(server_pids); do echo "$pid" && pgrep -P "$pid" -x husk-fuse; done >>"$W/tracked" || true
    for key in $(servers); do echo "$SERVERS/$key.sock"; done >>"$W/sockets"
}
# Waits until nothing of this image's servers is left: none listed, none of
# their processes alive, none of their sockets.
all_gone() {
    local left
    for _ in $(seq 100); do
        left="$(servers)"
        for pid in $(sort -u "$W/tracked" 2>/dev/null); do
            [ -n "$(lib_alive -x 'husk-(server|fuse)' | grep -x "$pid")" ] && left="$left process $pid"
        done
        for sock in $(sort -u "$W/sockets" 2>/dev/null); do [ -e "$sock" ] && left="$left $sock"; done
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    echo "left: $left"
    return 1
}
# Starts a container that writes its user namespace to $W/NAME.ns and waits
# for $W/NAME.go; waits until it runs.
start() { # NAME [husk exec options]
    local name=$1
    shift
    "$HUSK" exec "$@" "$IMG" sh -c "readlink /proc/self/ns/user >$W/$name.ns; while [ ! -e $W/$name.go ]; do sleep 0.1; done; busybox 2>&1 | head -1" \
        >"$W/$name.out" 2>"$W/$name.err" &
    echo $! >"$W/$name.pid"
    for _ in $(seq 100); do [ -s "$W/$name.ns" ] && track && return 0; sleep 0.1; done
    echo "$name did not start: $(cat "$W/$name.err")"
    return 1
}
finish() { # NAME: let it end, and check it read its image to the end
    touch "$W/$1.go"
    wait "$(cat "$W/$1.pid")" && grep -qi busybox "$W/$1.out"
}
export -f servers server_pids track all_gone start finish lib_alive

check "a second exec joins the first's server: one husk-server, one husk-fuse, one user namespace" bash -c '
    start a && start b || exit 1
    pid=$(server_pids)
    [ "$(servers | wc -l)" = 1 ] && [ "$(pgrep -P "$pid" -x husk-fuse | wc -l)" = 1 ] &&
        [ "$(cat "$W/a.ns")" = "$(cat "$W/b.ns")" ] ||
        { echo "servers [$(servers)] fuse [$(pgrep -P "$pid" -x husk-fuse)] ns $(cat "$W/a.ns") $(cat "$W/b.ns")"; exit 1; }
    # Neither container mounted the image itself.
    [ -z "$(pgrep -P "$(cat "$W/a.pid")" -x husk-fuse)$(pgrep -P "$(cat "$W/b.pid")" -x husk-fuse)" ] ||
        { echo "a container has a FUSE server of its own"; exit 1; }
    "$HUSK" server list | grep -q " 2 .*$IMG" || { "$HUSK" server list; exit 1; }
    finish a && finish b'
check "... a joining starter loads neither squashfuse nor libfuse3 (a one-shot starter, which mounts, does)" bash -c '
    start joining && HUSK_IDLE=0 start mounting || exit 1
    joined=$(grep -cE "libsquashfuse|libfuse3" "/proc/$(cat "$W/joining.pid")/maps")
    mounting=$(grep -cE "libsquashfuse|libfuse3" "/proc/$(cat "$W/mounting.pid")/maps")
    finish joining && finish mounting && [ "$joined" = 0 ] && [ "$mounting" -gt 0 ] ||
        { echo "mappings of the libraries: joining starter $joined, one-shot starter $mounting"; exit 1; }'
# squashfuse decompresses each zstd block with ZSTD_decompress, a fresh
# context each time; the starter defines it with one kept context
# (Sources/CSquashFuse/zstd_context.c). ld.so tells where squashfuse's call went.
check "... squashfuse's zstd blocks go through the starter's kept context" bash -c '
    HUSK_IDLE=0 LD_DEBUG=bindings LD_DEBUG_OUTPUT="$W/ld" "$HUSK" exec "$IMG" true || exit 1
    grep -qhE "libsquashfuse_ll.* to .*husk-starter .*ZSTD_decompress.$" "$W"/ld.* ||
        { echo "bound to: $(grep -hE "ZSTD_decompress.$" "$W"/ld.* | head -1)"; exit 1; }'
check "... a repeat walk of the image's tree (directories the kernel keeps) shows what a fresh mount shows" bash -c '
    # Names, types and link targets of everything in the image: from a mount
    # of its own (HUSK_IDLE=0), then in the server twice (the second walk is
    # answered from the cached directories of the kernel); --contain: no
    # host directory is bound on the walk.
    walk="cd / && find . -xdev -type d | sort && find . -xdev -type f | sort && find . -xdev -type l | sort | while read -r l; do echo \"\$l -> \$(readlink \"\$l\")\"; done"
    HUSK_IDLE=0 "$HUSK" exec --contain "$IMG" sh -c "$walk" >"$W/walk-0" 2>/dev/null &&
        "$HUSK" exec --contain "$IMG" sh -c "$walk" >"$W/walk-1" 2>/dev/null &&
        "$HUSK" exec --contain "$IMG" sh -c "$walk" >"$W/walk-2" 2>/dev/null || exit 1
    [ "$(wc -l <"$W/walk-0")" -gt 50 ] && cmp -s "$W/walk-0" "$W/walk-1" && cmp -s "$W/walk-0" "$W/walk-2" ||
        { wc -l "$W"/walk-*; diff "$W/walk-0" "$W/walk-2" | head; exit 1; }'
check "... its containers stay apart: a bind of one is not in the other, --contain and -B per container" bash -c '
    mkdir -p "$W/only-a" && echo a >"$W/only-a/f"
    "$HUSK" exec -B "$W/only-a:/mnt/a:ro" "$IMG" sh -c "sleep 1; cat /mnt/a/f" >"$W/apart-a" &
    sleep 0.3
    "$HUSK" exec --contain "$IMG" sh -c "ls /mnt/a 2>&1; ls $W 2>&1" >"$W/apart-b"
    wait $! && [ "$(cat "$W/apart-a")" = a ] && grep -q "No such file" "$W/apart-b" && ! grep -q only-a "$W/apart-b" ||
        { cat "$W/apart-a" "$W/apart-b"; exit 1; }'
check "the server leaves HUSK_IDLE (2 s) after its last container: no process, mount or socket left" bash -c '
    [ -n "$(servers)" ] || { echo "no server to wait for"; exit 1; }
    sleep 2.5; all_gone'
check "--fakeroot (another id mapping) gets another server" bash -c '
    start plain && start fake --fakeroot || exit 1
    [ "$(servers | wc -l)" = 2 ] && [ "$(cat "$W/plain.ns")" != "$(cat "$W/fake.ns")" ] ||
        { "$HUSK" server list; exit 1; }
    finish plain && finish fake && "$HUSK" server stop --all && all_gone'
check "kill -9 of one container: the other and the server go on, nothing left once it ends" bash -c '
    start victim && start survivor || exit 1
    kill -9 "$(cat "$W/victim.pid")"
    sleep 0.5
    [ -n "$(servers)" ] || { echo "the server went with the container"; exit 1; }
    finish survivor && sleep 2.5 && all_gone'
check "kill -9 of the server: its container still reads its image; nothing left once it ends" bash -c '
    start orphaned || exit 1
    kill -9 "$(server_pids)"
    sleep 0.3
    finish orphaned && all_gone'
check "husk server stop IMAGE: no new containers join; the running one ends normally" bash -c '
    start running || exit 1
    "$HUSK" server stop "$IMG" && [ -z "$(servers)" ] || { "$HUSK" server list; exit 1; }
    finish running && all_gone'
check "HUSK_IDLE=0: no server, the FUSE server is a child of the starter, as before" bash -c '
    HUSK_IDLE=0 start oneshot || exit 1
    [ -z "$(servers)" ] && [ -n "$(pgrep -P "$(cat "$W/oneshot.pid")" -x husk-fuse)" ] ||
        { echo "servers [$(servers)], FUSE server of the starter [$(pgrep -P "$(cat "$W/oneshot.pid")" -x husk-fuse)]"; exit 1; }
    finish oneshot && all_gone'
# A first run's server is started while husk still plans (ImageServer.prestart),
# by a process of its own: it must hold nothing of the run's, or a caller
# reading the run's output would wait for the server's idle time.
check "a first run's output ends with the run, not with the server it started (HUSK_IDLE=30)" bash -c '
    all_gone || exit 1
    out=$(HUSK_IDLE=30 timeout 10 "$HUSK" exec "$IMG" echo hello) && [ "$out" = hello ] ||
        { echo "output [$out]"; exit 1; }
    [ "$(servers | wc -l)" = 1 ] || { "$HUSK" server list; exit 1; }
    track && "$HUSK" server stop --all && all_gone'
check_fails_like "HUSK_IDLE that is not a number of seconds is refused in one line" 255 "HUSK_IDLE=soon: not a number" \
    env HUSK_IDLE=soon "$HUSK" exec "$IMG" true

# Only processes of this user outside any container may join: a process in
# another user namespace (as a container's are) gets nothing, and another
# user cannot even reach the socket.
cat >"$W/join.py" <<'EOF'
import socket, sys
try:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(b"J")
    msg, anc, flags, addr = s.recvmsg(16, socket.CMSG_SPACE(8))
    print("answer=%s fds=%d" % (msg.decode(), len(anc)))
except OSError as e:
    print("refused", e.errno)
EOF
chmod a+rx "$W" && chmod a+r "$W/join.py"
check "a process of this user in another user namespace cannot join (SO_PEERCRED and namespace check)" bash -c '
    start holder || exit 1
    out=$(unshare -U python3 "$W/join.py" "$(ls "$SERVERS"/*.sock | head -1)")
    finish holder
    # Closed at once (EPIPE or a reset) or an empty answer: never descriptors.
    case $out in "refused 32" | "refused 104" | "answer= fds=0") ;; *) echo "$out"; exit 1 ;; esac'
stranger=${HUSK_STRANGER:-}
if [ -n "$stranger" ] && sudo -n -u "$stranger" true 2>/dev/null; then
    check "another user cannot reach the server (its directory is private)" bash -c '
        start mine || exit 1
        out=$(sudo -n -u "$0" python3 "$W/join.py" "$(ls "$SERVERS"/*.sock | head -1)")
        finish mine
        [ "$out" = "refused 13" ] || { echo "$out"; exit 1; }' "$stranger"
else
    skip "another user cannot reach the server" "HUSK_STRANGER unset or not reachable with sudo -n"
fi
# Extended attributes: an image without any has its FUSE server decline
# xattr requests, so the kernel stops asking (no round trip for every
# exec's security.capability, nor for every lookup through the overlays on
# image directories that lack a bind destination); an image with some
# serves them.
if [ -n "${HUSK_DEBIAN_OCI:-}" ] && [ -d "$HUSK_DEBIAN_OCI" ]; then
    "$HUSK" convert -q oci:"$HUSK_DEBIAN_OCI" "$W/debian.sqsh" >/dev/null
    /usr/bin/python3 "$here/fixtures/add-xattr-layer.py" "$HUSK_DEBIAN_OCI" "$W/xattr-oci"
    "$HUSK" convert -q oci:"$W/xattr-oci" "$W/xattr.sqsh" >/dev/null
    cat >"$W/xattr.py" <<'EOF'
import os, sys
try:
    print(os.getxattr(sys.argv[1], sys.argv[2]).decode())
except OSError as e:
    print("errno", e.errno)
EOF
    check "an image without xattrs: its FUSE server declines xattr requests (EOPNOTSUPP), the kernel stops asking" bash -c '
        out=$("$HUSK" exec -B "$W/xattr.py:/xattr.py" "$W/debian.sqsh" python3 /xattr.py /usr/bin/true user.husk)
        [ "$out" = "errno 95" ] || { echo "$out"; exit 1; }'
    check "an image with xattrs serves them through the image server" bash -c '
        out=$("$HUSK" exec -B "$W/xattr.py:/xattr.py" "$W/xattr.sqsh" python3 /xattr.py /etc/husk-xattr user.husk)
        [ "$out" = served ] || { echo "$out"; exit 1; }
        out=$("$HUSK" exec -B "$W/xattr.py:/xattr.py" "$W/xattr.sqsh" python3 /xattr.py /usr/bin/true user.husk)
        [ "$out" = "errno 61" ] || { echo "$out"; exit 1; }'
else
    skip "xattrs through the image server" "HUSK_DEBIAN_OCI is not set"
fi
"$HUSK" server stop --all >/dev/null 2>&1 || true
summary
