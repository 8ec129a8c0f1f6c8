# shellcheck shell=bash
# Helpers shared by the benchmarks. Source after setting W (a work dir).

die() { echo "bench: $*" >&2; exit 1; }

# rss NAME PREP CMD: peak RSS (KiB) of one more run of CMD after PREP.
rss() {
    bash -c "$2"
    /usr/bin/time -f %M -o "$W/rss-$1" bash -c "$3"
    cat "$W/rss-$1"
}

# mean NAME / sd NAME: a result's mean and stddev (s) in hyperfine's
# JSON export $BENCH_JSON.
mean() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .mean' "$BENCH_JSON"; }
sd() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .stddev' "$BENCH_JSON"; }

# bench_require TOOL...: /usr/bin/time (installed when root) and each TOOL,
# else `die` (the caller's) with the fix.
bench_require() {
    if [ ! -x /usr/bin/time ]; then
        [ "$(id -u)" -eq 0 ] || die "/usr/bin/time missing (apt-get install time)"
        apt-get install -y -q time >/dev/null || die "cannot install the time package"
    fi
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool not found (Scripts/install-deps --bench)"
    done
}

# bench_layout: the Debian test layout $LAYOUT, built when missing (as root);
# makes LAYOUT absolute and sets TAG to its first tag.
bench_layout() {
    local fixtures
    fixtures=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures" && pwd)
    if [ ! -f "$LAYOUT/index.json" ]; then
        [ "$(id -u)" -eq 0 ] || die "$LAYOUT missing; build it as root with $fixtures/make-debian-oci.sh $LAYOUT"
        "$fixtures/make-debian-oci.sh" "$LAYOUT"
    fi
    LAYOUT=$(cd "$LAYOUT" && pwd)
    TAG=$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"] // empty][0] // "latest"' "$LAYOUT/index.json")
}

# pss PIDS...: the summed proportional set size (kB; shared pages split
# between their users) of these processes and all their descendants. An
# image server and its FUSE server are not dumpable (DESIGN.md §3), so their
# owner cannot read their PSS: their resident set size counts instead, an
# upper bound (their shared libraries counted whole).
pss() {
    local all=" $* " changed=1 pid ppid
    while [ $changed = 1 ]; do
        changed=0
        for stat in /proc/[0-9]*/stat; do
            read -r pid _ _ ppid _ <"$stat" 2>/dev/null || continue
            case $all in *" $ppid "*) case $all in *" $pid "*) ;; *) all="$all$pid "; changed=1 ;; esac ;; esac
        done
    done
    for pid in $all; do
        if [ -r "/proc/$pid/smaps_rollup" ] && grep '^Pss:' "/proc/$pid/smaps_rollup" 2>/dev/null; then continue; fi
        grep '^VmRSS:' "/proc/$pid/status" 2>/dev/null || true
    done | awk '/^(Pss|VmRSS):/ {s += $2} END {print s + 0}'
}

# For the benchmarks run as root whose runs are made as a user (timeline.sh,
# breakdown.sh, fuse-requests.sh). bench_root_args USAGE "$@" sets `image`
# (the first argument) and the array `run` (the RUN-AS command after an
# optional --; empty: the runs are root's own).
bench_root_args() {
    local usage=$1
    shift
    image=${1:?usage: $usage}
    shift
    [ "${1:-}" != "--" ] || shift
    run=("$@")
}

# as_user CMD...: CMD as the user (HUSK_IDLE=60: a server outlives the pauses).
as_user() { ${run[@]+"${run[@]}"} env HUSK_IDLE=60 "$@"; }

# bench_root_dirs PREFIX: sets `work`, root's own new directory (perf data,
# traces, tables), and `user_dir`, one the user made for what it writes (wall
# times): root never writes where another account could plant a link. The
# caller removes both.
bench_root_dirs() {
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    user_dir=$(as_user mktemp -d "/tmp/$1-user.XXXXXX")
}
