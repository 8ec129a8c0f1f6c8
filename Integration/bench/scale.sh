#!/usr/bin/env bash
# How Husk scales on one node, side by side with ch-run in one run. Run as an
# UNPRIVILEGED user (Scripts/bench drops root).
#
# Usage: HUSK=/path/to/husk Integration/bench/scale.sh DEBIAN-OCI-DIR
#   DEBIAN-OCI-DIR  the Debian minbase + python3 OCI layout
#                   (Integration/fixtures/make-debian-oci.sh)
#
#  1. startup against image size: `true` in busybox (2 MB), Debian (~100 MB)
#     and Debian plus a 1 GiB file (hyperfine, 20 runs after 3 warm-ups);
#  2. 64 concurrent `exec IMG true` on this node: wall time (5 rounds) and
#     failures, husk and ch-run;
#  3. memory: proportional set size (PSS, shared pages split between their
#     users) of everything that keeps 1 and 16 idle containers running;
#  4. what a node reads from the image file on a shared filesystem: the
#     file's pages in the page cache after one cold `python3 -c 'import
#     ...'` (pages evicted with fadvise first), husk and ch-run.
# Writes Integration/bench/results/scale.md (HUSK_BENCH_RESULTS=DIR elsewhere).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
HUSK=${HUSK:-husk}
oci=${1:?usage: scale.sh DEBIAN-OCI-DIR}
results=${HUSK_BENCH_RESULTS:-$here/results}
[ "$(id -u)" -ne 0 ] || { echo "run as an unprivileged user (Scripts/bench does)" >&2; exit 2; }
for tool in hyperfine ch-run fincore; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Scripts/install-deps --bench)" >&2; exit 2; }
done
mkdir -p "$results"
work=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-scale.XXXXXX")
trap 'pkill -u "$(id -u)" -f "[s]leep 3141" 2>/dev/null || true; chmod -R u+rwX "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
export TMPDIR=$work USER=${USER:-$(id -un)} HUSK_CACHEDIR=$work/cache
cd "$work"
fixtures=$here/../fixtures
out=$work/scale.md

echo "== images" >&2
/usr/bin/python3 "$fixtures/make-busybox-oci.py" busybox-oci >/dev/null
"$HUSK" convert -q oci:busybox-oci busybox.sqsh >/dev/null
"$HUSK" convert -q oci:"$oci" debian.sqsh >/dev/null
# Debian plus a layer with one 1 GiB file of pseudo-random bytes.
/usr/bin/python3 - "$oci" big-oci <<'PY'
import hashlib, json, os, shutil, sys, tarfile
src, dst = sys.argv[1:3]
shutil.copytree(src, dst)
blobs = os.path.join(dst, 'blobs', 'sha256')
def blob(digest): return os.path.join(blobs, digest.split(':')[1])
def put(data):
    d = 'sha256:' + hashlib.sha256(data).hexdigest()
    open(blob(d), 'wb').write(data)
    return d
index = json.load(open(os.path.join(dst, 'index.json')))
manifest = json.load(open(blob(index['manifests'][0]['digest'])))
config = json.load(open(blob(manifest['config']['digest'])))
layer = os.path.join(dst, 'layer.tar')
size, chunk, seed = 1 << 30, 1 << 20, hashlib.sha256(b'husk-scale').digest()
with open(layer, 'wb') as f:
    info = tarfile.TarInfo('data/big.bin'); info.size = size; info.mtime = 1700000000
    f.write(info.tobuf(tarfile.PAX_FORMAT))
    for i in range(size // chunk):
        seed = hashlib.sha256(seed).digest()
        f.write((seed * (chunk // 32))[:chunk] if i % 2 else os.urandom(chunk))
    f.write(b'\0' * (1024 + (-size) % 512))
h = hashlib.sha256()
with open(layer, 'rb') as f:
    for piece in iter(lambda: f.read(1 << 20), b''): h.update(piece)
digest = 'sha256:' + h.hexdigest()
os.rename(layer, blob(digest))
manifest['layers'].append({'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': digest,
                           'size': os.path.getsize(blob(digest))})
config['rootfs']['diff_ids'].append(digest)
c = json.dumps(config).encode(); manifest['config'] = {'mediaType': manifest['config']['mediaType'], 'digest': put(c), 'size': len(c)}
m = json.dumps(manifest).encode()
index['manifests'][0].update({'digest': put(m), 'size': len(m)})
json.dump(index, open(os.path.join(dst, 'index.json'), 'w'))
PY
"$HUSK" convert -q oci:big-oci big.sqsh >/dev/null
rm -rf big-oci
size() { du -m "$1" | cut -f1; }

{
echo "# Scale on one node ($(date -u +%Y-%m-%d), $(nproc) cores, husk $("$HUSK" --version), ch-run $(ch-run --version 2>&1 | head -n 1))"
echo
echo "## 1. Startup against image size (exec IMG true, mean of 20 runs)"
echo
echo "| image | file | husk exec | ch-run |"
echo "|---|---:|---:|---:|"
} >"$out"
for image in busybox debian big; do
    hyperfine -N --warmup 3 --runs 20 --export-json "start-$image.json" \
        "$HUSK exec $work/$image.sqsh true" "ch-run $work/$image.sqsh -- true" >/dev/null
    /usr/bin/python3 - "start-$image.json" "$image" "$(size "$image.sqsh")" >>"$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))['results']
print('| %s | %s MB | %.1f ms | %.1f ms |' % (sys.argv[2], sys.argv[3], r[0]['mean'] * 1e3, r[1]['mean'] * 1e3))
PY
done

echo "== 64 at once" >&2
# many TOOL: 64 concurrent starts of the Debian image; failures counted.
cat >many.sh <<'EOF'
#!/bin/bash
# many.sh husk|ch-run: 64 concurrent `true` in the Debian image; prints failures.
for i in $(seq 64); do
    if [ "$1" = husk ]; then "$HUSK" exec "$work/debian.sqsh" true & else ch-run "$work/debian.sqsh" -- true & fi
done
failed=0
for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done
echo "$failed" >>"$work/failures-$1"
EOF
chmod +x many.sh
export work HUSK
hyperfine --warmup 1 --runs 5 --export-json many.json "./many.sh husk" "./many.sh ch-run" >/dev/null
{
echo
echo "## 2. 64 concurrent starts of the Debian image (exec IMG true, mean of 5 rounds)"
echo
/usr/bin/python3 - many.json "$(awk '{s += $1} END {print s}' failures-husk)" "$(awk '{s += $1} END {print s}' failures-ch-run)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))['results']
print('| | wall time | failed starts (of %d) |' % (64 * 6))
print('|---|---:|---:|')
print('| husk exec | %.2f s | %s |' % (r[0]['mean'], sys.argv[2]))
print('| ch-run | %.2f s | %s |' % (r[1]['mean'], sys.argv[3]))
print()
print('husk / ch-run: %.2fx' % (r[0]['mean'] / r[1]['mean']))
PY
} >>"$out"

echo "== memory" >&2
memory() { # TOOL N: PSS per container, in MB, with N idle containers
    local pids=() i
    for i in $(seq "$2"); do
        if [ "$1" = husk ]; then "$HUSK" exec "$work/debian.sqsh" sleep 3141 & else ch-run "$work/debian.sqsh" -- sleep 3141 & fi
        pids+=($!)
    done
    for _ in $(seq 100); do [ "$(pgrep -c -u "$(id -u)" -f "^sleep 3141")" -ge "$2" ] && break; sleep 0.1; done
    sleep 1
    local total
    total=$(pss "${pids[@]}")
    pkill -u "$(id -u)" -f "^sleep 3141" || true
    wait 2>/dev/null || true
    awk -v t="$total" -v n="$2" 'BEGIN {printf "%.1f", t / n / 1024}'
}
{
echo
echo "## 3. Memory of idle containers (PSS of every process that keeps them, per container)"
echo
echo "| | 1 container | 16 containers |"
echo "|---|---:|---:|"
echo "| husk exec | $(memory husk 1) MB | $(memory husk 16) MB |"
echo "| ch-run | $(memory ch-run 1) MB | $(memory ch-run 16) MB |"
} >>"$out"

echo "== bytes read" >&2
evict() { /usr/bin/python3 -c 'import os, sys; os.posix_fadvise(os.open(sys.argv[1], os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)' "$1"; }
resident() { fincore -b -n -o RES "$1" | awk '{printf "%.1f", $1 / 1048576}'; }
imports="import json, email.parser, http.client, xml.etree.ElementTree, asyncio, sqlite3, decimal, argparse"
{
echo
echo "## 4. What a node reads from the image file: python3 importing eight modules, cold"
echo
echo "| | image file | read from it |"
echo "|---|---:|---:|"
evict debian.sqsh; "$HUSK" exec debian.sqsh python3 -c "$imports"
echo "| husk exec | $(size debian.sqsh) MB | $(resident debian.sqsh) MB |"
evict debian.sqsh; ch-run debian.sqsh -- python3 -c "$imports"
echo "| ch-run | $(size debian.sqsh) MB | $(resident debian.sqsh) MB |"
evict big.sqsh; "$HUSK" exec big.sqsh python3 -c "$imports"
echo "| husk exec, Debian + 1 GiB | $(size big.sqsh) MB | $(resident big.sqsh) MB |"
} >>"$out"
cat "$out" | tee "$results/scale.md"
