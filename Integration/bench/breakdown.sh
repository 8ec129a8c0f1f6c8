#!/usr/bin/env bash
# Where a repeat start's time goes: `perf record` (call graphs, system-wide:
# the warm planner is no child of the runs) of RUNS runs of `husk exec IMAGE
# true` joining a warm image server and planned by the warm planner, split
# into phases by breakdown.py, next to the wall time of the same runs and of
# ch-run's.
# Run as ROOT (perf samples the kernel too); the runs themselves are made as
# the unprivileged user the arguments after -- name (Scripts/bench passes a
# setpriv command): HUSK and the image must be readable by them.
#
# Usage: HUSK=/path/to/husk Integration/bench/breakdown.sh IMAGE.sqsh [-- RUN-AS...]
# Writes Integration/bench/results/breakdown.md (HUSK_BENCH_RESULTS=DIR elsewhere).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
HUSK=${HUSK:-husk}
bench_root_args "breakdown.sh IMAGE.sqsh [-- RUN-AS...]" "$@"
results=${HUSK_BENCH_RESULTS:-$here/results}
runs=${HUSK_BENCH_RUNS:-50}
frequency=5000
for tool in perf hyperfine ch-run; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Scripts/install-deps --bench)" >&2; exit 2; }
done
bench_root_dirs husk-bench-breakdown
trap 'as_user "$HUSK" server stop --all >/dev/null 2>&1 || true; rm -rf "$work" "$user_dir"' EXIT

# The first starts the server and the planner: every measured run joins the one and is planned by the other.
as_user env HUSK_IDLE=60 "$HUSK" exec "$image" true
as_user env HUSK_IDLE=60 "$HUSK" exec "$image" true
planner=$(ps -u "$(as_user id -u)" -o pid=,comm=,args= | awk '$2 == "husk-planner" && /--serve-plans/ { print $1 }' | head -n 1)
[ -n "$planner" ] || { echo "breakdown.sh: no warm planner after a start" >&2; exit 2; }
# The CPU time the planner and its children (the spare that plans each start) spent, in ms:
# its children's is added to its own when it reaps them.
planner_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13 + $14 + $15) * 1000 / hz }' "/proc/$planner/stat"; }
before=$(planner_cpu)
as_user env HUSK_IDLE=60 hyperfine -N --warmup 5 --runs "$runs" --export-json "$user_dir/wall.json" \
    -n husk "$HUSK exec $image true" -n ch-run "ch-run $image -- true" >/dev/null
planned_ms=$(awk -v a="$before" -v b="$(planner_cpu)" -v n="$((runs + 5))" 'BEGIN { printf "%.2f", (b - a) / n }')
mean_ms() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"]; print("%.1f" % (r[int(sys.argv[2])]["mean"] * 1e3))' "$@"; }
cpu() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.2f" % ((r["user"] + r["system"]) * 1e3))' "$@"; }
total_ms=$(awk -v a="$(cpu "$user_dir/wall.json" 0)" -v b="$planned_ms" 'BEGIN { printf "%.2f", a + b }')
perf record -q -a -F "$frequency" --call-graph dwarf,16384 -o "$work/perf.data" -- \
    ${run[@]+"${run[@]}"} env HUSK_IDLE=60 sh -c \
    "for i in \$(seq $runs); do '$HUSK' exec '$image' true; done" >/dev/null 2>&1
perf script -i "$work/perf.data" -F comm,ip,sym --no-demangle 2>/dev/null \
    | python3 "$here/breakdown.py" "$total_ms" >"$work/table.md"
{
    echo "# Where a repeat start's time goes ($(date -u +%Y-%m-%d), $(nproc) cores, husk $("$HUSK" --version))"
    echo
    echo "\`husk exec IMAGE true\` joining a warm image server, planned by the warm planner: $(mean_ms "$user_dir/wall.json" 0) ms wall time;"
    echo "\`ch-run IMAGE -- true\` on the same file: $(mean_ms "$user_dir/wall.json" 1) ms (hyperfine, $runs runs)."
    echo "The CPU time of a run ($total_ms ms: user + system of husk, the starter it runs and the command,"
    echo "$(cpu "$user_dir/wall.json" 0) ms by hyperfine, and of the warm planner and the child that planned it, $planned_ms ms"
    echo "by the planner's /proc/PID/stat) split by where perf found it (perf record -a -F $frequency --call-graph dwarf"
    echo "of $runs runs, Integration/bench/breakdown.py). Wall time is CPU time less what overlaps, plus waiting."
    echo
    cat "$work/table.md"
} >"$results/breakdown.md"
cat "$results/breakdown.md"
