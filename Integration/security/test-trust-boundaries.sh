#!/usr/bin/env bash
# DESIGN.md §3 "Trust boundaries", SECURITY.md: an image, or another user of
# the node, must never steer Husk. Each test is titled with the threat it
# checks; run as an unprivileged user. The other user ("the stranger") is a
# second unprivileged account this user may act as through `sudo -n -u
# $HUSK_STRANGER` (CI sets that up); without it those tests are skipped.
# Env: HUSK, optional HUSK_STRANGER.
# shellcheck disable=SC2016  # '$...' in sh -c strings expands later, on purpose
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=${HUSK:-husk}
HUSK=$(cd "$(dirname "$HUSK")" && pwd)/$(basename "$HUSK")

me=$(id -u)
W=$(mktemp -d "${TMPDIR:-/tmp}/husk-trust.XXXXXX")
# This user's own state, as a fresh job on a node would have it: no
# XDG_RUNTIME_DIR (instance state under $TMPDIR), a cache and config of its own.
export HOME=$W/home TMPDIR=$W/tmp
unset XDG_RUNTIME_DIR XDG_CACHE_HOME XDG_CONFIG_HOME HUSK_CACHEDIR
mkdir -p "$HOME" "$TMPDIR"
stranger=${HUSK_STRANGER:-}
as_stranger() { sudo -n -u "$stranger" -- "$@"; }
cleanup() {
    "$HUSK" instance stop --all --timeout 1 >/dev/null 2>&1 || true
    pkill -KILL -u "$me" -f '^sleep 47(11|12|13)$' 2>/dev/null || true
    [ -z "$stranger" ] || as_stranger rm -rf "/tmp/husk-stranger-dir.$me" 2>/dev/null || true
    lib_remove_work "$W"
    lib_cleanup
}
trap cleanup EXIT

/usr/bin/python3 "$here/../fixtures/make-busybox-oci.py" "$W/bb-oci" >/dev/null
"$HUSK" convert -q oci:"$W/bb-oci" "$W/bb.sqsh" >/dev/null
IMG=$W/bb.sqsh
/usr/bin/python3 "$here/../fixtures/make-hostile-oci.py" "$W/hostile" >/dev/null
for c in separators nul-env nul-cmd etc-symlink mnt-symlink; do
    "$HUSK" convert -q oci:"$W/hostile/$c" "$W/$c.sqsh" >/dev/null
done

# ---- 1. image bytes are data, never launch instructions ------------------
env_value() { # NAME: the value of NAME in the separators image, as the container sees it
    "$HUSK" exec "$W/separators.sqsh" sh -c 'printf "%s" "$'"$1"'"'
}
expected() { # KEY INDEX: a value from expected.json (env or cmd), verbatim
    /usr/bin/python3 -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["separators"][sys.argv[2]][int(sys.argv[3])])' \
        "$W/hostile/expected.json" "$1" "$2"
}
for i in 1 2 3 4; do
    name=$(expected env "$i")
    name=${name%%=*}
    check "image config Env with separators and plan-like text: $name arrives exactly as written" sh -c '
        [ "$1=$2" = "$3" ] || { printf "got: %s\n" "$2" | od -c | head; exit 1; }' _ "$name" "$(env_value "$name")" "$(expected env "$i")"
done
check "image config Cmd with separators: the argument arrives exactly as written" sh -c '
    got=$("$1" run "$2"; echo x); [ "${got%x}" = "$3
" ]' _ "$HUSK" "$W/separators.sqsh" "$(expected cmd 1)"
check "crafted config and /etc/passwd add no mount, tmpfs or bind (no /hostetc, /evil)" sh -c '
    ! "$1" exec "$2" cat /proc/self/mountinfo | grep -E " /(hostetc2?|evil) "' _ "$HUSK" "$W/separators.sqsh"
check "crafted config and /etc/passwd leave the seccomp filter in place (Seccomp: 2)" sh -c '
    "$1" exec "$2" grep -q "^Seccomp:[[:space:]]*2" /proc/self/status' _ "$HUSK" "$W/separators.sqsh"
check "an /etc/passwd with NUL bytes and plan-like lines is the container's data, byte for byte" sh -c '
    [ "$("$1" exec "$2" cat /etc/passwd | grep -a "^nul:" | tr "\\000" @)" = "nul:x:4243:4243:a@bind:4:/etc:4:/mnt:2:rw:/:/bin/sh" ]' \
    _ "$HUSK" "$W/separators.sqsh"
check_fails_like "a NUL byte in the image's Env: one line naming the field, nothing runs" 255 "Env entry 2.*NUL" \
    "$HUSK" exec "$W/nul-env.sqsh" true
check_fails_like "a NUL byte in the image's Cmd: one line naming the field, nothing runs" 255 "Cmd item 2.*NUL" \
    "$HUSK" run "$W/nul-cmd.sqsh"

# ---- 2. mount points never follow an image's symlinks onto the host ------
tmp_before=$(find /tmp -mindepth 1 -maxdepth 1 -user "$me" -newer "$W/bb.sqsh" 2>/dev/null | sort)
for mode in fuse extract; do
    check_fails_like "image /etc -> /tmp ($mode): one line, and nothing made in the host's /tmp" 255 \
        "symlinks lead it to /tmp" "$HUSK" exec -q --mode "$mode" "$W/etc-symlink.sqsh" true
done
mkdir -p "$W/src"
check_fails_like "image /mnt -> /tmp, -B SRC:/mnt/x: one line, no /tmp/x on the host" 255 \
    "symlinks lead it to /tmp" "$HUSK" exec -B "$W/src:/mnt/x" "$W/mnt-symlink.sqsh" true
check "the host's /tmp gained no file from those images (hosts, resolv.conf, passwd, group, x)" sh -c '
    for f in hosts resolv.conf passwd group x; do [ ! -e "/tmp/$f" ] || [ "$(stat -c %u "/tmp/$f")" != "$1" ] || exit 1; done
    [ "$(find /tmp -mindepth 1 -maxdepth 1 -user "$1" -newer "$2" | sort)" = "$3" ]' _ "$me" "$W/bb.sqsh" "$tmp_before"

# ---- 3. Husk's own state is out of the container's reach -----------------
"$HUSK" exec -q oci:"$W/bb-oci" true  # converted into the cache
"$HUSK" exec -q --mode extract "$IMG" true  # extracted under $TMPDIR/husk-UID
mkdir -p "$HOME/.config/husk" && echo '{"auths":{"reg.example":{"auth":"c2VjcmV0"}}}' >"$HOME/.config/husk/auth.json"
cached=$(find "$HOME/.cache/husk/images" -name '*.sqsh' | head -n 1)
tree=$(find "$TMPDIR/husk-$me/rootfs" -mindepth 1 -maxdepth 1 -type d | head -n 1)
sums() { sha256sum "$cached" "$tree/bin/busybox"; stat -c '%n %a %s %Y' "$cached" "$tree" "$tree/bin"; }
before=$(sums)
check "a container cannot rewrite, replace or rename the image cache (read-only / hidden, parents pinned)" sh -c '
    "$1" exec "$2" sh -c "
        chmod u+w $3 2>/dev/null; echo evil >>$3 2>/dev/null
        mv $4/.cache $4/.cache.old 2>/dev/null; mv $4/.cache/husk $4/.cache/husk.old 2>/dev/null
        ls $4/.cache/husk/images 2>/dev/null"
    [ -z "$(ls "$4/.cache.old" "$4/.cache/husk.old" 2>/dev/null)" ]' _ "$HUSK" "$IMG" "$cached" "$HOME"
check "a container cannot rewrite or replace an extracted tree in \$TMPDIR/husk-UID" sh -c '
    "$1" exec "$2" sh -c "echo evil >$3/bin/busybox 2>/dev/null; mv $4 $4.old 2>/dev/null; rm -rf $3 2>/dev/null; true"
    [ -d "$3/bin" ] && [ ! -e "$4.old" ]' _ "$HUSK" "$IMG" "$tree" "$TMPDIR/husk-$me"
check "... and the cached image and extracted tree are byte for byte as before" test "$before" = "$(sums)"
check "a container sees no credentials: auth.json is hidden" sh -c '
    ! "$1" exec "$2" cat "$3/.config/husk/auth.json" 2>/dev/null' _ "$HUSK" "$IMG" "$HOME"
check "not through another bind either (-B \$HOME:/h): the state is hidden there too" sh -c '
    ! "$1" exec -B "$3:/h" "$2" cat /h/.config/husk/auth.json 2>/dev/null &&
    ! "$1" exec -B "$3:/h" "$2" sh -c "echo x >>/h/.cache/husk/images/$(basename "$4")" 2>/dev/null' _ "$HUSK" "$IMG" "$HOME" "$cached"
check_fails_like "binding Husk's state itself (-B ~/.cache/husk/images:/x) is refused in one line" 255 \
    "inside Husk's image cache" "$HUSK" exec -B "$HOME/.cache/husk/images:/x" "$IMG" true
check "not through /proc/PID/root or /proc/PID/fd of Husk's own processes (the FUSE server holds the cached image)" sh -c '
    "$1" exec oci:"$2" sh -c "for p in /proc/[0-9]*; do
        case \$(cat \$p/comm 2>/dev/null) in husk-*)
            test -e \$p/root$3 && { echo \$p/root; exit 1; }
            for f in \$p/fd/*; do [ \"\$(readlink \$f 2>/dev/null)\" != $3 ] || { echo \$f; exit 1; }; done ;;
        esac
    done; exit 0"' _ "$HUSK" "$W/bb-oci" "$cached"

# ---- 4. only the caller's descriptors reach the command ------------------
fds() { # [FD]: the command's descriptors when husk gets only 0-2 (and FD, open on /dev/null)
    (
        for fd in $(ls "/proc/$BASHPID/fd"); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
        [ -z "${1:-}" ] || eval "exec $1</dev/null"
        "$HUSK" exec "$IMG" sh -c 'ls /proc/$$/fd; true' | paste -sd' '
    )
}
check "/proc/self/fd inside: 0-2 and the descriptor the caller passed (fd 7, like Slurm's PMI_FD)" \
    test "$(fds 7)" = "0 1 2 7"
check "/proc/self/fd inside: 0-2 when the caller passes nothing more (no image, plan or /dev/null copies)" \
    test "$(fds)" = "0 1 2"
check "an instance's command has only 0-2 (no plan memfd, no log or image descriptors)" sh -c '
    "$1" instance start "$2" fdcheck "sleep 4713" >/dev/null &&
    pid=$(pgrep -u "$3" -f "^sleep 4713$") && [ "$(ls /proc/$pid/fd | sort -n | paste -sd" ")" = "0 1 2" ]' _ "$HUSK" "$IMG" "$me"
"$HUSK" instance stop --timeout 1 fdcheck >/dev/null 2>&1 || true

# ---- 5. every process of a container dies with it ------------------------
killed_starter_leaves_nothing() { # [husk options]
    "$HUSK" exec "$@" "$IMG" sh -c 'sleep 4711 & sleep 4712 & wait' &
    local pid=$! i
    for i in $(seq 1 100); do [ "$(pgrep -u "$me" -c -f '^sleep 471[12]$')" -eq 2 ] && break; sleep 0.05; done
    [ "$(pgrep -u "$me" -c -f '^sleep 471[12]$')" -eq 2 ] || { echo "container did not start"; return 1; }
    kill -9 "$pid"
    for i in $(seq 1 20); do pgrep -u "$me" -f '^sleep 471[12]$' >/dev/null || return 0; sleep 0.1; done
    echo "left after 2 s:"; pgrep -u "$me" -a -f '^sleep 471[12]$'; return 1
}
check "kill -9 of the starter: background descendants are gone within 2 s (no PID namespace)" killed_starter_leaves_nothing
check "kill -9 of the starter: background descendants are gone within 2 s (--pid)" killed_starter_leaves_nothing --pid

# ---- 6. names and options from the command line stay in their place ------
mkdir -p "$W/outside" && touch "$W/outside/victim.json" "$W/outside/victim.out"
check_fails "instance stop with a path for a name: refused, nothing outside deleted" "invalid instance name" \
    "$HUSK" instance stop "../../../../$W/outside/victim"
check "... the files outside the state directory are still there" test -e "$W/outside/victim.json"
check_fails_like "exec instance://../x: the name is checked there too" 255 "invalid instance name" \
    "$HUSK" exec "instance://../../outside/victim" true
check_fails_like "--home '' is a usage error, not a crash" 255 "invalid --home" "$HUSK" exec --home '' "$IMG" true
check_fails_like "--home :/x is a usage error, not a crash" 255 "invalid --home" "$HUSK" exec --home ':/x' "$IMG" true

# ---- 7. another user of the node -----------------------------------------
if [ -n "$stranger" ] && as_stranger true 2>/dev/null; then
    # They plant /tmp/husk-<my uid>: an extracted tree for my image (its
    # key is public: the manifest digest) whose /bin/true would write a
    # marker where I can (the container runs as me),
    # and an instance log symlink pointing at a file of mine.
    # (This user's own /tmp/husk-UID, if earlier tests made one, goes first.)
    [ ! -e "/tmp/husk-$me" ] || { chmod -R u+rwX "/tmp/husk-$me"; rm -rf "/tmp/husk-$me"; }
    key=$(basename "$tree")
    echo precious >"$W/precious" && chmod 666 "$W/precious" && chmod 711 "$W"
    as_stranger sh -c '
        root=/tmp/husk-$1/rootfs/$2
        mkdir -p "$root/bin" "/tmp/husk-$1/instances" && cp /bin/busybox "$root/bin/sh"
        printf "#!/bin/sh\necho planted >$4\n" >"$root/bin/true"
        chmod 755 "$root/bin/true" && chmod -R a+rwX "/tmp/husk-$1"
        ln -s "$3" "/tmp/husk-$1/instances/planted.out"' _ "$me" "$key" "$W/precious" "$W/PWNED"
    TMPDIR=/tmp check_fails_like "another user's /tmp/husk-<uid>: refused in one line naming it and its owner, nothing run" \
        255 "/tmp/husk-$me belongs to uid [0-9]+ \\($stranger\\)" "$HUSK" exec --mode extract "$IMG" /bin/true
    check "... the planted tree was not executed" test ! -e "$W/PWNED"
    TMPDIR=/tmp check_fails_like "another user's state directory: instance start refused, the log symlink not followed" \
        255 "belongs to uid" "$HUSK" instance start "$IMG" planted true
    check "... the file the planted log symlink points to is unchanged" test "$(cat "$W/precious")" = precious
    as_stranger rm -rf "/tmp/husk-$me"
    # A symlink in their name where mine would be: refused, not followed.
    as_stranger mkdir -p "/tmp/husk-stranger-dir.$me"
    as_stranger ln -s "/tmp/husk-stranger-dir.$me" "/tmp/husk-$me"
    TMPDIR=/tmp check_fails_like "a symlinked state directory (another user's): refused, not followed" 255 \
        "symlink owned by uid" "$HUSK" exec --mode extract "$IMG" true
    as_stranger rm -rf "/tmp/husk-$me" "/tmp/husk-stranger-dir.$me"
    # A private directory of mine with group/other access: refused too.
    mkdir -p "/tmp/husk-$me" && chmod 777 "/tmp/husk-$me"
    TMPDIR=/tmp check_fails_like "my own state directory left open to others (0777): refused with the chmod fix" 255 \
        "chmod 700 /tmp/husk-$me" "$HUSK" exec --mode extract "$IMG" true
    rm -rf "/tmp/husk-$me"
    chmod 700 "$W"
else
    skip "another user's planted /tmp/husk-<uid>, symlinked state directory, planted log symlink" \
        "no second account (set HUSK_STRANGER to a user this one may sudo -n -u to)"
fi

summary
