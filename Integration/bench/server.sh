#!/usr/bin/env bash
# Image servers (issue 13), side by side with ch-run in one run, as ratios.
# Run as an UNPRIVILEGED user (Scripts/bench drops root).
#
# Usage: HUSK=/path/to/husk Integration/bench/server.sh DEBIAN.sqsh [KERNEL-MOUNT]
#   DEBIAN.sqsh   the Debian minbase + python3 image
#   KERNEL-MOUNT  the same file mounted by the kernel's squashfs (root makes
#                 it: Scripts/bench does); the reference for reading /usr
#
#  1. `exec IMG true`: one-shot (HUSK_IDLE=0), repeat run (joins the
#     server), first run (starts the server), ch-run: 100 runs interleaved
#     (interleaved.py);
#  2. reading all of /usr (tar through a pipe) on a repeat run, against the
#     kernel's squashfs mount, the one-shot mode and ch-run; python3
#     importing eight modules, against the extracted directory (extract mode);
#     interleaved too; and Python's isatty on the imported files (isatty.py);
#  3. 64 concurrent `exec IMG sleep`: servers, PSS of all 64 against one
#     container's; wall time of 64 concurrent `exec IMG true` against ch-run;
#  4. extract mode: the first extraction of the image, against unsquashfs writing
#     the same tree to the same filesystem (TMPDIR, and /dev/shm when there).
# Writes Integration/bench/results/server.md (HUSK_BENCH_RESULTS=DIR elsewhere).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
HUSK=${HUSK:-husk}
image=${1:?usage: server.sh DEBIAN.sqsh [KERNEL-MOUNT]}
kernel=${2:-}
results=${HUSK_BENCH_RESULTS:-$here/results}
[ "$(id -u)" -ne 0 ] || { echo "run as an unprivileged user (Scripts/bench does)" >&2; exit 2; }
for tool in hyperfine ch-run unsquashfs; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Scripts/install-deps --bench)" >&2; exit 2; }
done
mkdir -p "$results"
work=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-server.XXXXXX")
trap '"$HUSK" server stop --all >/dev/null 2>&1 || true; pkill -u "$(id -u)" -f "[s]leep 2718" 2>/dev/null || true; chmod -R u+rwX "$work" 2>/dev/null || true; rm -rf "$work" || true' EXIT
export TMPDIR=$work USER=${USER:-$(id -un)} HUSK_CACHEDIR=$work/cache HUSK
unset XDG_RUNTIME_DIR
cp "$image" "$work/debian.sqsh"
img=$work/debian.sqsh
cd "$work"
out=$work/server.md
mean_of() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["mean"])' "$@"; }
ratio() { /usr/bin/python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$@"; }
ms() { /usr/bin/python3 -c 'import sys; print("%.1f ms" % (float(sys.argv[1]) * 1e3))' "$1"; }
s() { /usr/bin/python3 -c 'import sys; print("%.2f s" % float(sys.argv[1]))' "$1"; }

echo "== startup" >&2
export HUSK_IDLE=30
# Interleaved: the machine's slow minutes fall on husk and ch-run alike. A
# first run starts the server: it is stopped before each. Repeat runs find
# the server a first run of the round, or of the round before, started.
/usr/bin/python3 "$here/interleaved.py" --warmup 3 --runs 100 --export-json start.json \
    --prepare first "$HUSK server stop --all" \
    one-shot "env HUSK_IDLE=0 $HUSK exec $img true" \
    repeat "$HUSK exec $img true" \
    first "$HUSK exec $img true" \
    ch-run "ch-run $img -- true"
ch=$(mean_of start.json 3)
{
echo "# Image servers ($(date -u +%Y-%m-%d), $(nproc) cores, husk $("$HUSK" --version), ch-run $(ch-run --version 2>&1 | head -n 1))"
echo
echo "## 1. \`exec IMG true\` on the Debian image (mean of 100 runs, interleaved)"
echo
echo "| | time | / ch-run |"
echo "|---|---:|---:|"
echo "| husk, repeat run (joins the server) | $(ms "$(mean_of start.json 1)") | $(ratio "$(mean_of start.json 1)" "$ch") |"
echo "| husk, first run (starts the server) | $(ms "$(mean_of start.json 2)") | $(ratio "$(mean_of start.json 2)" "$ch") |"
echo "| husk, HUSK_IDLE=0 (one-shot) | $(ms "$(mean_of start.json 0)") | $(ratio "$(mean_of start.json 0)" "$ch") |"
echo "| ch-run | $(ms "$ch") | 1.00 |"
} >"$out"

echo "== reading /usr" >&2
# Through a pipe: GNU tar does not read the files it archives to /dev/null.
readall="sh -c 'tar cf - -C / usr | cat >/dev/null'"
modules="json email.parser http.client xml.etree.ElementTree asyncio sqlite3 decimal argparse"
imports="import ${modules// /, }"
"$HUSK" exec --mode extract "$img" true # extract once, outside the timing
commands=("husk, repeat run" "$HUSK exec $img $readall"
          "husk, HUSK_IDLE=0" "env HUSK_IDLE=0 $HUSK exec $img $readall"
          ch-run "ch-run $img -- $readall")
[ -n "$kernel" ] && commands+=("kernel squashfs" "sh -c 'tar cf - -C $kernel usr | cat >/dev/null'")
/usr/bin/python3 "$here/interleaved.py" --warmup 1 --runs 10 --export-json readall.json "${commands[@]}"
/usr/bin/python3 "$here/interleaved.py" --warmup 2 --runs 40 --export-json imports.json \
    "husk, repeat run" "$HUSK exec $img python3 -c '$imports'" \
    "husk --mode extract" "$HUSK exec --mode extract $img python3 -c '$imports'"
# Why the imports differ: Python's isatty check on the files they open (isatty.py).
isatty_code=$(cat "$here/isatty.py")
# shellcheck disable=SC2086 # the module names are words
"$HUSK" exec "$img" python3 -c "$isatty_code" $modules >isatty-fuse.txt
# shellcheck disable=SC2086
"$HUSK" exec --mode extract "$img" python3 -c "$isatty_code" $modules >isatty-extract.txt
{
echo
echo "## 2. Reading the image on a repeat run (warm caches; interleaved, mean of 10 and 40 runs)"
echo
echo "| all of /usr (tar \| cat >/dev/null) | time | / kernel squashfs |"
echo "|---|---:|---:|"
ref=$([ -n "$kernel" ] && mean_of readall.json 3 || echo "")
for i in 0 1 2 3; do
    [ $i -eq 3 ] && [ -z "$kernel" ] && break
    name=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["command"])' readall.json $i)
    echo "| $name | $(s "$(mean_of readall.json $i)") | $([ -n "$ref" ] && ratio "$(mean_of readall.json $i)" "$ref" || echo "n/a (no kernel mount)") |"
done
echo
echo "| python3 importing eight modules | time | / extracted directory |"
echo "|---|---:|---:|"
echo "| husk, repeat run | $(ms "$(mean_of imports.json 0)") | $(ratio "$(mean_of imports.json 0)" "$(mean_of imports.json 1)") |"
echo "| husk --mode extract | $(ms "$(mean_of imports.json 1)") | 1.00 |"
echo
echo "Python's \`isatty\` (an ioctl: FUSE sends each one to its server) on the imported modules' $(awk 'NR == 1 {print $4}' isatty-fuse.txt) files,"
echo "each opened afresh, after the imports (Integration/bench/isatty.py), mean per call:"
echo
echo "| busy work before each call | repeat run (image file) | extract mode |"
echo "|---|---:|---:|"
join isatty-fuse.txt isatty-extract.txt | awk '{printf "| %d µs | %.1f µs | %.1f µs |\n", $1, $2, $5}'
} >>"$out"

echo "== 64 at once" >&2
# servers: the PIDs of this user's live image servers (an ended one stays a
# zombie until init reaps it, which some inits do late).
servers() { ps -u "$(id -u)" -o pid=,stat=,comm= | awk '$3 == "husk-server" && $2 !~ /^Z/ {print $1}'; }
memory() { # IDLE|ch-run N: total PSS in MB of N idle containers (husk with HUSK_IDLE=IDLE, or ch-run)
    local pids=() i total
    "$HUSK" server stop --all >/dev/null 2>&1 || true
    # A stopped server whose last container is still ending takes no one
    # new but lives until it goes: wait, or it would be counted here.
    for _ in $(seq 100); do [ -n "$(servers)" ] || break; sleep 0.1; done
    for i in $(seq "$2"); do
        if [ "$1" = ch-run ]; then ch-run "$img" -- sleep 2718 & else HUSK_IDLE=$1 "$HUSK" exec "$img" sleep 2718 & fi
        pids+=($!)
    done
    for _ in $(seq 300); do [ "$(pgrep -c -u "$(id -u)" -f "^sleep 2718")" -ge "$2" ] && break; sleep 0.1; done
    sleep 1
    # The image servers (and their FUSE servers) count too.
    total=$(pss "${pids[@]}" $(servers))
    # The commands alone: what any runtime's containers hold.
    pss $(pgrep -u "$(id -u)" -f "^sleep 2718") | awk '{printf "%.1f", $1 / 1024}' >commands-$1-$2
    servers | wc -w >servers-$1-$2
    pkill -u "$(id -u)" -f "^sleep 2718" || true
    wait 2>/dev/null || true
    awk -v t="$total" 'BEGIN {printf "%.1f", t / 1024}'
}
one=$(memory 30 1)
many=$(memory 30 64)
many_servers=$(cat servers-30-64)
oneshot=$(memory 0 64)
chrun_one=$(memory ch-run 1)
chrun_many=$(memory ch-run 64)
cat >many.sh <<'EOF'
#!/bin/bash
# many.sh husk|one-shot|ch-run: 64 concurrent `true` in the image.
for i in $(seq 64); do
    case $1 in
    husk) "$HUSK" exec "$img" true & ;;
    one-shot) HUSK_IDLE=0 "$HUSK" exec "$img" true & ;;
    *) ch-run "$img" -- true & ;;
    esac
done
failed=0
for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done
[ "$failed" -eq 0 ]
EOF
chmod +x many.sh
export img
"$HUSK" exec "$img" true
hyperfine --warmup 1 --runs 5 --export-json many.json -n husk "./many.sh husk" -n one-shot "./many.sh one-shot" \
    -n ch-run "./many.sh ch-run" >/dev/null
{
echo
echo "## 3. 64 containers of one image on one node"
echo
echo "| | husk (servers) | husk, HUSK_IDLE=0 | ch-run |"
echo "|---|---:|---:|---:|"
echo "| image servers for 64 idle containers | $many_servers | 0 | - |"
echo "| total PSS, 64 idle containers (\`sleep\`; image servers by their RSS) | $many MB ($(ratio "$many" "$one")x one container's $one MB) | $oneshot MB | $chrun_many MB ($(ratio "$chrun_many" "$chrun_one")x one container's $chrun_one MB) |"
echo "| ... of which the 64 \`sleep\` commands themselves | $(cat commands-30-64) MB | $(cat commands-0-64) MB | $(cat commands-ch-run-64) MB |"
echo "| 64 concurrent \`exec IMG true\`, wall (mean of 5) | $(s "$(mean_of many.json 0)") | $(s "$(mean_of many.json 1)") | $(s "$(mean_of many.json 2)") |"
echo
echo "husk (servers) / ch-run, 64 concurrent: $(ratio "$(mean_of many.json 0)" "$(mean_of many.json 2)")x"
} >>"$out"

echo "== extract mode" >&2
# Side by side with unsquashfs (squashfs-tools) writing the same tree to the same
# filesystem (without xattrs, as husk extracts): in the bench's TMPDIR and, when
# there is one, on /dev/shm (a tmpfs). A disk slow to take the writes slows both.
extraction() { # KEY LABEL DIR: mean times of husk's first extraction and unsquashfs's, into DIR
    local dir=$3/husk-bench-extract
    hyperfine -N --runs 5 --prepare "sh -c 'chmod -R u+rwX $dir 2>/dev/null; rm -rf $dir; mkdir -m 700 $dir'" \
        --export-json "extract-$1.json" \
        -n husk "env TMPDIR=$dir $HUSK exec --mode extract $img true" \
        -n unsquashfs "unsquashfs -q -no-xattrs -d $dir/unsquashfs $img" >/dev/null
    chmod -R u+rwX "$dir" 2>/dev/null; rm -rf "$dir"
    echo "| $2 ($(stat -f -c %T "$3")) | $(s "$(mean_of "extract-$1.json" 0)") | $(s "$(mean_of "extract-$1.json" 1)") | $(ratio "$(mean_of "extract-$1.json" 0)" "$(mean_of "extract-$1.json" 1)") |"
}
rows=$(extraction tmpdir "TMPDIR" "$work")
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    shm=$(mktemp -d /dev/shm/husk-bench.XXXXXX)
    rows="$rows
$(extraction shm "/dev/shm" "$shm")"
    rmdir "$shm"
fi
{
echo
echo "## 4. Extract mode"
echo
echo "The first extraction of the Debian image (husk: \`exec --mode extract IMG true\`, the start included;"
echo "unsquashfs: \`-no-xattrs -d DIR\`, as many threads as cores), mean of 5:"
echo
echo "| written to | husk | unsquashfs | / unsquashfs |"
echo "|---|---:|---:|---:|"
echo "$rows"
} >>"$out"
tee "$results/server.md" <"$out"
