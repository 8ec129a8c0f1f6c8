#!/usr/bin/env bash
# Startup and read-path benchmark of `husk exec` against the Debian peers, in
# one run, as ratios. Run as an UNPRIVILEGED user (Scripts/bench drops root).
#
# Usage: HUSK=/path/to/husk Integration/bench/startup.sh IMAGE.sqsh
#   IMAGE.sqsh  the Debian minbase + python3 test image converted by husk
#               (ch-run needs its /proc, /sys, /dev mount points)
#
# Measured with hyperfine (--warmup 3 --runs 30 for startup, 5 for workloads):
#   startup /bin/true: husk exec (fuse), husk exec --mode extract, ch-run on the
#     squashfs, ch-run on an unsquashfs'd directory, bwrap on that directory,
#     unshare -Urmpf true (the floor: namespaces alone)
#   read every file under /usr warm, and `python3 -c 'import ...'`: husk fuse,
#     husk extract, ch-run squashfs, ch-run directory; and husk with a bind to
#     a directory the image lacks at its top level (-B DIR:/site, as for
#     /lustre or a job's working directory), which puts a skeleton root in
# Writes Integration/bench/results/startup.md (HUSK_BENCH_RESULTS=DIR elsewhere).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HUSK=${HUSK:-husk}
image=${1:?usage: startup.sh IMAGE.sqsh}
results=${HUSK_BENCH_RESULTS:-$here/results}
[ "$(id -u)" -ne 0 ] || { echo "run as an unprivileged user (Scripts/bench does)" >&2; exit 2; }
for tool in hyperfine ch-run bwrap unsquashfs unshare; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Scripts/install-deps --bench)" >&2; exit 2; }
done
mkdir -p "$results"
work=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-startup.XXXXXX")
trap 'chmod -R u+rwX "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
export TMPDIR=$work USER=${USER:-$(id -un)}
cd "$work"

unsquashfs -q -no-xattrs -d "$work/dir" "$image" >/dev/null 2>&1 || true
[ -x "$work/dir/bin/true" ] || { echo "unsquashfs could not extract $image" >&2; exit 1; }
"$HUSK" exec --mode extract "$image" true  # extract once, outside the timing

bw=(bwrap --unshare-user --unshare-pid --bind "$work/dir" / --dev /dev --proc /proc)
readall="find /usr -type f -print0 | xargs -0 cat > /dev/null"
imports="import json, email.parser, http.client, xml.etree.ElementTree, asyncio, sqlite3, decimal, argparse"

hyperfine -N --warmup 3 --runs 30 --export-json "$results/startup.json" --export-markdown "$results/startup-table.md" \
    -n "husk exec (fuse)" "$HUSK exec --mode fuse $image /bin/true" \
    -n "husk exec (extract)" "$HUSK exec --mode extract $image /bin/true" \
    -n "ch-run squashfs" "ch-run $image -- /bin/true" \
    -n "ch-run directory" "ch-run $work/dir -- /bin/true" \
    -n "bwrap directory" "${bw[*]} /bin/true" \
    -n "unshare -Urmpf" "unshare -Urmpf true"

hyperfine --warmup 1 --runs 5 --export-json "$results/readall.json" --export-markdown "$results/readall-table.md" \
    -n "husk fuse: read /usr" "$HUSK exec --mode fuse $image sh -c '$readall'" \
    -n "husk extract: read /usr" "$HUSK exec --mode extract $image sh -c '$readall'" \
    -n "ch-run squashfs: read /usr" "ch-run $image -- sh -c '$readall'" \
    -n "ch-run directory: read /usr" "ch-run $work/dir -- sh -c '$readall'" \
    -n "husk fuse, -B DIR:/site: read /usr" "$HUSK exec --mode fuse -B $work:/site $image sh -c '$readall'" \
    -n "husk extract, -B DIR:/site: read /usr" "$HUSK exec --mode extract -B $work:/site $image sh -c '$readall'" \
    -n "husk fuse: python imports" "$HUSK exec --mode fuse $image python3 -c '$imports'" \
    -n "husk extract: python imports" "$HUSK exec --mode extract $image python3 -c '$imports'" \
    -n "ch-run squashfs: python imports" "ch-run $image -- python3 -c '$imports'" \
    -n "ch-run directory: python imports" "ch-run $work/dir -- python3 -c '$imports'"

/usr/bin/python3 - "$results" <<'PY'
import json, sys
results = sys.argv[1]
def load(name):
    return {r["command"]: (r["median"], r["stddev"]) for r in json.load(open(f"{results}/{name}.json"))["results"]}
s, w = load("startup"), load("readall")
lines = ["# husk exec benchmark", "",
         "Debian bookworm minbase + python3 image; 2 cores; warm page cache; medians.", "",
         "## Startup: `/bin/true`", "", "| runtime | median (ms) | husk fuse / this |", "|---|---|---|"]
base = s["husk exec (fuse)"][0]
for name, (median, _) in s.items():
    lines.append(f"| {name} | {median * 1000:.1f} | {base / median:.2f} |")
lines += ["", f"- husk exec (fuse) / ch-run squashfs: {base / s['ch-run squashfs'][0]:.2f} (target ≤ 0.8)", "",
          "## Workloads", "", "| workload | median (s) |", "|---|---|"]
for name, (median, _) in w.items():
    lines.append(f"| {name} | {median:.3f} |")
for what in ("read /usr", "python imports"):
    hf, he = w[f"husk fuse: {what}"][0], w[f"husk extract: {what}"][0]
    cs, cd = w[f"ch-run squashfs: {what}"][0], w[f"ch-run directory: {what}"][0]
    lines.append(f"- {what}: husk fuse / ch-run squashfs {hf / cs:.2f}, husk extract / ch-run directory {he / cd:.2f}")
sf, se = w["husk fuse, -B DIR:/site: read /usr"][0], w["husk extract, -B DIR:/site: read /usr"][0]
cs, cd = w["ch-run squashfs: read /usr"][0], w["ch-run directory: read /usr"][0]
lines.append(f"- read /usr with a new top-level bind (skeleton root): husk fuse / ch-run squashfs {sf / cs:.2f}, "
             f"husk extract / ch-run directory {se / cd:.2f}")
open(f"{results}/startup.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
