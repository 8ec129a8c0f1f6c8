#!/usr/bin/env bash
# Where a repeat start's time goes: `perf record` (call graphs) of RUNS runs of
# `husk exec IMAGE true` joining a warm image server, split into phases by
# breakdown.py, next to the wall time of the same runs and of ch-run's.
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

as_user "$HUSK" exec "$image" true  # starts the server: every measured run joins it
as_user hyperfine -N --warmup 5 --runs "$runs" --export-json "$user_dir/wall.json" \
    -n husk "$HUSK exec $image true" -n ch-run "ch-run $image -- true" >/dev/null
mean_ms() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"]; print("%.1f" % (r[int(sys.argv[2])]["mean"] * 1e3))' "$@"; }
cpu() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.2f" % ((r["user"] + r["system"]) * 1e3))' "$@"; }
perf record -q -F "$frequency" --call-graph dwarf,16384 -o "$work/perf.data" -- \
    ${run[@]+"${run[@]}"} env HUSK_IDLE=60 sh -c \
    "for i in \$(seq $runs); do '$HUSK' exec '$image' true; done" >/dev/null 2>&1
perf script -i "$work/perf.data" -F comm,ip,sym --no-demangle 2>/dev/null \
    | python3 "$here/breakdown.py" "$(cpu "$user_dir/wall.json" 0)" >"$work/table.md"
{
    echo "# Where a repeat start's time goes ($(date -u +%Y-%m-%d), $(nproc) cores, husk $("$HUSK" --version))"
    echo
    echo "\`husk exec IMAGE true\` joining a warm image server: $(mean_ms "$user_dir/wall.json" 0) ms wall time;"
    echo "\`ch-run IMAGE -- true\` on the same file: $(mean_ms "$user_dir/wall.json" 1) ms (hyperfine, $runs runs)."
    echo "The CPU time of a run ($(cpu "$user_dir/wall.json" 0) ms: user + system of husk, husk-starter and the command,"
    echo "hyperfine) split by where perf found it (perf record -F $frequency --call-graph dwarf of $runs runs,"
    echo "Integration/bench/breakdown.py). Wall time is CPU time less what overlaps, plus waiting."
    echo
    cat "$work/table.md"
} >"$results/breakdown.md"
cat "$results/breakdown.md"
