#!/usr/bin/env bash
# Where a repeat start's wall time goes: the moments a start reaches (the
# scheduler's exec, fork and exit tracepoints and a few uprobes in the
# launcher (and the starter it runs in place), the warm planner's child and
# libc), recorded
# system-wide over RUNS runs of `husk exec IMAGE true` joining a warm image
# server with the warm planner up; timeline.py prints the phases between them
# as medians. breakdown.sh says where the CPU time goes; this says where the
# milliseconds of the wall time go, waiting included.
# Run as ROOT (uprobes); the runs themselves are made as the unprivileged user
# the arguments after -- name (Scripts/bench passes a setpriv command).
#
# Usage: HUSK=/path/to/husk Integration/bench/timeline.sh IMAGE.sqsh [-- RUN-AS...]
# Writes Integration/bench/results/timeline.md (HUSK_BENCH_RESULTS=DIR elsewhere).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bench_root_args "timeline.sh IMAGE.sqsh [-- RUN-AS...]" "$@"
results=${HUSK_BENCH_RESULTS:-$here/results}
runs=${HUSK_BENCH_RUNS:-100}
for tool in perf hyperfine nm readelf; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Scripts/install-deps --bench)" >&2; exit 2; }
done
husk=$(readlink -f "$(command -v "${HUSK:-husk}")")
helper() { # NAME: the helper program beside husk, or where an install puts it
    local path=$(dirname "$husk")/$1
    [ -x "$path" ] || path=$(dirname "$husk")/../libexec/husk/$1
    [ -x "$path" ] || { echo "timeline.sh: no $1 beside $husk" >&2; exit 2; }
    echo "$path"
}
planner=$(helper husk-plan)
libc=$(readlink -f "$(ldd "$husk" | awk '$1 == "libc.so.6" { print $3 }')")
tracing=/sys/kernel/tracing
[ -w "$tracing/uprobe_events" ] || mount -t tracefs nodev "$tracing" 2>/dev/null || true
[ -w "$tracing/uprobe_events" ] || { echo "timeline.sh: needs root and tracefs ($tracing)" >&2; exit 2; }

group=husktimeline$$
bench_root_dirs husk-bench-timeline
probes=()
cleanup() {
    for name in ${probes[@]+"${probes[@]}"}; do echo "-:$group/$name" >>"$tracing/uprobe_events" || true; done
    as_user "$husk" server stop --all >/dev/null 2>&1 || true
    rm -rf "$work" "$user_dir"
}
trap cleanup EXIT

# The file offset of the function named by the regular expression (exactly one
# symbol must match), for uprobe_events.
offset() { # BINARY REGEX [nm option]
    local matches address
    matches=$(nm ${3:-} "$1" | re="$2" awk '($2 == "t" || $2 == "T") && $3 ~ ENVIRON["re"] { print $1 }' | sort -u)
    [ "$(printf '%s\n' "$matches" | grep -c .)" -eq 1 ] \
        || { echo "timeline.sh: $1: not exactly one function matches $2 (was it renamed? update timeline.sh)" >&2; exit 2; }
    address=$((16#$matches))
    # file offset = address - segment's address + segment's offset, in the LOAD segment holding it
    local type off va pa filesz rest
    while read -r type off va pa filesz rest; do
        [ "$type" = LOAD ] || continue
        if [ "$address" -ge $((va)) ] && [ "$address" -lt $((va + filesz)) ]; then
            printf '0x%x\n' $((address - va + off))
            return
        fi
    done < <(readelf -l -W "$1")
    echo "timeline.sh: $1: $2 is in no loaded segment" >&2
    exit 2
}
probe() { # NAME BINARY REGEX [return|FETCHARGS] [nm option]
    local kind=p at fetch=
    case ${4:-} in return) kind=r ;; ?*) fetch=" $4" ;; esac
    at=$(offset "$2" "$3" "${5:-}")
    echo "$kind:$group/$1 $2:$at$fetch" >>"$tracing/uprobe_events"
    probes+=("$1")
}
probe libcStart "$libc" '^__libc_start_main@@' '' -D
probe main "$husk" '^main$'
# The planner's child (a spare forked ahead) takes the request: the
# launcher's pid is plan_for's second argument, which ties the child to its start.
probe request "$planner" '^plan_for$' 'peer=%si:s32'
probe resolved "$planner" '^\$s11HuskRuntime0B5ImageV7resolve_14cacheDirectory8registry6policy.*KFZ$' return
probe planned "$planner" '^\$s11HuskRuntime13LaunchPlannerV4plan9arguments.*tKF$' return
# The launcher runs the starter in place: its code is in husk.
probe starterMain "$husk" '^husk_starter_main$'
probe joined "$husk" '^server_join$' return
probe rootBuilt "$husk" '^build_root$' return

as_user "$husk" exec "$image" true  # starts the server: every measured run joins it
as_user hyperfine -N --warmup 5 --runs "$runs" --export-json "$user_dir/wall.json" -n husk "$husk exec $image true" >/dev/null
# System-wide (-a): the planner is no child of the runs.
perf record -q -a -o "$work/perf.data" -e "$group:*" \
    -e sched:sched_process_exec -e sched:sched_process_fork -e sched:sched_process_exit -- \
    ${run[@]+"${run[@]}"} env HUSK_IDLE=60 sh -c \
    "for i in \$(seq $runs); do '$husk' exec '$image' true; done" >/dev/null 2>&1
wall=$(python3 -c 'import json, sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"] * 1e3))' "$user_dir/wall.json")
{
    echo "# Where a repeat start's wall time goes ($(date -u +%Y-%m-%d), $(nproc) cores, husk $("$husk" --version))"
    echo
    echo "\`husk exec IMAGE true\` joining a warm image server, planned by the warm planner: $wall ms wall time (hyperfine, $runs runs, no probes)."
    echo "The moments each of $runs more runs reached, from the exec of husk (kernel tracepoints and uprobes,"
    echo "Integration/bench/timeline.sh), and the phases between them (medians). Recording them slows each"
    echo "run a little (its total below against the wall time above): compare phases, not the sum."
    echo
    perf script -i "$work/perf.data" -F comm,pid,time,event,trace 2>/dev/null | python3 "$here/timeline.py" "$group"
} >"$results/timeline.md"
cat "$results/timeline.md"
