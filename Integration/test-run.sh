#!/usr/bin/env bash
# husk run/exec/shell/env end to end, as the unprivileged user running it.
# Env: HUSK (the husk binary; husk-starter beside it or in HUSK_STARTER).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}

W=$(mktemp -d "${TMPDIR:-/tmp}/husk-run.XXXXXX")
cleanup() {
    pkill -KILL -u "$(id -u)" -x husk-starter 2>/dev/null || true
    chmod -R u+rwX "$W" 2>/dev/null || true
    rm -rf "$W"
    lib_cleanup
}
trap cleanup EXIT
export HUSK_CACHEDIR=$W/cache

/usr/bin/python3 "$here/fixtures/make-busybox-oci.py" "$W/bb-oci" >/dev/null
"$HUSK" convert -q oci:"$W/bb-oci" "$W/bb.sqsh" >/dev/null
IMG=$W/bb.sqsh
me=$(id -u) mygid=$(id -g) myname=$(id -un)

out() { # expected-output title cmd... : stdout of cmd equals expected
    local expected=$1 title=$2
    shift 2
    check "$title" sh -c 'actual=$("$@") && [ "$actual" = "$0" ] || { echo "expected [$0] got [$actual]"; exit 1; }' "$expected" "$@"
}

status() { # expected-status title cmd...
    local expected=$1 title=$2
    shift 2
    check "$title" sh -c '"$@" >/dev/null 2>&1; s=$?; [ "$s" -eq "$0" ] || { echo "exit status $s, expected $0"; exit 1; }' "$expected" "$@"
}

# -- the program that starts containers does it alone (husk-full is for the rest)
out "$me" "exec: husk starts the container itself, without husk-full" env HUSK_FULL=/bin/false "$HUSK" exec -c -B /tmp:/mnt "$IMG" id -u

# -- identity
out "$me" "exec: id -u is the caller's uid" "$HUSK" exec "$IMG" id -u
out "$mygid" "exec: id -g is the caller's gid" "$HUSK" exec "$IMG" id -g
out "$myname" "exec: the user's name resolves inside (synthesized /etc/passwd)" "$HUSK" exec "$IMG" id -un
out "0" "--fakeroot: id -u is 0" "$HUSK" exec --fakeroot "$IMG" id -u
out "root" "--fakeroot: the name is root" "$HUSK" exec --fakeroot "$IMG" id -un
if grep -q "^$myname:" /etc/subuid 2>/dev/null && [ -u /usr/bin/newuidmap ]; then
    check "--fakeroot with /etc/subuid: ids 1.. map to the subordinate range" sh -c '
        [ "$("$1" exec --fakeroot "$2" cat /proc/self/uid_map | wc -l)" -eq 2 ]' _ "$HUSK" "$IMG"
    out "1000:1000" "--fakeroot with /etc/subuid: the image's owners are kept" \
        "$HUSK" exec --fakeroot "$IMG" stat -c %u:%g /home/user/owned.txt
else
    skip "--fakeroot with /etc/subuid ranges" "no /etc/subuid entry for $myname or no setuid newuidmap"
fi
out "65534:65534" "without --fakeroot, owners the namespace cannot map show as nobody" \
    "$HUSK" exec "$IMG" stat -c %u:%g /home/user
check "the image's own passwd entries are kept" sh -c '"$1" exec "$2" cat /etc/passwd | grep -q "^root:"' _ "$HUSK" "$IMG"

# -- run / exec semantics
out "hello" "run: Entrypoint + Cmd" "$HUSK" run "$IMG"
out "custom" "run: arguments replace Cmd" "$HUSK" run "$IMG" "echo custom"
out "a b" "exec passes arguments verbatim" "$HUSK" exec "$IMG" echo "a b"
out "hi" "stdin is the caller's (pipe)" sh -c 'echo hi | "$1" exec "$2" cat' _ "$HUSK" "$IMG"

# -- exit status
status 0 "exit status 0" "$HUSK" exec "$IMG" true
status 3 "exit status 3 passes through" "$HUSK" exec "$IMG" sh -c 'exit 3'
status 127 "command not found: 127" "$HUSK" exec "$IMG" no-such-command
check "not found message names the command and the image" sh -c '
    "$1" exec "$2" no-such-command 2>"$3/err" >/dev/null; grep -q "^husk: no-such-command: not found in bb" "$3/err"' _ "$HUSK" "$IMG" "$W"
status 126 "not executable: 126" "$HUSK" exec "$IMG" /etc/passwd
for sig in TERM:143 INT:130 HUP:129; do
    name=${sig%%:*} code=${sig##*:}
    check "SIG$name to husk is forwarded; exit status $code" sh -c '
        "$1" exec "$2" sleep 30 & pid=$!
        sleep 1; kill -s "$3" "$pid"; wait "$pid"; s=$?
        [ "$s" -eq "$4" ] || { echo "exit status $s"; exit 1; }' _ "$HUSK" "$IMG" "$name" "$code"
done

# -- the image is read-only; --writable-tmpfs
check "writing to / fails without --writable-tmpfs" sh -c '! "$1" exec "$2" sh -c "echo x > /newfile" 2>/dev/null' _ "$HUSK" "$IMG"
check "writing into the image's /bin fails" sh -c '! "$1" exec "$2" sh -c "echo x > /bin/new" 2>/dev/null' _ "$HUSK" "$IMG"
out "x" "--writable-tmpfs: / is writable" "$HUSK" exec --writable-tmpfs "$IMG" sh -c 'echo x > /newfile && cat /newfile'
check "--writable-tmpfs: nothing persists into the image" sh -c '! "$1" exec "$2" test -e /newfile' _ "$HUSK" "$IMG"

# -- overlays only where the image needs new entries (overlayfs slows every read below it)
# the type (after the "-" field) of the topmost mount on directory $0
fstype_at='awk -v d="$0" '"'"'$5 == d {for (i = 7; i < NF; i++) if ($i == "-") t = $(i + 1)} END {print t}'"'"' /proc/self/mountinfo'
# These run from /tmp, which the image has: a working directory the image
# lacks (a checkout in /srv, /builds) would need a new top-level entry.
out "fuse.squashfuse" "the root is the image's own mount, not an overlay (new entries go to /home, /etc)" \
    sh -c 'cd /tmp && "$@"' _ "$HUSK" exec "$IMG" sh -c "$fstype_at" /
check "--mode extract: the root is not an overlay either, and is read-only" sh -c '
    cd /tmp && t=$(env TMPDIR="$1" "$2" exec --mode extract "$3" sh -c "$4" /) && [ "$t" != overlay ] &&
    ! env TMPDIR="$1" "$2" exec --mode extract "$3" sh -c "echo x > /newfile" 2>/dev/null' _ "$W" "$HUSK" "$IMG" "$fstype_at"
mkdir -p "$W/deep"
echo deep > "$W/deep/f"
out "overlay deep root" "a bind to a new directory in /etc overlays /etc alone, and the image's /etc stays" \
    sh -c 'cd /tmp && "$@"' _ "$HUSK" exec -B "$W/deep:/etc/husk-new/deep" "$IMG" sh -c \
    'echo $(sh -c "$0" /etc) $(cat /etc/husk-new/deep/f) $(grep -c "^root:" /etc/passwd | sed s/1/root/)' "$fstype_at"
check "an overlaid /etc is read-only" sh -c '! "$1" exec -B "$2:/etc/husk-new/deep" "$3" sh -c "echo x > /etc/newfile" 2>/dev/null' \
    _ "$HUSK" "$W/deep" "$IMG"
# An image directory with nothing in it needs no overlay: its new entries
# (on a tmpfs) are bound there instead, read-only.
out "tmpfs husk-new deep" "a new entry in an empty image directory (/lib here, /home in most images) is bound, not overlaid" \
    sh -c 'cd /tmp && "$@"' _ "$HUSK" exec -B "$W/deep:/lib/husk-new" "$IMG" sh -c \
    'echo $(sh -c "$0" /lib) $(ls /lib) $(cat /lib/husk-new/f)' "$fstype_at"
check "that empty image directory stays read-only" \
    sh -c '! "$1" exec -B "$2:/lib/husk-new" "$3" sh -c "echo x > /lib/newfile" 2>/dev/null' _ "$HUSK" "$W/deep" "$IMG"
# A new top-level entry (-B /lustre, a working directory in /scratch): the
# root is a tmpfs skeleton with the image's top-level entries bound in.
out "tmpfs fuse.squashfuse fuse.squashfuse deep bin etc husk-new-top usr" \
    "a new top-level directory gets a skeleton root: image directories bound bare, no overlay" \
    "$HUSK" exec -B "$W/deep:/husk-new-top" "$IMG" sh -c \
    'echo $(sh -c "$0" /) $(sh -c "$0" /usr) $(sh -c "$0" /etc) $(cat /husk-new-top/f) $(ls / | grep -x -e bin -e etc -e usr -e husk-new-top)' "$fstype_at"
check "the skeleton root and the image directories in it are read-only" sh -c '
    for f in /newfile /usr/newfile /bin/newfile; do
        ! "$1" exec -B "$2:/husk-new-top" "$3" sh -c "echo x > $f" 2>/dev/null || exit 1
    done' _ "$HUSK" "$W/deep" "$IMG"
check "--mode extract with a skeleton root: the extracted image stays read-only" sh -c '
    env TMPDIR="$1" "$2" exec --mode extract -B "$4:/husk-new-top" "$3" sh -c "cat /husk-new-top/f && ! touch /usr/newfile 2>/dev/null && ! touch /newfile 2>/dev/null"' \
    _ "$W" "$HUSK" "$IMG" "$W/deep"
out "overlay" "--writable-tmpfs overlays the whole root" "$HUSK" exec --writable-tmpfs "$IMG" sh -c "$fstype_at" /

# -- binds
mkdir -p "$W/data" "$W/ro"
echo host > "$W/ro/file"
check "-B: a file created inside appears on the host, owned by the user" sh -c '
    "$1" exec -B "$3/data:/data" "$2" sh -c "echo inside > /data/created" &&
    [ "$(cat "$3/data/created")" = inside ] && [ "$(stat -c %u "$3/data/created")" = "$(id -u)" ]' _ "$HUSK" "$IMG" "$W"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    shm=$(mktemp -d /dev/shm/husk-run.XXXXXX)
    check "-B from another filesystem (tmpfs /dev/shm) works as the user" sh -c '
        "$1" exec -B "$3:/scratch" "$2" sh -c "echo t > /scratch/f" && [ "$(stat -c %u "$3/f")" = "$(id -u)" ]' _ "$HUSK" "$IMG" "$shm"
    rm -rf "$shm"
fi
check "-B SRC:DST:ro refuses writes" sh -c '! "$1" exec -B "$3/ro:/ro:ro" "$2" sh -c "echo x > /ro/file" 2>/dev/null' _ "$HUSK" "$IMG" "$W"
out "host" "-B comma-separated list, destinations created" "$HUSK" exec -B "$W/data:/a/b/c,$W/ro:/mnt/ro:ro" "$IMG" cat /mnt/ro/file
check "bind source missing: one line, status 255" sh -c '
    "$1" exec -B /no/such/dir:/x "$2" true 2>"$3/err"; s=$?
    [ "$s" -eq 255 ] && [ "$(wc -l < "$3/err")" -eq 1 ] && grep -q "^husk: .*/no/such/dir" "$3/err"' _ "$HUSK" "$IMG" "$W"
for dst in /proc /dev/x /sys/kernel; do
    check "bind destination $dst is refused" sh -c '
        "$1" exec -B "$3/data:$4" "$2" true 2>"$3/err"; s=$?
        [ "$s" -eq 255 ] && grep -q "^husk: .*refus" "$3/err"' _ "$HUSK" "$IMG" "$W" "$dst"
done

# -- home, cwd, --pwd, --contain
out "$HOME" "\$HOME is the user's home" "$HUSK" exec "$IMG" sh -c 'echo $HOME'
check "the home directory is bound" sh -c 'cd "$HOME" && touch husk-home-probe && "$1" exec "$2" test -e "$HOME/husk-home-probe"; s=$?; rm -f "$HOME/husk-home-probe"; exit $s' _ "$HUSK" "$IMG"
check "--no-home: home not bound" sh -c 'cd / && ! "$1" exec --no-home "$2" test -d "$HOME"' _ "$HUSK" "$IMG"
out "$W/data" "the current directory is kept as the working directory" sh -c 'cd "$1" && "$2" exec "$3" pwd' _ "$W/data" "$HUSK" "$IMG"
out "/tmp" "--pwd" "$HUSK" exec --pwd /tmp "$IMG" pwd
check "an inaccessible WorkingDir (owned by an unmapped uid): / and a warning" sh -c '
    cd / && [ "$("$1" exec "$2" pwd 2>"$3/err")" = / ] && grep -q "^husk: warning: cannot enter the working directory /home/user" "$3/err"' _ "$HUSK" "$IMG" "$W"
touch "/tmp/husk-run-probe-$$"
check "/tmp is the host's by default" "$HUSK" exec "$IMG" test -e "/tmp/husk-run-probe-$$"
check "--contain: a fresh /tmp" sh -c '! "$1" exec --contain "$2" test -e "/tmp/husk-run-probe-$$"' _ "$HUSK" "$IMG"
rm -f "/tmp/husk-run-probe-$$"
out "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero" "--contain: a minimal /dev (no host devices)" \
    sh -c '"$1" exec --contain --pwd / "$2" ls /dev | tr "\n" " " | sed "s/ \$//"' _ "$HUSK" "$IMG"
check "--contain: /dev/null, /dev/urandom and /dev/fd work" "$HUSK" exec --contain --pwd / "$IMG" \
    sh -c 'echo x > /dev/null && head -c 4 /dev/urandom | wc -c | grep -q 4 && ls /dev/fd/ | grep -q "^0$"'
check "--contain: -B into the fresh /tmp lands inside it" sh -c '
    "$1" exec --contain --pwd / -B "$3:/tmp/in" "$2" sh -c "echo c > /tmp/in/contained" && [ -e "$3/contained" ]' _ "$HUSK" "$IMG" "$W/data"
check "/dev/null, /dev/zero and /dev/urandom work" "$HUSK" exec "$IMG" sh -c 'echo x > /dev/null && head -c 1 /dev/zero | wc -c | grep -q 1 && head -c 4 /dev/urandom | wc -c | grep -q 4'
check "/proc is mounted" "$HUSK" exec "$IMG" test -r /proc/self/status
out "2" "--pid: the command is PID 2 under a small init" "$HUSK" exec --pid "$IMG" sh -c 'echo $$'
check "--pid: /proc shows only the container's processes" sh -c '
    n=$("$1" exec --pid "$2" sh -c "ls /proc | grep -c \"^[0-9]\"") && [ "$n" -le 4 ] || { echo "$n processes"; exit 1; }' _ "$HUSK" "$IMG"
status 5 "--pid: the exit status passes through init" "$HUSK" exec --pid "$IMG" sh -c 'exit 5'

# -- more namespaces and limits
out "lo" "--net: only a loopback device" sh -c '"$1" exec --net "$2" cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "' _ "$HUSK" "$IMG"
check "--net: lo is up" sh -c '"$1" exec --net "$2" busybox ip link show lo | grep -q "<LOOPBACK,UP"' _ "$HUSK" "$IMG"
out "box42" "--hostname sets the host name in a UTS namespace" "$HUSK" exec --hostname box42 "$IMG" busybox hostname
out "$(cat /proc/sys/kernel/hostname)" "without --uts the host name is the host's" "$HUSK" exec "$IMG" busybox hostname
check "--ipc: a new IPC namespace" sh -c '
    [ "$("$1" exec --ipc "$2" busybox readlink /proc/self/ns/ipc)" != "$(readlink /proc/self/ns/ipc)" ]' _ "$HUSK" "$IMG"
out "64" "--rlimit nofile=64" "$HUSK" exec --rlimit nofile=64 "$IMG" sh -c 'ulimit -n'
out "32 64" "--rlimit NAME=SOFT:HARD" "$HUSK" exec --rlimit nofile=32:64 "$IMG" sh -c 'echo $(ulimit -Sn) $(ulimit -Hn)'
check "--rlimit above the hard limit: one clear line, status 255" sh -c '
    "$1" exec --rlimit nofile=unlimited "$2" true 2>"$3/err"; s=$?
    [ "$s" -eq 255 ] && [ "$(wc -l < "$3/err")" -eq 1 ] && grep -q "^husk: --rlimit nofile: the hard limit cannot be raised" "$3/err"' _ "$HUSK" "$IMG" "$W"
check "--containall: PID namespace, clean environment, fresh /tmp" sh -c '
    touch "/tmp/husk-containall-$$"
    out=$(env SLURM_JOB_ID=9 "$1" exec --containall --pwd / "$2" sh -c "echo \$\$ \${SLURM_JOB_ID:-none}; test -e /tmp/husk-containall-$$ && echo leaked")
    rm -f "/tmp/husk-containall-$$"
    [ "$out" = "2 none" ] || { echo "$out"; exit 1; }' _ "$HUSK" "$IMG"

# -- environment
env_a=$(env -i HOME="$HOME" USER="$USER" PATH=/usr/bin:/bin TERM=xterm SECRET=a EDITOR=vi "$HUSK" env "$IMG")
env_b=$(env -i HOME="$HOME" USER="$USER" PATH=/sbin:/usr/local/bin TERM=xterm FOO=bar LD_LIBRARY_PATH=/x "$HUSK" env "$IMG")
check "husk env is the same for two different host environments" test "$env_a" = "$env_b"
check "husk env: no host secrets leak" sh -c '! printf "%s\n" "$1" | grep -q SECRET' _ "$env_a"
check "husk env: image Env applied" sh -c 'printf "%s\n" "$1" | grep -qx "HUSK_FIXTURE=busybox"' _ "$env_a"
out "7" "scheduler variables pass through" env SLURM_JOB_ID=7 "$HUSK" exec "$IMG" sh -c 'echo $SLURM_JOB_ID'
out "" "--cleanenv drops them" env SLURM_JOB_ID=7 "$HUSK" exec --cleanenv "$IMG" sh -c 'echo $SLURM_JOB_ID'
out "v" "HUSK_ENV_NAME sets NAME" env HUSK_ENV_MYVAR=v "$HUSK" exec "$IMG" sh -c 'echo $MYVAR'
printf 'A=file\nB=file\n' > "$W/envfile"
out "file cli" "--env-file then --env" "$HUSK" exec --env-file "$W/envfile" --env B=cli "$IMG" sh -c 'echo $A $B'
check "the container sees exactly husk env's variables" sh -c '
    [ "$("$1" exec "$2" env | sort)" = "$("$1" env "$2" | sort)" ]' _ "$HUSK" "$IMG"

# -- image kinds and modes
out "$me" "on-the-fly conversion of oci:DIR into the cache" "$HUSK" exec "oci:$W/bb-oci" id -u
check "the cache holds the converted image" sh -c 'ls "$1"/images/*.sqsh >/dev/null' _ "$HUSK_CACHEDIR"
out "$me" "--mode extract" env TMPDIR="$W" "$HUSK" exec --mode extract "$IMG" id -u
check "--mode extract reuses its extraction" sh -c '
    before=$(ls "$1"/husk-*/rootfs | sort); env TMPDIR="$1" "$2" exec --mode extract "$3" true
    [ "$(ls "$1"/husk-*/rootfs | sort)" = "$before" ]' _ "$W" "$HUSK" "$IMG"
# The busybox image extracted into a TMPDIR of this test's own, copied.
mkdir -p "$W/sandbox" "$W/tmp" && TMPDIR=$W/tmp "$HUSK" exec --mode extract "$IMG" true >/dev/null 2>&1 || true
cp -a "$(ls -d "$W/tmp/husk-$me"/rootfs/*/ 2>/dev/null | head -n 1)." "$W/sandbox/" 2>/dev/null || true
if [ -x "$W/sandbox/bin/sh" ]; then
    out "$me" "a directory as the image (sandbox)" "$HUSK" exec "$W/sandbox" id -u
    sed -i 's|"WorkingDir":"[^"]*"|"WorkingDir":"/work/missing"|; s|"WorkingDir": "[^"]*"|"WorkingDir": "/work/missing"|' "$W/sandbox/.husk/config.json"
    out "/work/missing" "a missing WorkingDir is created, as OCI runtimes do" sh -c 'cd / && "$1" exec "$2" pwd' _ "$HUSK" "$W/sandbox"
else
    skip "a directory as the image (sandbox)" "no extracted tree to copy"
fi
check "a missing image: one clear line, status 255" sh -c '
    "$1" exec /no/such/image.sqsh true 2>"$2/err"; s=$?
    [ "$s" -eq 255 ] && [ "$(wc -l < "$2/err")" -eq 1 ] && grep -q "^husk: .*no such image" "$2/err"' _ "$HUSK" "$W"
check_fails "husk env of a missing image: status 1 (not a container)" "no such image" "$HUSK" env /no/such/image.sqsh
# User namespace limits are per namespace: 0 inside our own one is a host
# where unprivileged user namespaces are disabled.
check "no user namespaces: one clear line, status 255" sh -c '
    mkdir -p "$3/userns-tmp"  # uid 0 in there: its own TMPDIR, not a /tmp/husk-0 of the real root
    TMPDIR=$3/userns-tmp unshare -Ur sh -c "echo 0 > /proc/sys/user/max_user_namespaces && exec \"\$0\" exec \"\$1\" true" "$1" "$2" 2>"$3/err"; s=$?
    [ "$s" -eq 255 ] && [ "$(wc -l < "$3/err")" -eq 1 ] && grep -q "^husk: cannot create a user namespace.*administrator" "$3/err"' _ "$HUSK" "$IMG" "$W"

# -- nothing survives the container
check "kill -9 of husk: no process or mount survives" sh -c '
    "$1" exec "$2" sleep 60 & pid=$!
    sleep 1; kill -9 "$pid"; wait "$pid" 2>/dev/null; sleep 1
    if pgrep -u "$(id -u)" -x husk-starter || pgrep -u "$(id -u)" -f "^sleep 60$"; then echo "process left"; exit 1; fi' _ "$HUSK" "$IMG"
check "kill -9 of the container process: husk exits 137, nothing survives" sh -c '
    "$1" exec "$2" sleep 60 & pid=$!
    sleep 1; pkill -KILL -u "$(id -u)" -f "^sleep 60$"; wait "$pid"; s=$?
    sleep 0.5
    if pgrep -u "$(id -u)" -x husk-starter || pgrep -u "$(id -u)" -f "^sleep 60$"; then echo "process left"; exit 1; fi
    [ "$s" -eq 137 ] || { echo "exit status $s"; exit 1; }' _ "$HUSK" "$IMG"
check "no FUSE mount of the image anywhere after the runs" sh -c '! grep -qs "squashfuse\|bb\.sqsh" /proc/[0-9]*/mountinfo'

# -- interactive shell in a terminal (tmux)
if command -v tmux >/dev/null 2>&1; then
    sock=$W/tmux.sock
    tmux -S "$sock" new-session -d -x 120 -y 20 "$HUSK shell $IMG"
    sleep 1
    tmux -S "$sock" send-keys 'echo $((6*7))' Enter
    sleep 0.5
    check "shell: a prompt naming the image, typing works" sh -c 'tmux -S "$1" capture-pane -p | grep -q "^42$" && tmux -S "$1" capture-pane -p | grep -q "\[bb\]"' _ "$sock"
    tmux -S "$sock" send-keys 'sleep 100' Enter
    sleep 0.5
    tmux -S "$sock" send-keys C-c
    sleep 0.5
    tmux -S "$sock" send-keys 'echo still-$((1+1))' Enter
    sleep 0.5
    check "shell: Ctrl-C stops the foreground command, not the shell" sh -c 'tmux -S "$1" capture-pane -p | grep -q "^still-2$"' _ "$sock"
    tmux -S "$sock" kill-server 2>/dev/null || true
else
    skip "interactive shell in tmux" "tmux not installed"
fi
summary
