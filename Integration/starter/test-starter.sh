#!/usr/bin/env bash
# husk-starter on its own: launch plans written by hand (plan_record) on
# fd 3.  Run as an unprivileged user with user namespaces and /dev/fuse:
#
#   STARTER=/path/to/husk-starter IMAGE=/path/to/busybox.sqsh \
#       Integration/starter/test-starter.sh
#
# Both files must be readable by that user.  IMAGE is the busybox image of
# Integration/fixtures (make-busybox-oci.py + husk convert).
# shellcheck disable=SC2016  # '$...' in sh -c strings expands in the container
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
STARTER=${STARTER:?set STARTER to the husk-starter binary}
IMAGE=${IMAGE:?set IMAGE to the busybox .sqsh}

uid=$(id -u)
gid=$(id -g)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/husk-starter-test.XXXXXX")
trap 'rm -rf "$WORK"; lib_cleanup' EXIT
mkdir -p "$WORK/rw" "$WORK/ro"
# Containers of this test run "sleep 4711"; one left by an earlier run
# would make every leftover check fail.
pkill -KILL -u "$uid" -f 'sleep 4711' 2>/dev/null
echo host-file >"$WORK/ro/data"
# Directories this user owns directly under /tmp now: none may appear later.
tmp_before=$(find /tmp -mindepth 1 -maxdepth 1 -user "$uid" | sort)

BASE=(name=busybox "image=$IMAGE" offset=0 "uid=$uid" "gid=$gid" "ctr_uid=$uid" "ctr_gid=$gid"
      fakeroot=0 writable_tmpfs=0 pid=0 cwd=/ env=PATH=/bin:/usr/bin env=HOME=/)

# plan_record KEY=FIELD[<TAB>FIELD...]: one record of the launch plan
# (KEY:LENGTH:BYTES per field, then a newline; see plan.c).
plan_record() {
    local LC_ALL=C key=${1%%=*} rest=${1#*=} field
    printf '%s' "$key"
    while :; do
        field=${rest%%$'\t'*}
        printf ':%d:%s' "${#field}" "$field"
        [ "$field" != "$rest" ] || break
        rest=${rest#*$'\t'}
    done
    printf '\n'
}
# mkplan REC... [-- ARG...]: write version + BASE + records + arg records to
# $PLAN; a record of a key that appears once replaces BASE's.
mkplan() {
    local base=("${BASE[@]}") extra=() a r i
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case ${1%%=*} in
            env | arg | bind | tmpfs | file | symlink | mkdir | rlimit | keep_fd | protect) ;;
            *) for i in "${!base[@]}"; do [ "${base[$i]%%=*}" = "${1%%=*}" ] && unset 'base[i]'; done ;;
        esac
        extra+=("$1")
        shift
    done
    local recs=(version=1 "${base[@]}" "${extra[@]+"${extra[@]}"}")
    [ $# -gt 0 ] && shift
    for a in "$@"; do recs+=("arg=$a"); done
    PLAN=$(mktemp "$WORK/plan.XXXXXX")
    for r in "${recs[@]}"; do plan_record "$r"; done >"$PLAN"
}
# st REC... -- ARG...: run the starter on that plan.
st() {
    mkplan "$@"
    local rc=0
    "$STARTER" 3<"$PLAN" || rc=$?
    rm -f "$PLAN"
    return "$rc"
}
# Same, with a different base (records replace BASE entries of the same key).
st_with() { # KEY=VALUE... -- (plan records) -- (args)
    local saved=("${BASE[@]}") kv k i rc=0
    while [ "$1" != -- ]; do
        kv=$1; k=${kv%%=*}
        for i in "${!BASE[@]}"; do [ "${BASE[$i]%%=*}" = "$k" ] && unset 'BASE[i]'; done
        BASE+=("$kv"); shift
    done
    shift
    st "$@" || rc=$?
    BASE=("${saved[@]}")
    return "$rc"
}

check_rc() { # TITLE STATUS CMD...
    local title=$1 want=$2 out=$LIB_OUT_DIR/out rc=0
    shift 2
    "$@" >"$out" 2>&1 </dev/null || rc=$?
    if [ "$rc" -eq "$want" ]; then lib_pass "$title"; return 0; fi
    lib_fail "$title"
    printf '#   command: %s\n#   exit status: %d, expected %d\n' "$*" "$rc" "$want"
    lib_show "$out" output
}
check_fails_255() { # TITLE KEYWORD CMD...: exit 255, one "husk: " line with KEYWORD
    local title=$1 keyword=$2 out=$LIB_OUT_DIR/stdout err=$LIB_OUT_DIR/stderr rc=0 why=""
    shift 2
    "$@" >"$out" 2>"$err" </dev/null || rc=$?
    if [ "$rc" -ne 255 ]; then why="exit status $rc, expected 255"
    elif [ "$(grep -c '' "$err")" -ne 1 ]; then why="stderr is not exactly one line"
    elif ! grep -q '^husk: ' "$err"; then why="stderr does not start with 'husk: '"
    elif ! grep -qiF -- "$keyword" "$err"; then why="stderr does not contain '$keyword'"
    fi
    if [ -z "$why" ]; then lib_pass "$title"; return 0; fi
    lib_fail "$title"
    printf '#   command: %s\n#   %s\n' "$*" "$why"
    lib_show "$out" stdout
    lib_show "$err" stderr
}
output_is() { # EXPECTED CMD...: stdout of CMD equals EXPECTED
    local want=$1 got
    shift
    got=$("$@") || return 1
    [ "$got" = "$want" ] || { printf 'got:      %s\nexpected: %s\n' "$got" "$want"; return 1; }
}
stderr_has() { # KEYWORD CMD...: CMD fails and says KEYWORD on stderr
    local keyword=$1 err
    shift
    if err=$("$@" 2>&1 >/dev/null); then echo "succeeded"; return 1; fi
    printf '%s\n' "$err"
    grep -qiF -- "$keyword" <<<"$err"
}
# Leftovers: processes of this user running the starter or the test's
# sleeps, and husk mounts in any of this user's processes.
leftover_processes() {
    # By process name and exact command line: a caller's command line may
    # mention husk-starter (a path) without being one.
    # The starter's children rename themselves husk-fuse, husk-reaper, husk-init.
    { pgrep -u "$uid" -a -x 'husk-(starter|fuse|reaper|init)'; pgrep -u "$uid" -a -f '^sleep 4711'; } | grep . || return 1
}
husk_mounts() { # mountinfo lines of this user's processes that are ours
    local p
    for p in $(pgrep -u "$uid"); do
        grep -hE 'fuse\.squashfuse|upperdir=/tmp/upper| husk ' "/proc/$p/mountinfo" 2>/dev/null
    done
    return 0
}
no_leftovers() {
    local i
    for i in $(seq 1 40); do
        leftover_processes >/dev/null || break
        sleep 0.05
    done
    if leftover_processes; then echo "processes left"; return 1; fi
    local m
    m=$(husk_mounts)
    [ -z "$m" ] || { printf 'mounts left:\n%s\n' "$m"; return 1; }
}
# start_bg REC... -- ARG...: start the starter in the background with
# SIGINT/SIGQUIT at their defaults (bash ignores them in background jobs).
start_bg() {
    mkplan "$@"
    env --default-signal=INT,QUIT "$STARTER" 3<"$PLAN" >/dev/null 2>&1 &
    BG=$!
    # wait until the container runs (its sleep exists)
    local i
    for i in $(seq 1 100); do
        pgrep -u "$uid" -f 'sleep 4711' >/dev/null && return 0
        sleep 0.05
    done
    return 1
}
signal_status() { # SIGNAL STATUS [REC...]: container killed via the starter
    local sig=$1 want=$2 rc=0
    shift 2
    start_bg "$@" -- sleep 4711 || { echo "container did not start"; kill -9 "$BG"; return 1; }
    kill -s "$sig" "$BG"
    wait "$BG" || rc=$?
    [ "$rc" -eq "$want" ] || { echo "exit status $rc, expected $want"; return 1; }
    no_leftovers
}
kill9_parent() { # [REC...]
    start_bg "$@" -- sleep 4711 || return 1
    kill -9 "$BG"
    wait "$BG" 2>/dev/null
    no_leftovers
}
kill9_child() {
    local rc=0 child
    start_bg -- sleep 4711 || return 1
    # The container side (not the FUSE server): the command's supervisor.
    child=$(pgrep -P "$BG" -x husk-reaper)
    [ -n "$child" ] || { echo "no child"; return 1; }
    kill -9 "$child"
    wait "$BG" || rc=$?
    [ "$rc" -eq 137 ] || { echo "exit status $rc, expected 137"; return 1; }
    no_leftovers
}
mount_visible_while_running() { # positive control for husk_mounts
    start_bg -- sleep 4711 || return 1
    local m
    m=$(husk_mounts)
    kill -9 "$BG"
    wait "$BG" 2>/dev/null
    [ -n "$m" ] || { echo "no husk mount seen while running"; return 1; }
}

# --- identity -------------------------------------------------------------
check "id -u inside is the outside uid" output_is "$uid" st -- id -u
check "id -g inside is the outside gid" output_is "$gid" st -- id -g
check "ctr_uid=0 gives uid 0" output_is 0 st_with ctr_uid=0 ctr_gid=0 -- -- id -u
check "file= /etc/passwd is visible" output_is "me:x:$uid:$gid::/home/me:/bin/sh" \
    st "file=/etc/passwd	0644	me:x:$uid:$gid::/home/me:/bin/sh
" -- cat /etc/passwd
check "file= creates missing directories" output_is "hello" \
    st "file=/new/dir/f	0600	hello" -- cat /new/dir/f
check "file= mode is applied" output_is "600" \
    st "file=/new/f	0600	x" -- stat -c %a /new/f

# --- exit status ----------------------------------------------------------
check_rc "exit 0" 0 st -- true
check_rc "exit 3 passes through" 3 st -- sh -c 'exit 3'
check_rc "missing command exits 127" 127 st -- no-such-command
check "missing command says not found in NAME" stderr_has "husk: no-such-command: not found in busybox" st -- no-such-command
check_rc "non-executable file exits 126" 126 st -- /etc/passwd
check "non-executable says not executable" stderr_has "not executable in busybox" st -- /etc/passwd
check_rc "PATH search uses the env= PATH" 127 st_with env=PATH=/nonexistent -- -- true
check "SIGTERM to the starter: 143" signal_status TERM 143
check "SIGINT to the starter: 130" signal_status INT 130
check "kill -9 of the starter leaves nothing" kill9_parent
check "kill -9 of the container child: 137, nothing left" kill9_child
kill9_parent_background() { # [REC...]: the command's background children die too
    mkplan "$@" -- sh -c 'sleep 4711 & sleep 4711 & wait'
    env --default-signal=INT,QUIT "$STARTER" 3<"$PLAN" >/dev/null 2>&1 &
    BG=$!
    local i
    for i in $(seq 1 100); do
        [ "$(pgrep -u "$uid" -c -f '^sleep 4711')" -ge 2 ] && break
        sleep 0.05
    done
    kill -9 "$BG"
    wait "$BG" 2>/dev/null
    no_leftovers
}
check "kill -9 of the starter: the command's background processes die too (no PID namespace)" kill9_parent_background
check "kill -9 of the starter: the command's background processes die too (pid=1)" kill9_parent_background pid=1
check "the command's background processes end with it" sh -c '
    "$1" 3<"$2" >/dev/null 2>&1; pgrep -u "$3" -f "^sleep 4711" && exit 1; exit 0' _ "$STARTER" \
    "$(mkplan -- sh -c 'sleep 4711 & exit 0'; echo "$PLAN")" "$uid"
server_dies() { # the FUSE server killed by SIGSEGV mid-run: one line, 255, nothing left
    local rc=0 server err=$WORK/server-err
    mkplan -- sleep 4711
    env --default-signal=INT,QUIT "$STARTER" 3<"$PLAN" >/dev/null 2>"$err" &
    BG=$!
    local i
    for i in $(seq 1 100); do pgrep -u "$uid" -f '^sleep 4711' >/dev/null && break; sleep 0.05; done
    server=$(pgrep -P "$BG" -x husk-fuse)
    [ -n "$server" ] || { echo "no husk-fuse child"; kill -9 "$BG"; return 1; }
    grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$server/status" &&
        grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$server/status" || { echo "server not confined"; return 1; }
    kill -SEGV "$server"
    wait "$BG" || rc=$?
    [ "$rc" -eq 255 ] || { echo "exit status $rc, expected 255"; return 1; }
    [ "$(grep -c '' "$err")" -eq 1 ] && grep -q '^husk: the FUSE server of busybox ended (killed by signal 11)' "$err" ||
        { cat "$err"; return 1; }
    no_leftovers
}
check "a crashing FUSE server (damaged image): one line, status 255, no signal, nothing left" server_dies
own_fds() { # REC...: the descriptors the command has, with 7, 8 and 9 open in the caller
    # ls, a child of the command, lists the command's own descriptors ("; true":
    # sh would exec the last command in its own place).
    (exec 7</dev/null 8</dev/null 9</dev/null; st "bind=/proc	/proc	rw,rec" "$@" -- sh -c 'ls /proc/$$/fd; true') |
        paste -sd' ' 
}
check "descriptors: only 0-2 and those the caller passed on (keep_fd) reach the command" output_is "0 1 2 7" \
    own_fds keep_fd=7
check "descriptors: none of the caller's without keep_fd, not the plan's" output_is "0 1 2" own_fds
left_behind() {
    st "bind=/dev/null	/dev/null	dev" -- sh -c 'sleep 4711 & sleep 0.3; exit 5'
    [ $? -eq 5 ] || return 1
    no_leftovers
}
check "a background process left behind is killed at exit" left_behind

# --- root file system -----------------------------------------------------
check "writing to / fails (read-only)" stderr_has "Read-only" st -- sh -c 'touch /newfile'
check "writing to /tmp of the image fails too" stderr_has "Read-only" st -- sh -c 'touch /tmp/x'
check "writable_tmpfs=1: writing to / works" output_is "data" \
    st_with writable_tmpfs=1 -- -- sh -c 'echo data >/newfile && cat /newfile'
check "writable_tmpfs=1: image files can be replaced" output_is "new" \
    st_with writable_tmpfs=1 ctr_uid=0 ctr_gid=0 -- -- sh -c 'echo new >/etc/hostname && cat /etc/hostname'
check "writable_tmpfs=1: nothing persists" st -- sh -c '! test -e /newfile && test "$(cat /etc/hostname)" != new'
check "image content is readable" st -- test -s /bin/busybox
mkdir -p "$WORK/ov/upper" "$WORK/ov/work" "$WORK/layer/opt"
echo layer >"$WORK/layer/opt/from-layer"
check "overlay=: changes go to the upper directory on the host" output_is "kept" \
    st_with ctr_uid=0 ctr_gid=0 -- "overlay=$WORK/ov/upper	$WORK/ov/work" -- sh -c 'echo kept >/etc/hostname && cat /etc/hostname'
check "overlay=: they are there in the next container" output_is "kept" \
    st "overlay=$WORK/ov/upper	$WORK/ov/work" -- cat /etc/hostname
check "overlay=: and in the upper directory on the host" output_is "kept" cat "$WORK/ov/upper/etc/hostname"
check "overlay=: staged files (passwd) are bound, not left in the upper directory" \
    sh -c '! test -e "$1/ov/upper/etc/passwd"' _ "$WORK"
check "overlay_lower=: a read-only layer over the image" output_is "layer" \
    st "overlay_lower=$WORK/layer" -- cat /opt/from-layer
check "overlay_lower=: the root stays read-only" stderr_has "Read-only" \
    st "overlay_lower=$WORK/layer" -- sh -c 'echo x >/newfile'
check "no_init=1 with pid=1: the command is PID 1" output_is "1" \
    st_with pid=1 -- no_init=1 -- sh -c 'echo $$'
check "umask=: the command's umask" output_is "0027" st umask=027 -- sh -c umask

# --- binds ----------------------------------------------------------------
rw_bind_owner() {
    st "bind=$WORK/rw	/mnt/rw	rw,user" -- sh -c 'touch /mnt/rw/made-inside' &&
        [ "$(stat -c %u "$WORK/rw/made-inside")" = "$uid" ]
}
check "rw bind: file created inside appears on the host, owned by the user" rw_bind_owner
check "ro bind refuses writes" stderr_has "Read-only" st "bind=$WORK/ro	/mnt/ro	ro,user" -- sh -c 'echo x >/mnt/ro/data'
check "ro bind is readable" output_is host-file st "bind=$WORK/ro	/mnt/ro	ro,user" -- cat /mnt/ro/data
check "ro bind left the host file alone" output_is host-file cat "$WORK/ro/data"
check "bind of a file onto a new path" output_is host-file st "bind=$WORK/ro/data	/etc/extra	ro" -- cat /etc/extra
check "bind through an image symlink lands inside the image" output_is host-file \
    st "bind=$WORK/ro	/var/run/hostdir	ro" -- cat /run/hostdir/data
check "dev bind: /dev/null usable" st "bind=/dev/null	/dev/null	dev" -- sh -c 'echo x >/dev/null'
check "nodev bind: /dev/null not usable" stderr_has "denied" st "bind=/dev/null	/dev/null	rw" -- sh -c 'echo x >/dev/null'
check "rec bind of /proc" output_is "$uid" st "bind=/proc	/proc	rec" -- sh -c 'stat -c %u /proc/self/status'
check "tmpfs= is a writable 1777 tmpfs" output_is "1777 ok" \
    st "tmpfs=/tmp	1777" -- sh -c 'echo ok >/tmp/f && echo "$(stat -c %a /tmp) $(cat /tmp/f)"'
check "bind inside a tmpfs= mount" output_is host-file st "tmpfs=/scratch	1777" "bind=$WORK/ro	/scratch/in	ro" -- cat /scratch/in/data
check "optional missing bind source is skipped" st "bind=/nonexistent	/mnt/x	opt" -- true
check_fails_255 "missing bind source" "bind source /nonexistent: No such file or directory" \
    st "bind=/nonexistent	/mnt/x	rw" -- true
check_fails_255 "user bind over /proc is refused" "refusing to mount over /proc, /dev or /sys" \
    st "bind=$WORK/rw	/proc/x	rw,user" -- true
check_fails_255 "user bind over /dev is refused" "refusing to mount over /proc, /dev or /sys" \
    st "bind=$WORK/rw	/dev	rw,user" -- true

# --- environment, cwd, stdin ----------------------------------------------
check "env is exactly the env= records" output_is "$(printf 'PATH=/bin:/usr/bin\nHOME=/\nA=1\nB=x=y')" \
    st env=A=1 env=B=x=y -- env
check "cwd= is applied" output_is /etc st_with cwd=/etc -- -- pwd
check "a missing cwd falls back to /" output_is / st_with cwd=/nonexistent -- -- pwd
stdin_pipe() { [ "$(echo hi | st -- cat)" = hi ]; }
check "stdin pipe reaches the command" stdin_pipe

# --- capabilities ---------------------------------------------------------
check "no capabilities without fakeroot" output_is "CapEff:	0000000000000000" \
    st_with ctr_uid=0 ctr_gid=0 -- "bind=/proc	/proc	rec" -- sh -c 'grep CapEff /proc/self/status'
fakeroot_caps() {
    local c
    c=$(st_with fakeroot=1 ctr_uid=0 ctr_gid=0 -- "bind=/proc	/proc	rec" -- sh -c 'grep CapEff /proc/self/status') || return 1
    echo "$c"
    [ "$c" != "CapEff:	0000000000000000" ]
}
check "fakeroot=1 keeps capabilities" fakeroot_caps
check "no_new_privs is set" output_is "NoNewPrivs:	1" \
    st "bind=/proc	/proc	rec" -- sh -c 'grep NoNewPrivs /proc/self/status'

# --- pid=1 ----------------------------------------------------------------
check "pid=1: init is PID 1, command is PID 2" output_is "husk-init 2" \
    st_with pid=1 -- -- sh -c 'echo "$(cat /proc/1/comm) $$"'
check_rc "pid=1: exit status passes through" 3 st_with pid=1 -- -- sh -c 'exit 3'
check_rc "pid=1: missing command exits 127" 127 st_with pid=1 -- -- no-such-command
check "pid=1: SIGTERM gives 143" signal_status TERM 143 pid=1
check "pid=1: kill -9 of the starter leaves nothing" kill9_parent pid=1

# --- rootfs= --------------------------------------------------------------
st_rootfs() { # run with rootfs= instead of image=
    local saved=("${BASE[@]}") i rc=0
    for i in "${!BASE[@]}"; do [ "${BASE[$i]%%=*}" = image ] && unset 'BASE[i]'; done
    BASE+=("rootfs=$WORK/rootfs")
    st "$@" || rc=$?
    BASE=("${saved[@]}")
    return "$rc"
}
unsquashfs -q -n -f -d "$WORK/rootfs" "$IMAGE" >/dev/null 2>&1
if [ -x "$WORK/rootfs/bin/busybox" ]; then
    check "rootfs= directory: id -u" output_is "$uid" st_rootfs -- id -u
    check_rc "rootfs= directory: exit status" 3 st_rootfs -- sh -c 'exit 3'
    check "rootfs= directory: read-only root" stderr_has "Read-only" st_rootfs -- sh -c 'touch /newfile'
    check "rootfs= directory: file= and binds" output_is "x host-file" \
        st_rootfs "file=/etc/passwd	0644	x" "bind=$WORK/ro	/mnt/ro	ro" -- sh -c 'echo "$(cat /etc/passwd) $(cat /mnt/ro/data)"'
    check "rootfs= directory: unchanged on the host" test ! -e "$WORK/rootfs/mnt"
else
    skip "rootfs= directory" "unsquashfs unavailable"
fi

# --- errors ---------------------------------------------------------------
check_fails_255 "unknown plan key" "unknown key 'frobnicate'" st frobnicate=1 -- true
check_fails_255 "server= with rootfs= is refused" "server needs image" st_rootfs "server=/tmp/husk-x/servers/k" -- true
check_fails_255 "server= longer than a socket address allows" "longer than 96 bytes" \
    st "server=/$(printf 'd%.0s' $(seq 120))/k" -- true
check_fails_255 "idle= that is not a number" "idle=soon is not a number" st "server=/tmp/k" "idle=soon" -- true
duplicate_uid() { mkplan -- true && printf 'uid:1:0\n' >>"$PLAN" && "$STARTER" 3<"$PLAN"; }
check_fails_255 "a key given twice is refused (uid:1:0 after the plan's own uid)" "uid appears twice" duplicate_uid
raw_plan() { # BYTES...: the starter on exactly these plan bytes (printf format)
    local f=$WORK/raw-plan
    # shellcheck disable=SC2059  # the format is the point
    printf "$@" >"$f"
    "$STARTER" 3<"$f"
}
check_fails_255 "no version record first" "first record must be version" raw_plan 'uid:1:0\n'
check_fails_255 "a field longer than the plan" "runs past the end" raw_plan 'version:1:1\nname:99:x\n'
check_fails_255 "a NUL inside a text field" "holds a NUL byte" raw_plan 'version:1:1\nname:3:a\000b\n'
check_fails_255 "a length that does not match the field" "longer than its length says" raw_plan 'version:1:1\nname:1:ab\n'
check_fails_255 "the old format (NUL-terminated KEY=VALUE)" "malformed record" raw_plan 'name=x\000uid=1\000'
for regression in "$here"/../../Fuzz/regressions/plan/*.plan; do
    [ -e "$regression" ] || continue
    check_fails_255 "fuzzer regression $(basename "$regression"): one line, 255" "launch plan:" \
        sh -c '"$1" 3<"$2"' _ "$STARTER" "$regression"
done
check_fails_255 "image that is not squashfs" "not a squashfs image" st_with image=/etc/hostname -- -- true

# --- cleanup --------------------------------------------------------------
check "husk mounts are visible while a container runs (control)" mount_visible_while_running
check "no leftover processes or mounts" no_leftovers
tmp_after=$(find /tmp -mindepth 1 -maxdepth 1 -user "$uid" | sort)
check "host /tmp gained nothing" test "$tmp_before" = "$tmp_after"
summary
