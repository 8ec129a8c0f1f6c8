#!/usr/bin/env bash
# husk instance start/list/stop and husk exec instance://NAME, as the
# unprivileged user. Env: HUSK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}

W=$(mktemp -d "${TMPDIR:-/tmp}/husk-instance.XXXXXX")
export XDG_RUNTIME_DIR=$W/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
cleanup() { "$HUSK" instance stop --all --timeout 2 >/dev/null 2>&1 || true; rm -rf "$W"; lib_cleanup; }
trap cleanup EXIT
/usr/bin/python3 "$here/fixtures/make-busybox-oci.py" "$W/bb-oci" >/dev/null
"$HUSK" convert -q oci:"$W/bb-oci" "$W/bb.sqsh" >/dev/null
IMG=$W/bb.sqsh
STATE=$XDG_RUNTIME_DIR/husk/instances

# Live husk-starter processes of this user: zombies are gone already, only
# waiting for the host's init (slow on some machines) to reap them.
live_starters() { ps -u "$(id -u)" -o stat=,comm= | awk '$1 !~ /^Z/ && $2 == "husk-starter"' | grep .; }
export -f live_starters

check "instance start runs the image's command in the background" \
    "$HUSK" instance start --writable-tmpfs "$IMG" db "touch /marker; sleep 300"
check "the state directory is private (0700)" test "$(stat -c %a "$STATE")" = 700
check "instance list shows it" sh -c '"$1" instance list | grep -q "^db "' _ "$HUSK"
check "instance list --json names it" sh -c '"$1" instance list --json | grep -q "\"name\" : \"db\""' _ "$HUSK"
check "a second instance of the same name is refused" sh -c '! "$1" instance start "$2" db "sleep 301" 2>/dev/null' _ "$HUSK" "$IMG"
check "exec instance:// sees the instance's files (its writable layer)" "$HUSK" exec instance://db test -e /marker
check "a separate container does not see them" sh -c '! "$1" exec "$2" test -e /marker' _ "$HUSK" "$IMG"
check "exec instance:// runs in the instance's PID namespace" sh -c '
    [ "$("$1" exec instance://db sh -c "ls /proc | grep -c \"^[0-9]\"")" -le 6 ]' _ "$HUSK"
check "exec instance:// runs as the caller" sh -c '[ "$("$1" exec instance://db id -u)" = "$(id -u)" ]' _ "$HUSK"
check "exec instance:// passes the exit status" sh -c '"$1" exec instance://db sh -c "exit 7"; [ $? -eq 7 ]' _ "$HUSK"
check "instance stop ends it" "$HUSK" instance stop db
check "after stop: no process, no state" bash -c '
    sleep 0.3
    if live_starters; then exit 1; fi
    [ -z "$(ls -A "$1")" ]' _ "$STATE"
check "exec into a stopped instance: one clear line, status 255" sh -c '
    "$1" exec instance://db true 2>"$2/err"; s=$?
    [ "$s" -eq 255 ] && grep -q "^husk: no running instance db" "$2/err"' _ "$HUSK" "$W"

check "an instance whose command ends leaves nothing and drops out of the list" bash -c '
    "$1" instance start "$2" brief "sleep 1" >/dev/null && sleep 2.5
    ! "$1" instance list | grep -q "^brief " && ! live_starters' _ "$HUSK" "$IMG"
check "instance stop --signal KILL and --all" bash -c '
    "$1" instance start "$2" a "sleep 302" >/dev/null && "$1" instance start "$2" b "sleep 303" >/dev/null &&
    "$1" instance stop --all --signal KILL >/dev/null && sleep 0.3 &&
    ! live_starters && [ -z "$("$1" instance list | tail -n +2)" ]' _ "$HUSK" "$IMG"
check "kill -9 of the instance's starter leaves nothing" sh -c '
    "$1" instance start "$2" k "sleep 304" >/dev/null
    pid=$("$1" instance list | awk "\$1 == \"k\" {print \$2}"); kill -9 "$pid"; sleep 0.5
    ! pgrep -u "$(id -u)" -f "^sleep 304$" && ! "$1" instance list | grep -q "^k "' _ "$HUSK" "$IMG"
check "an invalid instance name: one clear line, status 255" sh -c '
    "$1" instance start "$2" "../x" 2>"$3/err"; [ $? -eq 255 ] && grep -q "^husk: invalid instance name" "$3/err"' _ "$HUSK" "$IMG" "$W"
summary
