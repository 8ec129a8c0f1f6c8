# shellcheck shell=bash disable=SC2034  # LIB_LAST_OK is read by callers
# Tiny test harness for Husk's integration scripts.  Source it:
#
#   . "$(dirname "$0")/lib.sh"
#   check "title" cmd args...              passes when cmd exits 0
#   check_fails "title" KEYWORD cmd...     passes when cmd exits 1 and its
#                                          stderr is exactly one line that
#                                          starts with "husk: " and contains
#                                          KEYWORD (case-insensitive)
#   check_fails_like "title" STATUS REGEX cmd...   the same for exit STATUS
#                                          and an extended regex
#   skip "title" "reason"
#   summary                                prints "N passed, N failed[, N skipped]"
#                                          as the last line; returns 1 if
#                                          anything failed
#
# check and check_fails always return 0 (so `set -e` callers keep going);
# LIB_LAST_OK is "true" or "false" after each of them, for dependent steps.
#
# Output is TAP-like: "ok - title", "not ok - title" followed by the
# command's captured output indented with "#", "ok - title # SKIP reason".

LIB_PASSED=0
LIB_FAILED=0
LIB_SKIPPED=0
LIB_FAILED_TITLES=()
LIB_LAST_OK=true
LIB_OUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/husk-lib.XXXXXX")
# Callers that set their own EXIT trap should call lib_cleanup from it.
# Image servers a test started end with it: they would outlive it by
# HUSK_IDLE, be counted by the next test's checks for leftovers, and keep
# their sockets in its work directory. Those of a TMPDIR or
# XDG_RUNTIME_DIR under DIR too.
lib_stop_servers() { # [DIR]
    local d
    "${HUSK:-husk}" server stop --all >/dev/null 2>&1 || true
    [ -n "${1:-}" ] && [ -d "$1" ] || return 0
    for d in $(find "$1" -type d -name servers 2>/dev/null); do
        case $d in
        */husk-"$(id -u)"/servers) env -u XDG_RUNTIME_DIR TMPDIR="${d%/husk-*/servers}" "${HUSK:-husk}" server stop --all ;;
        */husk/servers) XDG_RUNTIME_DIR="${d%/husk/servers}" "${HUSK:-husk}" server stop --all ;;
        esac >/dev/null 2>&1 || true
    done
}
lib_cleanup() {
    lib_stop_servers
    rm -rf "$LIB_OUT_DIR"
}

# lib_remove_work DIR: removes a test's work directory (read-only parts
# too), or keeps it and says where with KEEP_WORK=1.
lib_remove_work() {
    lib_stop_servers "$1"
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "# work directory kept: $1"
    else
        chmod -R u+rwX "$1" 2>/dev/null || true
        rm -rf "$1"
    fi
}
trap lib_cleanup EXIT

# lib_work NAME: a fresh work directory in $W (removed at exit, or kept with
# KEEP_WORK=1) with its own image cache, and the busybox fixture image
# converted into $IMG (its OCI layout in $W/bb-oci).
lib_work() { # NAME [make-busybox-oci.py options]
    W=$(mktemp -d "${TMPDIR:-/tmp}/husk-$1.XXXXXX")
    shift
    trap 'lib_remove_work "$W"; lib_cleanup' EXIT
    export HUSK_CACHEDIR=$W/cache
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/fixtures/make-busybox-oci.py" "$W/bb-oci" "$@" >/dev/null
    "${HUSK:-husk}" convert -q oci:"$W/bb-oci" "$W/bb.sqsh" >/dev/null
    IMG=$W/bb.sqsh
}

# Integration/root/ tests: skip (and end) unless run as root.
lib_needs_root() { # TITLE
    [ "$(id -u)" -eq 0 ] || { skip "$1" "needs root"; summary; exit 0; }
}

# Integration/root/ tests: AS_USER, a command prefix that runs as
# HUSK_TEST_USER (unset: as root) with $W, made theirs, as HOME and TMPDIR
# (Husk refuses a cache others could write), and the VAR=VALUE given.
lib_as_test_user() { # [VAR=VALUE...]
    AS_USER=(env HOME="$W" TMPDIR="$W" "$@")
    [ -n "${HUSK_TEST_USER:-}" ] || return 0
    chown -R "$HUSK_TEST_USER": "$W"
    AS_USER=(setpriv --reuid="$HUSK_TEST_USER" --regid="$HUSK_TEST_USER" --init-groups "${AS_USER[@]}")
}

lib_alive() { # PGREP-ARGS...: this user's live processes that match (zombies
    # left out: an orphan's exit status waits for whatever reaps it, and
    # some machines' PID 1 reaps late)
    local pid state
    for pid in $(pgrep -u "$(id -u)" "$@"); do
        state=$(ps -o stat= -p "$pid" 2>/dev/null) || continue
        case $state in Z*) ;; *) echo "$pid" ;; esac
    done
}

lib_show() { # FILE [LABEL]: print a captured file indented, at most 60 lines
    local file=$1 label=${2:-}
    [ -s "$file" ] || return 0
    [ -n "$label" ] && printf '#   %s:\n' "$label"
    head -n 60 "$file" | sed 's/^/#     /'
    local n
    n=$(wc -l <"$file")
    [ "$n" -gt 60 ] && printf '#     ... (%d more lines)\n' $((n - 60))
    return 0
}

lib_pass() {
    LIB_PASSED=$((LIB_PASSED + 1))
    LIB_LAST_OK=true
    printf 'ok - %s\n' "$1"
}
lib_fail() {
    LIB_LAST_OK=false
    LIB_FAILED=$((LIB_FAILED + 1))
    LIB_FAILED_TITLES+=("$1")
    printf 'not ok - %s\n' "$1"
}

check() { # TITLE CMD...
    local title=$1
    shift
    local out=$LIB_OUT_DIR/out rc=0
    "$@" >"$out" 2>&1 </dev/null || rc=$?
    if [ "$rc" -eq 0 ]; then
        lib_pass "$title"
        return 0
    fi
    lib_fail "$title"
    printf '#   command: %s\n#   exit status: %d\n' "$*" "$rc"
    lib_show "$out" output
    return 0
}

check_fails() { # TITLE KEYWORD CMD...
    local title=$1 keyword=$2
    shift 2
    lib_check_failure "$title" 1 -F "$keyword" "$@"
}

check_fails_like() { # TITLE STATUS REGEX CMD...: like check_fails, for another status and an ERE
    local title=$1 status=$2 regex=$3
    shift 3
    lib_check_failure "$title" "$status" -E "$regex" "$@"
}

lib_check_failure() { # TITLE STATUS GREP-MODE PATTERN CMD...
    local title=$1 want=$2 mode=$3 pattern=$4
    shift 4
    local out=$LIB_OUT_DIR/stdout err=$LIB_OUT_DIR/stderr rc=0 why=""
    "$@" >"$out" 2>"$err" </dev/null || rc=$?
    local lines
    lines=$(grep -c '' "$err" || true)
    if [ "$rc" -ne "$want" ]; then
        why="exit status $rc, expected $want"
    elif [ "$lines" -ne 1 ]; then
        why="stderr has $lines lines, expected exactly 1"
    elif ! head -n 1 "$err" | grep -q '^husk: '; then
        why="stderr does not start with 'husk: '"
    elif ! grep -qi "$mode" -- "$pattern" "$err"; then
        why="stderr does not contain '$pattern'"
    fi
    if [ -z "$why" ]; then
        lib_pass "$title"
        return 0
    fi
    lib_fail "$title"
    printf '#   command: %s\n#   %s\n' "$*" "$why"
    lib_show "$out" stdout
    lib_show "$err" stderr
    return 0
}

skip() { # TITLE REASON
    LIB_SKIPPED=$((LIB_SKIPPED + 1))
    printf 'ok - %s # SKIP %s\n' "$1" "$2"
}

summary() {
    if [ "$LIB_FAILED" -gt 0 ]; then
        printf '# failed:\n'
        printf '#   %s\n' "${LIB_FAILED_TITLES[@]}"
    fi
    if [ "$LIB_SKIPPED" -gt 0 ]; then
        printf '%d passed, %d failed, %d skipped\n' \
            "$LIB_PASSED" "$LIB_FAILED" "$LIB_SKIPPED"
    else
        printf '%d passed, %d failed\n' "$LIB_PASSED" "$LIB_FAILED"
    fi
    [ "$LIB_FAILED" -eq 0 ]
}
