#!/usr/bin/env bash
# What a cold start asks the FUSE server, husk against ch-run: a first run of
# `husk exec IMAGE true` (the image server stopped before it) and a run of
# `ch-run IMAGE -- true` (each mounts the image afresh), RUNS of each in
# turn, with the kernel's fuse_request_send and fuse_request_end tracepoints.
# Prints, per tool, the wall time, the requests by kind and the time between
# each request's sending and its answer (summed: read-ahead requests overlap).
# It tells whether a first run's gap to ch-run is in reading the image or
# before it.
# Run as ROOT (tracepoints); the runs themselves are made as the unprivileged
# user the arguments after -- name (Scripts/bench passes a setpriv command).
#
# Usage: HUSK=/path/to/husk Integration/bench/fuse-requests.sh IMAGE.sqsh [-- RUN-AS...]
# Writes Integration/bench/results/fuse-requests.md (HUSK_BENCH_RESULTS=DIR elsewhere).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bench_root_args "fuse-requests.sh IMAGE.sqsh [-- RUN-AS...]" "$@"
results=${HUSK_BENCH_RESULTS:-$here/results}
runs=${HUSK_BENCH_RUNS:-10}
command -v ch-run >/dev/null || { echo "missing ch-run (Scripts/install-deps --bench)" >&2; exit 2; }
husk=$(readlink -f "$(command -v "${HUSK:-husk}")")
tracing=/sys/kernel/tracing
[ -w "$tracing/trace" ] || mount -t tracefs nodev "$tracing" 2>/dev/null || true
[ -w "$tracing/events/fuse/enable" ] || { echo "fuse-requests.sh: needs root, tracefs and the fuse tracepoints (Linux 6.11+)" >&2; exit 2; }
mkdir -p "$results"

bench_root_dirs husk-bench-fuse  # the traces in $work; the user writes nothing
cleanup() {
    echo 0 >"$tracing/events/fuse/enable" || true
    as_user "$husk" server stop --all >/dev/null 2>&1 || true
    rm -rf "$work" "$user_dir"
}
trap cleanup EXIT
as_user "$husk" exec "$image" true # the page cache of the file, for both

# One traced start: TOOL into TRACE-FILE, its wall time (s) into TRACE-FILE.wall.
traced() { # TOOL TRACE-FILE
    as_user "$husk" server stop --all >/dev/null
    sleep 0.3
    echo >"$tracing/trace"
    echo 1 >"$tracing/events/fuse/enable"
    local start end
    start=$(date +%s.%N)
    if [ "$1" = husk ]; then as_user "$husk" exec "$image" true
    else as_user ch-run "$image" -- true; fi
    end=$(date +%s.%N)
    echo 0 >"$tracing/events/fuse/enable"
    grep -E 'fuse_request_(send|end):' "$tracing/trace" >"$2"
    echo "$start $end" >"$2.wall"
}
for i in $(seq "$runs"); do
    traced husk "$work/husk.$i"
    traced ch-run "$work/ch-run.$i"
done

/usr/bin/python3 - "$work" "$runs" "$(date -u +%Y-%m-%d)" "$(nproc)" "$("$husk" --version)" \
    "$(env USER=root ch-run --version 2>&1 | head -n 1)" >"$results/fuse-requests.md" <<'EOF'
import collections, re, statistics, sys
work, runs, day, cores, husk_version, ch_version = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
line = re.compile(r"(\d+\.\d+): fuse_request_(send|end): connection (\d+) req (\d+) (?:opcode \d+ \((\w+)\) )?len")
summary = {}
for tool in ("husk", "ch-run"):
    walls, counts, waits, kinds = [], [], [], []
    for i in range(1, runs + 1):
        sent, per_kind, wait = {}, collections.Counter(), 0.0
        for text in open(f"{work}/{tool}.{i}"):
            m = line.search(text)
            if not m:
                continue
            at, what, connection, request, opcode = m.groups()
            key = (connection, request)
            if what == "send":
                sent[key] = (float(at), opcode.removeprefix("FUSE_"))
            elif key in sent:
                began, opcode = sent.pop(key)
                per_kind[opcode] += 1
                wait += float(at) - began
        start, end = map(float, open(f"{work}/{tool}.{i}.wall").read().split())
        walls.append((end - start) * 1e3)
        counts.append(sum(per_kind.values()))
        waits.append(wait * 1e3)
        kinds.append(per_kind)
    summary[tool] = (walls, counts, waits, kinds)
print(f"# What a cold start asks the FUSE server ({day}, {cores} cores, husk {husk_version}, ch-run {ch_version})")
print()
print(f"`true` in the image, {runs} runs of each in turn (Integration/bench/fuse-requests.sh): husk's first run")
print("(its image server stopped 0.3 s before) and ch-run (which mounts the image every run), with the")
print("kernel's fuse_request_send and fuse_request_end tracepoints. Medians; \"waiting\" sums, over the")
print("requests, the time from sending to the answer (read-ahead requests overlap).")
print()
print("| | husk, first run | ch-run |")
print("|---|---:|---:|")
med = statistics.median
print(f"| wall time (traced) | {med(summary['husk'][0]):.1f} ms | {med(summary['ch-run'][0]):.1f} ms |")
print(f"| requests | {med(summary['husk'][1]):.0f} | {med(summary['ch-run'][1]):.0f} |")
print(f"| waiting for answers | {med(summary['husk'][2]):.1f} ms | {med(summary['ch-run'][2]):.1f} ms |")
per_run = {tool: summary[tool][3] for tool in summary}  # a Counter of kinds per run
for opcode in sorted({kind for runs_of in per_run.values() for counter in runs_of for kind in counter}):
    print("| " + opcode + " | " + " | ".join(f"{med([c[opcode] for c in per_run[tool]]):.0f}" for tool in ("husk", "ch-run")) + " |")
EOF
cat "$results/fuse-requests.md"
