#!/usr/bin/env bash
# The warm planner (DESIGN.md §1, "Fast starts"): a container start leaves
# this user's planner behind (not dumpable), and the launcher has it plan
# the next starts. A planned start behaves as husk-plan's (HUSK_IDLE=0 runs
# that): same environment, directory, umask, ids, descriptors, exit status
# and messages; every start is planned afresh; only this user's processes
# in the planner's own context are planned for; it leaves after HUSK_IDLE
# with nothing left, and kill -9 of it costs nothing but a slower start.
# Env: HUSK, optional HUSK_STRANGER (a second user, reached with sudo -n -u).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
lib_work planner
# A runtime directory of this test's own: its planners are the only ones there.
unset XDG_RUNTIME_DIR
export TMPDIR=$W/tmp
mkdir -m 0700 "$TMPDIR"
RUNTIME=$TMPDIR/husk-$(id -u)
export HUSK IMG W RUNTIME
export HUSK_IDLE=30

# This test's planners (pids), by their command line and name; a planner's
# spare (the child forked ahead of the next start) has the same command line.
by_name() { # NAME: this test's planner processes called NAME
    local pid
    for pid in $(lib_alive -f -- "--serve-plans $RUNTIME/"); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] && echo "$pid"
    done
    return 0
}
planners() { by_name husk-planner; }
spares() { by_name husk-spare; }
# Waits until a planner is up and answers (its socket is there).
planner_up() {
    for _ in $(seq 100); do
        [ -n "$(planners)" ] && ls "$RUNTIME"/planner-* >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "no planner"
    return 1
}
# Waits until no planner, spare, socket or lock of this test is left.
planners_gone() {
    for _ in $(seq 100); do
        [ -z "$(planners)$(spares)" ] && ! ls "$RUNTIME"/planner-* >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "left: $(planners) $(spares) $(ls "$RUNTIME"/planner-* 2>/dev/null)"
    return 1
}
# Waits until the planner (pid $1) has a spare, and prints it.
spare_up() {
    local pid
    for _ in $(seq 100); do
        for pid in $(spares); do
            [ "$(ps -o ppid= -p "$pid" | tr -d " ")" = "$1" ] && echo "$pid" && return 0
        done
        sleep 0.05
    done
    echo "no spare of planner $1"
    return 1
}
planned() { grep -q "planned by the warm planner" "$1"; }
export -f by_name planners spares planner_up planners_gone spare_up planned lib_alive

check "a first start leaves a warm planner; the next start is planned by it (--debug says so)" bash -c '
    "$HUSK" exec "$IMG" true && planner_up || exit 1
    [ "$(planners | wc -l)" = 1 ] || { echo "planners: $(planners)"; exit 1; }
    "$HUSK" exec --debug "$IMG" true 2>"$W/debug.err" && planned "$W/debug.err" || { cat "$W/debug.err"; exit 1; }'
check "... it is not dumpable: its user cannot read its environment or memory" bash -c '
    pid=$(planners | head -1)
    [ -n "$pid" ] && ! cat "/proc/$pid/environ" >/dev/null 2>&1 && [ "$(stat -c %u "/proc/$pid/environ")" = 0 ] ||
        { echo "planner [$pid]: $(ls -l "/proc/$pid/environ" 2>&1)"; exit 1; }'
check "... a spare (its child forked ahead of the next start) waits, not dumpable either; each start uses one up" bash -c '
    pid=$(planners | head -1) && spare=$(spare_up "$pid") || { echo "$spare"; exit 1; }
    [ "$(stat -c %u "/proc/$spare/environ")" = 0 ] || { echo "spare [$spare] is dumpable"; exit 1; }
    "$HUSK" exec "$IMG" true && next=$(spare_up "$pid") && [ "$next" != "$spare" ] ||
        { echo "spare before [$spare], after [$next]"; exit 1; }
    [ "$(spares | wc -l)" = 1 ] || { echo "spares: $(spares)"; exit 1; }'
check "kill -9 of the spare: the next start is still planned, and a new spare waits" bash -c '
    pid=$(planners | head -1) && spare=$(spare_up "$pid") && kill -9 "$spare" || exit 1
    out=$("$HUSK" exec --debug "$IMG" echo planned 2>"$W/spare.err") && [ "$out" = planned ] && planned "$W/spare.err" ||
        { echo "[$out]"; cat "$W/spare.err"; exit 1; }
    next=$(spare_up "$pid") && [ "$next" != "$spare" ] || { echo "$next"; exit 1; }'
# The same start planned by the planner and by husk-plan (HUSK_IDLE=0).
cat >"$W/show.sh" <<'EOF'
env | sort; pwd; umask; id; ls /proc/self/fd | tr '\n' ' '; echo; cat <&3; exit 7
EOF
echo "passed on descriptor 3" >"$W/three"
mkdir -p "$W/sub"
export_show() { # IDLE: the start's output and status into $W/show.IDLE
    (cd "$W/sub" && umask 027 && APPTAINERENV_FOO=bar HUSK_IDLE=$1 "$HUSK" exec --debug -B "$W/show.sh:/show.sh" \
        "$IMG" sh /show.sh 3<"$W/three" >"$W/show.$1" 2>"$W/show.$1.err"; echo "status $?" >>"$W/show.$1")
}
export -f export_show
check "a planned start is husk-plan's: environment, directory, umask, ids, descriptors, exit status" bash -c '
    export_show 30 && export_show 0 && planned "$W/show.30.err" && ! planned "$W/show.0.err" || exit 1
    grep -qx "FOO=bar" "$W/show.30" && grep -qx "0027" "$W/show.30" && grep -qx "status 7" "$W/show.30" &&
        grep -qx "passed on descriptor 3" "$W/show.30" && cmp -s "$W/show.30" "$W/show.0" ||
        { diff "$W/show.0" "$W/show.30"; cat "$W/show.30.err"; exit 1; }'
check "a start that fails in the planner: husk-plan's message and status (255)" bash -c '
    out=$("$HUSK" exec "$W/missing.sqsh" true 2>&1); status=$?
    full=$(HUSK_IDLE=0 "$HUSK" exec "$W/missing.sqsh" true 2>&1); full_status=$?
    [ "$status" = 255 ] && [ "$full_status" = 255 ] && [ "$out" = "$full" ] && [[ $out == *"no such image"* ]] ||
        { echo "planned ($status): $out"; echo "husk-plan ($full_status): $full"; exit 1; }'
check "every start is planned afresh: each sees its own environment, directory and umask" bash -c '
    for n in 1 2 3; do
        mkdir -p "$W/d$n"
        (cd "$W/d$n" && umask 02$n && APPTAINERENV_N=$n "$HUSK" exec --debug "$IMG" sh -c "echo \$N; pwd; umask" \
            >"$W/fresh.$n" 2>"$W/fresh.$n.err") && planned "$W/fresh.$n.err" || { cat "$W/fresh.$n.err"; exit 1; }
        [ "$(cat "$W/fresh.$n")" = "$(printf "%s\n%s\n%s" $n "$W/d$n" 002$n)" ] || { cat "$W/fresh.$n"; exit 1; }
    done'
# The launcher runs the starter in place (its code is linked in) when the
# plan names the husk-starter installed beside husk-plan; any other starter
# (HUSK_STARTER) is exec'd, and husk-plan (HUSK_IDLE=0) execs it too. The
# program a start ran shows as the command's supervisor's (its fork).
supervisor_program() { "$HUSK" exec "$@" "$IMG" sh -c 'readlink /proc/$PPID/exe'; }
export -f supervisor_program
check "a planned start runs the starter in the launcher itself; HUSK_STARTER and HUSK_IDLE=0 exec the program" bash -c '
    here=$(dirname "$(readlink -f "$(command -v "$HUSK")")")
    mkdir -p "$W/other" && cp "$here/husk-starter" "$W/other/husk-starter" && chmod a+rx "$W/other" || exit 1
    planner_up || exit 1
    inplace=$(supervisor_program) && [ "$inplace" = "$here/husk" ] || { echo "planned: [$inplace]"; exit 1; }
    other=$(HUSK_STARTER="$W/other/husk-starter" supervisor_program --debug 2>"$W/other.err") &&
        [ "$other" = "$W/other/husk-starter" ] && planned "$W/other.err" || { echo "HUSK_STARTER: [$other]"; cat "$W/other.err"; exit 1; }
    oneshot=$(HUSK_IDLE=0 supervisor_program) && [ "$oneshot" = "$here/husk-starter" ] || { echo "HUSK_IDLE=0: [$oneshot]"; exit 1; }'
# The planner keeps the image its warm-up opened (its /.husk metadata: the
# environment, digests for the site policy...) for the starts of that same
# file; replaced (a new inode) or rewritten in place (a new change time),
# the file is opened afresh. The second image differs in its metadata: its
# configuration sets MARK.
if command -v unsquashfs >/dev/null && command -v mksquashfs >/dev/null; then
    unsquashfs -q -d "$W/tree" "$IMG" >/dev/null &&
        python3 -c "import json, sys; p = sys.argv[1]; d = json.load(open(p)); d[\"config\"][\"Env\"].append(\"MARK=new\"); json.dump(d, open(p, \"w\"))" \
            "$W/tree/.husk/config.json" &&
        mksquashfs "$W/tree" "$W/marked.sqsh" -quiet -noappend -all-root >/dev/null
    mark() { "$HUSK" exec --debug "$W/kept.sqsh" sh -c "echo \${MARK:-none}" 2>"$W/kept.err"; }
    export -f mark
    check "the warm-up's image is used only while its file is unchanged: replaced or rewritten, a start reads the new one" bash -c '
        kill $(planners) 2>/dev/null; planners_gone || exit 1
        cp "$IMG" "$W/kept.sqsh" && "$HUSK" exec "$W/kept.sqsh" true && planner_up || exit 1
        out=$(mark) && [ "$out" = none ] && planned "$W/kept.err" || { echo "kept: [$out]"; cat "$W/kept.err"; exit 1; }
        cp "$W/marked.sqsh" "$W/new.sqsh" && mv "$W/new.sqsh" "$W/kept.sqsh" || exit 1
        out=$(mark) && [ "$out" = new ] && planned "$W/kept.err" || { echo "replaced: [$out]"; cat "$W/kept.err"; exit 1; }
        kill $(planners) 2>/dev/null; planners_gone || exit 1
        "$HUSK" exec "$W/kept.sqsh" true && planner_up && cat "$IMG" >"$W/kept.sqsh" || exit 1
        out=$(mark) && [ "$out" = none ] && planned "$W/kept.err" || { echo "rewritten in place: [$out]"; cat "$W/kept.err"; exit 1; }'
else
    skip "the warm-up's image is used only while its file is unchanged" "needs unsquashfs and mksquashfs (squashfs-tools)"
fi
check "a process of this user in another user namespace is not planned for: husk-plan starts it" bash -c '
    planner_up || exit 1
    unshare -U -r "$HUSK" exec --debug "$IMG" echo ran 2>"$W/userns.err" >"$W/userns.out"
    ! planned "$W/userns.err" && grep -qx ran "$W/userns.out" || { cat "$W/userns.err" "$W/userns.out"; exit 1; }'
check "a first start's output ends with the start, not with the planner it left (HUSK_IDLE=30)" bash -c '
    kill $(planners) 2>/dev/null; planners_gone || exit 1
    out=$(timeout 10 "$HUSK" exec "$IMG" echo hello) && [ "$out" = hello ] || { echo "output [$out]"; exit 1; }
    planner_up'
check "kill -9 of the planner: its spare leaves; the next start runs (husk-plan) and leaves a new planner" bash -c '
    planner_up && old=$(planners) && spare_up "$old" >/dev/null && kill -9 $old || exit 1
    for _ in $(seq 50); do [ -z "$(planners)$(spares)" ] && break; sleep 0.05; done
    [ -z "$(spares)" ] || { echo "spare left: $(spares)"; exit 1; }
    out=$("$HUSK" exec --debug "$IMG" echo after 2>"$W/kill.err") && [ "$out" = after ] && ! planned "$W/kill.err" ||
        { echo "[$out]"; cat "$W/kill.err"; exit 1; }
    planner_up && [ "$(planners)" != "$old" ] &&
        "$HUSK" exec --debug "$IMG" true 2>"$W/kill2.err" && planned "$W/kill2.err" || { cat "$W/kill2.err"; exit 1; }'
check "HUSK_IDLE=1: the planner leaves a second after its last start, no process, socket or lock left" bash -c '
    kill $(planners) 2>/dev/null; planners_gone || exit 1
    HUSK_IDLE=1 "$HUSK" exec "$IMG" true && planner_up || exit 1
    sleep 2.5; planners_gone'
check "HUSK_IDLE=0: no planner" bash -c '
    planners_gone || exit 1
    HUSK_IDLE=0 "$HUSK" exec "$IMG" true && sleep 0.5 && [ -z "$(planners)" ] || { echo "planners: $(planners)"; exit 1; }'

cat >"$W/ask.py" <<'EOF'
import socket, sys
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(sys.argv[1])
    print("connected")
except OSError as e:
    print("refused", e.errno)
EOF
chmod a+rx "$W" && chmod a+r "$W/ask.py"
stranger=${HUSK_STRANGER:-}
if [ -n "$stranger" ] && sudo -n -u "$stranger" true 2>/dev/null; then
    check "another user cannot reach the planner (its directory is private)" bash -c '
        "$HUSK" exec "$IMG" true && planner_up || exit 1
        out=$(sudo -n -u "$0" python3 "$W/ask.py" "$(ls "$RUNTIME"/planner-* | grep -v "\.lock$" | head -1)")
        [ "$out" = "refused 13" ] || { echo "$out"; exit 1; }' "$stranger"
else
    skip "another user cannot reach the planner" "HUSK_STRANGER unset or not reachable with sudo -n"
fi
kill $(planners) 2>/dev/null || true
summary
