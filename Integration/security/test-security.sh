#!/usr/bin/env bash
# Escapes and escalations a container must not manage, each test titled with
# the threat it checks, run as the unprivileged user. Env: HUSK; optional
# HUSK_DEBIAN_OCI (its python3 issues raw system calls for the seccomp checks).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=${HUSK:-husk}

lib_work security
me=$(id -u)

status_field() { # FIELD [husk options]: the field of /proc/self/status inside
    local field=$1
    shift
    "$HUSK" exec "$@" "$IMG" cat /proc/self/status | sed -n "s/^$field:[[:space:]]*//p"
}

check "setuid-root binary in the image: gives no privilege (id -u is the caller's)" sh -c '
    [ "$("$1" exec "$2" /usr/libexec/suid/id -u)" = "$3" ]' _ "$HUSK" "$IMG" "$me"
check "setuid-root binary with --fakeroot: still no privilege on the host (uid 0 only inside)" sh -c '
    [ "$("$1" exec --fakeroot "$2" sh -c "cat /proc/self/uid_map" | awk "\$1 == 0 {print \$2}")" = "$3" ]' _ "$HUSK" "$IMG" "$me"
check "privilege gain through exec: NoNewPrivs is 1" test "$(status_field NoNewPrivs)" = 1
check "capabilities inside: CapEff, CapPrm, CapBnd and CapAmb are all zero" sh -c '
    for f in CapEff CapPrm CapBnd CapAmb; do
        v=$("$1" exec "$2" cat /proc/self/status | sed -n "s/^$f:[[:space:]]*//p")
        [ "$v" = 0000000000000000 ] || { echo "$f=$v"; exit 1; }
    done' _ "$HUSK" "$IMG"
check "--fakeroot keeps only the documented minimal capability set" \
    test "$(status_field CapBnd --fakeroot)" = 00000000802405fb
check "--fakeroot --drop-caps: the dropped capability is gone (chown fails)" sh -c '
    ! "$1" exec --fakeroot --writable-tmpfs --drop-caps CAP_CHOWN "$2" sh -c "touch /f && chown 1:1 /f" 2>/dev/null &&
    "$1" exec --fakeroot --writable-tmpfs "$2" sh -c "touch /f && chown 1:1 /f"' _ "$HUSK" "$IMG"
check "--fakeroot --add-caps CAP_NET_RAW adds it (bit 13)" sh -c '
    v=$("$1" exec --fakeroot --add-caps CAP_NET_RAW "$2" cat /proc/self/status | sed -n "s/^CapEff:[[:space:]]*//p")
    [ $(( 0x$v & (1 << 13) )) -ne 0 ]' _ "$HUSK" "$IMG"
check "capabilities without --fakeroot cannot be asked for" sh -c '
    "$1" exec --add-caps CAP_SYS_ADMIN "$2" true 2>/dev/null; [ $? -eq 255 ]' _ "$HUSK" "$IMG"
check "system calls past the container: the default seccomp filter is on (Seccomp: 2)" test "$(status_field Seccomp)" = 2
check "nested user namespace to regain capabilities: unshare -U fails with EPERM" sh -c '
    ! "$1" exec "$2" busybox unshare -U true 2>"$3/err" && grep -q "Operation not permitted" "$3/err"' _ "$HUSK" "$IMG" "$W"
check "mounting inside, even as fake root: mount -t tmpfs fails with EPERM" sh -c '
    ! "$1" exec --fakeroot "$2" busybox mount -t tmpfs none /tmp 2>"$3/err" && grep -q "permission denied" "$3/err"' _ "$HUSK" "$IMG" "$W"
check "seccomp=unconfined + --fakeroot: mount works, inside the user namespace only" sh -c '
    "$1" exec --fakeroot --security seccomp=unconfined "$2" sh -c "busybox mount -t tmpfs none /tmp && touch /tmp/inside-only" &&
    [ ! -e /tmp/inside-only ]' _ "$HUSK" "$IMG"
check "writing into the image: / is read-only" sh -c '
    ! "$1" exec "$2" sh -c "echo x > /evil" 2>"$3/err" && grep -qi "read-only" "$3/err"' _ "$HUSK" "$IMG" "$W"
check "kernel tunables: /proc/sys is mounted read-only, and writes fail even as fake root" sh -c '
    "$1" exec --fakeroot "$2" cat /proc/self/mountinfo | awk "\$5 == \"/proc/sys\" {print \$6}" | grep -q "^ro," &&
    ! "$1" exec --fakeroot "$2" sh -c "echo 1 > /proc/sys/kernel/sysrq" 2>/dev/null' _ "$HUSK" "$IMG"
check "kernel objects: /sys is read-only" sh -c '
    ! "$1" exec --fakeroot "$2" sh -c "echo x > /sys/kernel/uevent_helper" 2>"$3/err" && grep -qi "read-only" "$3/err"' _ "$HUSK" "$IMG" "$W"
check "kernel objects behind submounts: every mount under /sys and /proc/sys is read-only" sh -c '
    "$1" exec --fakeroot "$2" cat /proc/self/mountinfo | awk "\$5 ~ /^\/(sys|proc\/sys)(\/|\$)/ {print \$5, \$6}" > "$3/mounts"
    [ -s "$3/mounts" ] && ! grep -v " ro," "$3/mounts"' _ "$HUSK" "$IMG" "$W"
check "seeing other processes: with --pid only the container's" sh -c '
    n=$("$1" exec --pid "$2" sh -c "ls /proc | grep -c \"^[0-9]\"") && [ "$n" -le 4 ]' _ "$HUSK" "$IMG"
check "reaching the network: with --net only lo exists" sh -c '
    [ "$("$1" exec --net "$2" cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " ")" = lo ]' _ "$HUSK" "$IMG"
cat > "$W/deny-mkdir.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
JSON
check "a site's own seccomp profile: denying mkdir makes mkdir fail with EPERM" sh -c '
    ! "$1" exec --security "seccomp=$3/deny-mkdir.json" "$2" mkdir /tmp/husk-denied 2>"$3/err" &&
    grep -q "Operation not permitted" "$3/err" && [ ! -e /tmp/husk-denied ]' _ "$HUSK" "$IMG" "$W"
check "device nodes in the image are inert (nodev)" sh -c '
    ! "$1" exec --fakeroot --writable-tmpfs "$2" sh -c "busybox mknod /dev-copy c 1 3 && echo x > /dev-copy" 2>/dev/null' _ "$HUSK" "$IMG"

# Raw system calls through python3's ctypes, on the Debian image.
if [ -n "${HUSK_DEBIAN_OCI:-}" ] && [ -d "$HUSK_DEBIAN_OCI" ]; then
    "$HUSK" convert -q oci:"$HUSK_DEBIAN_OCI" "$W/debian.sqsh" >/dev/null
    case $(uname -m) in
        x86_64) keyctl=250 kexec=246 bpf=321 initmod=175 iouring=425 ;;
        aarch64) keyctl=219 kexec=104 bpf=280 initmod=105 iouring=425 ;;
        *) keyctl= ;;
    esac
    if [ -n "$keyctl" ]; then
        errno_of() { # NR: errno of syscall(NR, 0...) inside the Debian image
            "$HUSK" exec "$@" "$W/debian.sqsh" python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(int(sys.argv[1]), 0, 0, 0, 0, 0)
print(ctypes.get_errno() if r == -1 else "allowed")' "$nr"
        }
        for spec in keyctl:$keyctl kexec_load:$kexec bpf:$bpf init_module:$initmod io_uring_setup:$iouring; do
            name=${spec%%:*} nr=${spec##*:}
            check "kernel attack surface: $name fails with EPERM under the default filter" sh -c '
                [ "$1" = 1 ] || { echo "errno $1"; exit 1; }' _ "$(errno_of)"
        done
        nr=$keyctl
        check "seccomp=unconfined: keyctl is not filtered (the kernel answers, not EPERM from the filter)" sh -c '
            [ "$1" != 1 ] || { echo "still EPERM"; exit 1; }' _ "$(errno_of --security seccomp=unconfined)"
    else
        skip "raw system call checks" "no syscall table for $(uname -m)"
    fi
else
    skip "raw system call checks (keyctl, kexec_load, bpf, init_module)" "HUSK_DEBIAN_OCI is not set"
fi
summary
