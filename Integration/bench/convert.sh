#!/usr/bin/env bash
# Benchmark `husk convert` against the usual two-step pipelines.
#
# Usage: [HUSK=/path/to/husk] Integration/bench/convert.sh [LAYOUT]
#
#   LAYOUT  OCI layout to convert (default: $HUSK_DEBIAN_OCI, else
#           /var/tmp/husk-debian-oci); built with
#           fixtures/make-debian-oci.sh when missing and running as root.
#
# Compared, each timed by hyperfine (--warmup 1 --runs 5):
#   umoci+mksquashfs  umoci unpack --rootless, then
#                     mksquashfs -comp zstd -Xcompression-level 3 -processors 2
#   tar2sqfs          tar2sqfs -c zstd -X level=3 -j 2 from a pre-flattened
#                     tar (flattening not timed: a lower bound)
#   husk              husk convert --compression zstd:3 --jobs 2
# The target ratio, husk / tar2sqfs, is also measured in 15 alternating pairs
# (median and quartiles of the per-pair ratios): load that drifts between
# hyperfine's blocks of runs moves the ratio of means by ±0.05 here.
# Also measured: output sizes, peak RSS (/usr/bin/time -f %M).
# Writes Integration/bench/results/{hyperfine.md,hyperfine.json,convert.md}
# (HUSK_BENCH_RESULTS=DIR writes them elsewhere).
# The hyperfine commands are single-quoted on purpose (expanded by its shell).
# shellcheck disable=SC2016
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS=${HUSK_BENCH_RESULTS:-$HERE/results}
BENCH_JSON=$RESULTS/hyperfine.json
# shellcheck source=lib.sh
. "$HERE/lib.sh"
HUSK=${HUSK:-husk}
LAYOUT=${1:-${HUSK_DEBIAN_OCI:-/var/tmp/husk-debian-oci}}
LAYOUT=${LAYOUT%/}


command -v "$HUSK" >/dev/null || die "husk binary not found: $HUSK (set HUSK)"
HUSK=$(command -v "$HUSK")
bench_require hyperfine umoci mksquashfs tar2sqfs unsquashfs jq
bench_layout

W=$(mktemp -d "${TMPDIR:-/var/tmp}/husk-bench.XXXXXX")
trap 'chmod -R u+rwX "$W" 2>/dev/null || true; rm -rf "$W"' EXIT
mkdir -p "$RESULTS"
export W LAYOUT TAG HUSK

echo "bench: layout $LAYOUT:$TAG, husk $HUSK, work $W" >&2
echo "bench: preparing the pre-flattened tar" >&2
umoci unpack --rootless --image "$LAYOUT:$TAG" "$W/prep" >/dev/null
tar -C "$W/prep/rootfs" -cf "$W/flat.tar" .
chmod -R u+rwX "$W/prep"
rm -rf "$W/prep"

CMD_A='umoci unpack --rootless --image "$LAYOUT:$TAG" "$W/a-bundle" >/dev/null && mksquashfs "$W/a-bundle/rootfs" "$W/a.sqsh" -comp zstd -Xcompression-level 3 -processors 2 -noappend -quiet >/dev/null'
CMD_B='tar2sqfs -q -c zstd -X level=3 -j 2 -f "$W/b.sqsh" < "$W/flat.tar"'
CMD_C='"$HUSK" convert "oci:$LAYOUT:$TAG" "$W/c.sqsh" --compression zstd:3 --jobs 2 >/dev/null'
PREP_A='chmod -R u+rwX "$W/a-bundle" 2>/dev/null; rm -rf "$W/a-bundle" "$W/a.sqsh"'
PREP_B='rm -f "$W/b.sqsh"'
PREP_C='rm -f "$W/c.sqsh"'

hyperfine --warmup 1 --runs 5 \
    --export-markdown "$RESULTS/hyperfine.md" --export-json "$RESULTS/hyperfine.json" \
    --prepare "$PREP_A" --prepare "$PREP_B" --prepare "$PREP_C" \
    -n umoci+mksquashfs -n tar2sqfs -n husk \
    "$CMD_A" "$CMD_B" "$CMD_C"

# husk against tar2sqfs in alternating pairs: seconds of each, one pair a line.
elapsed() { local start end; start=$(date +%s%N); eval "$1" >/dev/null; end=$(date +%s%N)
    awk -v n=$((end - start)) 'BEGIN { printf "%.4f", n / 1e9 }'; }
for _ in $(seq 15); do
    eval "$PREP_B"; b=$(elapsed "$CMD_B")
    eval "$PREP_C"; c=$(elapsed "$CMD_C")
    echo "$b $c"
done >"$W/pairs"
PAIRS=$(awk '{ print $2 / $1 }' "$W/pairs" | sort -n |
    awk '{ r[NR] = $1 } END { printf "%.2f (quartiles %.2f … %.2f, %d pairs)", r[int((NR + 1) / 2)], r[int((NR + 3) / 4)], r[int((3 * NR + 3) / 4)], NR }')

# Peak RSS (KiB) of one more run of each, outputs kept for the sizes.
RSS_A=$(rss a "$PREP_A" "$CMD_A")
RSS_B=$(rss b "$PREP_B" "$CMD_B")
RSS_C=$(rss c "$PREP_C" "$CMD_C")

size() { stat -c %s "$1"; }
SIZE_A=$(size "$W/a.sqsh")
SIZE_B=$(size "$W/b.sqsh")
SIZE_C=$(size "$W/c.sqsh")
blocksize() { unsquashfs -s "$1" 2>/dev/null | awk '/^Block size/ { print $3 }'; }
T_A=$(mean umoci+mksquashfs)
T_B=$(mean tar2sqfs)
T_C=$(mean husk)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
layers_bytes=$(jq -r '.manifests[0].digest' "$LAYOUT/index.json" | cut -d: -f2 |
    xargs -I{} jq '[.layers[].size] | add' "$LAYOUT/blobs/sha256/{}")
flat_bytes=$(size "$W/flat.tar")

row() { # NAME MEAN SD SIZE RSS_KIB FILE
    awk -v n="$1" -v m="$2" -v s="$3" -v z="$4" -v r="$5" -v bs="$(blocksize "$6")" \
        'BEGIN { printf "| %s | %.2f ± %.2f | %d (%.1f MiB) | %s | %.0f |\n", n, m, s, z, z / 1048576, bs, r / 1024 }'
}

{
    echo "# husk convert benchmark"
    echo
    echo "Image: Debian bookworm minbase + python3 (3 gzip layers, $((layers_bytes / 1048576)) MiB compressed, $((flat_bytes / 1048576)) MiB flattened tar)."
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); zstd level 3, 2 jobs everywhere; hyperfine --warmup 1 --runs 5."
    echo
    echo "| tool | time (s, mean ± σ) | output bytes | block size | peak RSS (MiB) |"
    echo "| --- | --- | --- | --- | --- |"
    row "umoci unpack --rootless + mksquashfs" "$T_A" "$(sd umoci+mksquashfs)" "$SIZE_A" "$RSS_A" "$W/a.sqsh"
    row "tar2sqfs (pre-flattened tar)" "$T_B" "$(sd tar2sqfs)" "$SIZE_B" "$RSS_B" "$W/b.sqsh"
    row "husk convert" "$T_C" "$(sd husk)" "$SIZE_C" "$RSS_C" "$W/c.sqsh"
    echo
    echo "- time, husk / (umoci + mksquashfs): $(ratio "$T_C" "$T_A")"
    echo "- time, husk / tar2sqfs: $(ratio "$T_C" "$T_B") (means above); in alternating pairs, median $PAIRS"
    echo "- size, husk / mksquashfs: $(ratio "$SIZE_C" "$SIZE_A")"
    echo "- size, husk / tar2sqfs: $(ratio "$SIZE_C" "$SIZE_B")"
    echo
    echo "Peak RSS is from one extra run of each under /usr/bin/time -f %M (for the first row, the larger of umoci and mksquashfs)."
} >"$RESULTS/convert.md"

cat "$RESULTS/convert.md"
