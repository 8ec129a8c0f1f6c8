#!/usr/bin/env bash
# Benchmark `husk pull` against `skopeo copy` from a local registry.
#
# Usage: [HUSK=/path/to/husk] Integration/bench/pull.sh [LAYOUT]
#
#   LAYOUT  OCI layout to push and pull (default: $HUSK_DEBIAN_OCI, else
#           /var/tmp/husk-debian-oci); built with
#           fixtures/make-debian-oci.sh when missing and running as root.
#
# Starts a plain-HTTP docker-registry on 127.0.0.1 (registry/start-registries.sh),
# pushes LAYOUT to it with `skopeo copy --preserve-digests` (blobs as they
# are), then compares, each timed by hyperfine (--warmup 1 --runs 5, the
# cache or output directory wiped in --prepare, so every run downloads
# everything):
#   skopeo           skopeo copy docker://… oci:DIR   (download + verify)
#   husk-blobs       husk pull --blobs-only            (download + verify)
#   husk-pull        husk pull                         (+ conversion to
#                                                       squashfs, husk's defaults)
# (HUSK_BENCH_WARMUP / HUSK_BENCH_RUNS change those counts, for a quick try.)
# Also measured: peak RSS (/usr/bin/time -f %M).
# Writes Integration/bench/results/{pull.md,pull-hyperfine.md,pull-hyperfine.json}
# (HUSK_BENCH_RESULTS=DIR writes them elsewhere).
# The hyperfine commands are single-quoted on purpose (expanded by its shell).
# shellcheck disable=SC2016
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS=${HUSK_BENCH_RESULTS:-$HERE/results}
BENCH_JSON=$RESULTS/pull-hyperfine.json
# shellcheck source=lib.sh
. "$HERE/lib.sh"
HUSK=${HUSK:-husk}
LAYOUT=${1:-${HUSK_DEBIAN_OCI:-/var/tmp/husk-debian-oci}}
LAYOUT=${LAYOUT%/}
# shellcheck source=../registry/start-registries.sh
. "$HERE/../registry/start-registries.sh"


command -v "$HUSK" >/dev/null || die "husk binary not found: $HUSK (set HUSK)"
HUSK=$(command -v "$HUSK")
bench_require hyperfine skopeo docker-registry openssl htpasswd jq
bench_layout

W=$(mktemp -d "${TMPDIR:-/var/tmp}/husk-bench-pull.XXXXXX")
cleanup() {
    stop_registries "$W/registry" 2>/dev/null || true
    chmod -R u+rwX "$W" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$RESULTS"

start_registries "$W/registry" plain >/dev/null || die "the registry did not start (see above)"
REF=docker://$PLAIN/bench/debian:1
export W HUSK REF
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# husk reads credentials and certificates from here: keep the user's out.
export XDG_CONFIG_HOME=$W/config

echo "bench: layout $LAYOUT:$TAG, husk $HUSK, registry $PLAIN, work $W" >&2
skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$LAYOUT:$TAG" "$REF" ||
    die "skopeo could not push $LAYOUT to $REF"
DIGEST=$(skopeo inspect --tls-verify=false "$REF" | jq -r .Digest)
# Correctness first: what husk downloads is what was pushed.
HUSK_CACHEDIR=$W/check "$HUSK" pull -q --insecure --blobs-only "$REF" >"$W/check.out"
[ "$(tail -n 1 "$W/check.out")" = "$DIGEST" ] || die "husk pull printed $(cat "$W/check.out"), expected $DIGEST"
rm -rf "$W/check"

CMD_A='skopeo copy -q --src-tls-verify=false "$REF" "oci:$W/skopeo-oci:1"'
CMD_B='HUSK_CACHEDIR="$W/cache-b" "$HUSK" pull -q --insecure --blobs-only "$REF" >/dev/null'
CMD_C='HUSK_CACHEDIR="$W/cache-c" "$HUSK" pull -q --insecure "$REF" >/dev/null'
PREP_A='rm -rf "$W/skopeo-oci"'
PREP_B='chmod -R u+rwX "$W/cache-b" 2>/dev/null; rm -rf "$W/cache-b"'
PREP_C='chmod -R u+rwX "$W/cache-c" 2>/dev/null; rm -rf "$W/cache-c"'

hyperfine --warmup "${HUSK_BENCH_WARMUP:-1}" --runs "${HUSK_BENCH_RUNS:-5}" \
    --export-markdown "$RESULTS/pull-hyperfine.md" --export-json "$RESULTS/pull-hyperfine.json" \
    --prepare "$PREP_A" --prepare "$PREP_B" --prepare "$PREP_C" \
    -n skopeo -n husk-blobs -n husk-pull \
    "$CMD_A" "$CMD_B" "$CMD_C"

# Peak RSS (KiB) of one more run of each.
RSS_A=$(rss a "$PREP_A" "$CMD_A")
RSS_B=$(rss b "$PREP_B" "$CMD_B")
RSS_C=$(rss c "$PREP_C" "$CMD_C")

T_A=$(mean skopeo)
T_B=$(mean husk-blobs)
T_C=$(mean husk-pull)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
manifest=$LAYOUT/blobs/sha256/${DIGEST#sha256:}
blob_bytes=$(jq '([.layers[].size] | add) + .config.size' "$manifest")
nlayers=$(jq '.layers | length' "$manifest")
image_bytes=$(stat -c %s "$W/cache-c/images/${DIGEST#sha256:}.sqsh")
verdict() { # RATIO TARGET
    awk -v r="$1" -v t="$2" 'BEGIN { if (r <= t) print "met"; else print "not met" }'
}

row() { # NAME MEAN SD RSS_KIB
    awk -v n="$1" -v m="$2" -v s="$3" -v r="$4" \
        'BEGIN { printf "| %s | %.2f ± %.2f | %.0f |\n", n, m, s, r / 1024 }'
}

R_BLOBS=$(ratio "$T_B" "$T_A")
R_PULL=$(ratio "$T_C" "$T_A")
{
    echo "# husk pull benchmark"
    echo
    echo "Image: Debian bookworm minbase + python3 ($nlayers gzip layers, $((blob_bytes / 1048576)) MiB of blobs), pushed with skopeo --preserve-digests to a plain-HTTP docker-registry ($(docker-registry --version | awk '{print $3}')) on 127.0.0.1."
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); skopeo $(skopeo --version | awk '{print $3}'); husk's defaults; every run starts from an empty cache; hyperfine --warmup ${HUSK_BENCH_WARMUP:-1} --runs ${HUSK_BENCH_RUNS:-5}."
    echo
    echo "| tool | time (s, mean ± σ) | peak RSS (MiB) |"
    echo "| --- | --- | --- |"
    row "skopeo copy docker:// oci:DIR" "$T_A" "$(sd skopeo)" "$RSS_A"
    row "husk pull --blobs-only" "$T_B" "$(sd husk-blobs)" "$RSS_B"
    row "husk pull (download + convert, $((image_bytes / 1048576)) MiB squashfs)" "$T_C" "$(sd husk-pull)" "$RSS_C"
    echo
    echo "- time, husk pull --blobs-only / skopeo copy: $R_BLOBS (target ≤ 1.00, $(verdict "$R_BLOBS" 1.00))"
    echo "- time, husk pull (with conversion) / skopeo copy: $R_PULL"
    echo
    echo "Peak RSS is from one extra run of each under /usr/bin/time -f %M."
} >"$RESULTS/pull.md"

cat "$RESULTS/pull.md"
