#!/usr/bin/env bash
# End-to-end tests of `husk convert` and `husk inspect`.
#
# Usage: [HUSK=/path/to/husk] [HUSK_DEBIAN_OCI=/path/to/layout] \
#        Integration/test-convert.sh
#
#   HUSK             husk binary (default: husk on PATH)
#   HUSK_DEBIAN_OCI  optional OCI layout built by fixtures/make-debian-oci.sh;
#                    when set, it is converted and checked too
#   HUSK_TIMEOUT     seconds allowed per husk invocation (default 600)
#   KEEP_WORK=1      keep the temporary work directory (path is printed)
#
# Runs as an unprivileged user; needs /usr/bin/python3, sqfs2tar,
# unsquashfs, jq, zstd; squashfuse/fusermount3 are optional (skipped).
# The last line is "N passed, N failed[, N skipped]"; exit status is
# non-zero when anything failed.
# Single-quoted sh -c scripts and jq filters are meant not to expand here.
# shellcheck disable=SC2016
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

PY=/usr/bin/python3
HUSK=${HUSK:-husk}
FIX=$HERE/fixtures
TOOLS=$HERE/tools
W=$(mktemp -d "${TMPDIR:-/tmp}/husk-it.XXXXXX")
MNT=""

cleanup() {
    if [ -n "$MNT" ] && mountpoint -q "$MNT" 2>/dev/null; then
        fusermount3 -u "$MNT" 2>/dev/null || true
    fi
    lib_remove_work "$W"
    lib_cleanup
}
trap cleanup EXIT

husk() { timeout "${HUSK_TIMEOUT:-600}" "$HUSK" "$@"; }

# ------------------------------------------------------------- helpers --

leftovers() { # DIR: fails when husk left temp files behind
    local found
    found=$(find "$1" -name '*.tmp-*' 2>/dev/null)
    if [ -n "$found" ]; then
        echo "temporary files left behind:"
        echo "$found"
        return 1
    fi
}

dir_empty() { # DIR
    local content
    content=$(ls -A "$1")
    if [ -n "$content" ]; then
        echo "output directory $1 is not empty:"
        ls -la "$1"
        return 1
    fi
}

# convert_ok OUT SOURCE [OPTIONS...]: exit 0, OUT exists, stdout names OUT,
# no temp files beside it.
convert_ok() {
    local out=$1 src=$2
    shift 2
    local dir so=$LIB_OUT_DIR/convert.stdout se=$LIB_OUT_DIR/convert.stderr
    local rc=0 printed
    dir=$(dirname "$out")
    mkdir -p "$dir"
    husk convert "$src" "$out" "$@" >"$so" 2>"$se" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "husk convert $src $out $* exited with status $rc"
        cat "$se" "$so"
        return 1
    fi
    if [ ! -f "$out" ]; then
        echo "exit 0 but no output file $out"
        return 1
    fi
    printed=$(tail -n 1 "$so")
    if [ "$printed" != "$out" ] && [ "$printed" != "$(realpath "$out")" ]; then
        echo "stdout should name the output path $out, got:"
        cat "$so"
        return 1
    fi
    leftovers "$dir"
}

# convert_quiet OUT SOURCE: like convert_ok with --quiet and empty stderr.
convert_quiet() {
    convert_ok "$1" "$2" --quiet || return 1
    if [ -s "$LIB_OUT_DIR/convert.stderr" ]; then
        echo "--quiet but stderr is not empty:"
        cat "$LIB_OUT_DIR/convert.stderr"
        return 1
    fi
}

# same_listing EXPECTED.txt IMAGE.sqsh: diff against sqfs_listing.py.
same_listing() {
    local want=$1 img=$2 got
    got=$LIB_OUT_DIR/listing.$$.txt
    if [ ! -f "$img" ]; then
        echo "no image $img (conversion failed earlier)"
        return 1
    fi
    "$PY" "$TOOLS/sqfs_listing.py" "$img" >"$got" || return 1
    if ! diff -u "$want" "$got" >"$LIB_OUT_DIR/listing.diff"; then
        echo "listing differs (--- expected, +++ squashfs):"
        head -n 80 "$LIB_OUT_DIR/listing.diff"
        return 1
    fi
}

# husk_meta_ok IMAGE: /.husk/config.json (valid JSON) and source.json.
husk_meta_ok() {
    local img=$1
    unsquashfs -lls "$img" .husk >"$LIB_OUT_DIR/husk.ls" 2>&1 || {
        cat "$LIB_OUT_DIR/husk.ls"; return 1; }
    local f
    for f in config.json source.json; do
        if ! grep -q "squashfs-root/.husk/$f\$" "$LIB_OUT_DIR/husk.ls"; then
            echo "/.husk/$f is missing:"
            cat "$LIB_OUT_DIR/husk.ls"
            return 1
        fi
    done
    unsquashfs -cat "$img" .husk/config.json >"$LIB_OUT_DIR/config.json"
    jq -e 'type == "object"' "$LIB_OUT_DIR/config.json" >/dev/null || {
        echo "/.husk/config.json is not a JSON object:"
        head -c 2000 "$LIB_OUT_DIR/config.json"
        return 1
    }
}

# jq_is FILE FILTER: FILTER (with $ARGS.named from extra --arg pairs) true.
jq_is() {
    local file=$1 filter=$2
    shift 2
    if [ ! -s "$file" ]; then
        echo "no JSON in $file (earlier step failed)"
        return 1
    fi
    if ! jq -e "$@" "$filter" "$file" >/dev/null; then
        echo "jq filter failed: $filter  $*"
        echo "document:"
        head -c 3000 "$file"
        echo
        return 1
    fi
}

inspect_json() { # IMAGE OUT.json
    local rc=0
    husk inspect "$1" --json >"$2" 2>"$LIB_OUT_DIR/inspect.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "husk inspect --json exited with status $rc"
        cat "$LIB_OUT_DIR/inspect.err"
        : >"$2"
        return 1
    fi
    jq -e . "$2" >/dev/null || { echo "not valid JSON:"; cat "$2"; return 1; }
}

# unsquashfs_reads IMAGE: `unsquashfs -lls` lists the whole image.
unsquashfs_reads() {
    if unsquashfs -lls "$1" >"$LIB_OUT_DIR/lls.txt" 2>&1 &&
        grep -q "squashfs-root/bin/busybox$" "$LIB_OUT_DIR/lls.txt" &&
        grep -q "squashfs-root/run/fifo$" "$LIB_OUT_DIR/lls.txt"; then
        return 0
    fi
    tail -n 20 "$LIB_OUT_DIR/lls.txt"
    if grep -q 'failed to read' "$LIB_OUT_DIR/lls.txt"; then
        echo "hint: unsquashfs (squashfs-tools 4.5) rejects a block stored compressed"
        echo "whose compressed size exceeds its uncompressed size (e.g. a 12-byte id"
        echo "table as 13 bytes of lz4); the kernel accepts it. mksquashfs stores"
        echo "such blocks uncompressed (bit 15 of the metadata header set)."
    fi
    return 1
}

sqfs_compressor() { # IMAGE NAME: unsquashfs -s reports compressor NAME
    unsquashfs -s "$1" >"$LIB_OUT_DIR/super.txt" 2>&1 || {
        cat "$LIB_OUT_DIR/super.txt"; return 1; }
    grep -qi "^Compression $2\$" "$LIB_OUT_DIR/super.txt" || {
        echo "expected compressor $2:"; cat "$LIB_OUT_DIR/super.txt"; return 1; }
}

same_file() { # A B
    if ! cmp -s "$1" "$2"; then
        sha256sum "$1" "$2" 2>&1
        return 1
    fi
}

# ------------------------------------------------------------ preflight --

echo "# husk: $HUSK"
echo "# work: $W"
if ! command -v "$HUSK" >/dev/null 2>&1; then
    lib_fail "husk binary found ($HUSK)"
    summary
    exit 1
fi
for tool in sqfs2tar unsquashfs jq zstd timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        lib_fail "required tool $tool is installed"
        summary
        exit 1
    fi
done

# ------------------------------------------------------------- fixtures --

mkdir -p "$W/fx" "$W/ref"
BB=$W/fx/busybox
MA=$W/fx/multi
BAD=$W/fx/bad
check "fixture: busybox layout + oci/docker archives" \
    sh -c '"$1" "$2/make-busybox-oci.py" "$3" --archive oci --archive docker >"$3.json"' \
    _ "$PY" "$FIX" "$BB"
check "fixture: multi-arch layout" \
    sh -c '"$1" "$2/make-busybox-oci.py" "$3" --multi-arch >"$3.json"' \
    _ "$PY" "$FIX" "$MA"
check "fixture: bad layouts" "$PY" "$FIX/make-bad-oci.py" "$BAD"
check "reference listing (busybox)" \
    sh -c '"$1" "$2" "$3" >"$4"' _ "$PY" "$TOOLS/reference_flatten.py" "$BB" "$W/ref/busybox.txt"
check "reference listing (multi-arch, linux/arm64)" \
    sh -c '"$1" "$2" --platform linux/arm64 "$3" >"$4"' \
    _ "$PY" "$TOOLS/reference_flatten.py" "$MA" "$W/ref/multi-arm64.txt"

info() { jq -r "$2" "$1.json"; }
MANIFEST=$(info "$BB" '.manifests["linux/amd64"].manifest' 2>/dev/null || true)
CONFIG=$(info "$BB" '.manifests["linux/amd64"].config' 2>/dev/null || true)
ARM_CONFIG=$(info "$MA" '.manifests["linux/arm64"].config' 2>/dev/null || true)
AMD_CONFIG_MA=$(info "$MA" '.manifests["linux/amd64"].config' 2>/dev/null || true)
REF=$W/ref/busybox.txt

# ---------------------------------------------------- oci layout basics --

O=$W/out
IMG=$O/layout/image.sqsh
check "convert oci:LAYOUT" convert_ok "$IMG" "oci:$BB"
check "oci:LAYOUT listing equals the reference flattener's" same_listing "$REF" "$IMG"
check "/.husk/config.json (valid JSON) and /.husk/source.json exist" husk_meta_ok "$IMG"
check "unsquashfs -lls reads the image" unsquashfs_reads "$IMG"
check "unsquashfs -cat reads a file" \
    sh -c 'test "$(unsquashfs -cat "$1" etc/os-release | tail -n 1)" = VERSION_ID=2' _ "$IMG"
check "convert oci:LAYOUT:latest" convert_ok "$O/tag/image.sqsh" "oci:$BB:latest"
check "oci:LAYOUT:latest listing" same_listing "$REF" "$O/tag/image.sqsh"
check "convert oci:LAYOUT@DIGEST" convert_ok "$O/digest/image.sqsh" "oci:$BB@$MANIFEST"
check "oci:LAYOUT@DIGEST listing" same_listing "$REF" "$O/digest/image.sqsh"
check "convert --quiet prints only the path" convert_quiet "$O/quiet/image.sqsh" "oci:$BB"

# ------------------------------------------------------------- archives --

check "convert oci-archive:FILE" convert_ok "$O/ociar/image.sqsh" "oci-archive:$BB.tar"
check "oci-archive listing equals the layout's" same_listing "$REF" "$O/ociar/image.sqsh"
check "convert oci-archive:FILE:latest" convert_ok "$O/ociar-tag/image.sqsh" "oci-archive:$BB.tar:latest"
check "oci-archive:FILE:latest listing" same_listing "$REF" "$O/ociar-tag/image.sqsh"
check "convert docker-archive:FILE" convert_ok "$O/docker/image.sqsh" "docker-archive:$BB.docker.tar"
check "docker-archive listing equals the layout's" same_listing "$REF" "$O/docker/image.sqsh"
check "convert docker-archive:FILE:busybox:test" \
    convert_ok "$O/docker-tag/image.sqsh" "docker-archive:$BB.docker.tar:busybox:test"
check "docker-archive:FILE:REPO:TAG listing" same_listing "$REF" "$O/docker-tag/image.sqsh"

# ------------------------------------------------------------ platforms --

check "convert multi-arch --platform linux/arm64" \
    convert_ok "$O/arm64/image.sqsh" "oci:$MA" --platform linux/arm64
check "linux/arm64 listing equals the reference's" same_listing "$W/ref/multi-arm64.txt" "$O/arm64/image.sqsh"
check "inspect linux/arm64 image" inspect_json "$O/arm64/image.sqsh" "$W/arm64.json"
check "inspect: platform is linux/arm64" jq_is "$W/arm64.json" '.platform == "linux/arm64"'
check "inspect: configDigest is the arm64 config" \
    jq_is "$W/arm64.json" '.configDigest == $c' --arg c "$ARM_CONFIG"
check "convert multi-arch --platform linux/amd64" \
    convert_ok "$O/amd64/image.sqsh" "oci:$MA" --platform linux/amd64
check "inspect linux/amd64 image" inspect_json "$O/amd64/image.sqsh" "$W/amd64.json"
check "inspect: configDigest is the amd64 config" \
    jq_is "$W/amd64.json" '.platform == "linux/amd64" and .configDigest == $c' --arg c "$AMD_CONFIG_MA"

# ---------------------------------------------- compression, block size --

for spec in gzip xz lz4 zstd:9; do
    name=${spec%%:*}
    out=$O/comp-$name/image.sqsh
    check "convert --compression $spec" convert_ok "$out" "oci:$BB" --compression "$spec"
    check "--compression $spec: unsquashfs -s shows $name" sqfs_compressor "$out" "$name"
    check "--compression $spec: listing" same_listing "$REF" "$out"
    check "--compression $spec: unsquashfs -lls reads it" unsquashfs_reads "$out"
    check "--compression $spec: inspect" inspect_json "$out" "$W/comp-$name.json"
    check "--compression $spec: inspect .compression" \
        jq_is "$W/comp-$name.json" '.compression | ascii_downcase | startswith($n)' --arg n "$name"
done
out=$O/bs/image.sqsh
check "convert --block-size 65536" convert_ok "$out" "oci:$BB" --block-size 65536
check "--block-size 65536: unsquashfs -s" \
    sh -c 'unsquashfs -s "$1" | grep -q "^Block size 65536$"' _ "$out"
check "--block-size 65536: listing" same_listing "$REF" "$out"
check "--block-size 65536: inspect" inspect_json "$out" "$W/bs.json"
check "--block-size 65536: inspect .blockSize" jq_is "$W/bs.json" '.blockSize == 65536'

# ------------------------------------------------------ reproducibility --

check "convert again (same source, same file name)" convert_ok "$O/again/image.sqsh" "oci:$BB"
check "reproducible: two conversions are byte-identical" same_file "$IMG" "$O/again/image.sqsh"
check "convert --jobs 1" convert_ok "$O/jobs1/image.sqsh" "oci:$BB" --jobs 1
check "convert --jobs 2" convert_ok "$O/jobs2/image.sqsh" "oci:$BB" --jobs 2
check "convert --jobs 3" convert_ok "$O/jobs3/image.sqsh" "oci:$BB" --jobs 3
check "reproducible: --jobs 1 == default" same_file "$IMG" "$O/jobs1/image.sqsh"
check "reproducible: --jobs 2 == --jobs 1" same_file "$O/jobs1/image.sqsh" "$O/jobs2/image.sqsh"
check "reproducible: --jobs 3 == --jobs 1" same_file "$O/jobs1/image.sqsh" "$O/jobs3/image.sqsh"
check "convert --compression xz again" convert_ok "$O/xz-again/image.sqsh" "oci:$BB" --compression xz
check "reproducible: xz output" same_file "$O/comp-xz/image.sqsh" "$O/xz-again/image.sqsh"

# ------------------------------------------------------------ squashfuse --

fuse_probe() { # prints a reason and fails when FUSE mounts are not possible
    if ! command -v squashfuse >/dev/null || ! command -v fusermount3 >/dev/null; then
        echo "squashfuse or fusermount3 not installed"; return 1
    fi
    if [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ]; then
        echo "/dev/fuse is not readable and writable by uid $(id -u)"; return 1
    fi
    local d=$W/fuse-probe err
    mkdir -p "$d/src" "$d/mnt"
    echo probe >"$d/src/probe"
    # A reference image from mksquashfs tells FUSE problems from husk ones.
    if ! mksquashfs "$d/src" "$d/probe.sqsh" -quiet -noappend >/dev/null 2>&1; then
        echo "mksquashfs not usable for the FUSE probe"; return 1
    fi
    if ! err=$(squashfuse "$d/probe.sqsh" "$d/mnt" 2>&1); then
        echo "squashfuse cannot mount here: $err"; return 1
    fi
    fusermount3 -u "$d/mnt"
}

fuse_cat() { # IMAGE
    MNT=$W/mnt
    mkdir -p "$MNT"
    squashfuse "$1" "$MNT" || return 1
    local rc=0
    {
        grep -qx VERSION_ID=2 "$MNT/etc/os-release" &&
            [ "$(cat "$MNT/home/user/owned.txt")" = "owned by 1000:1000" ] &&
            [ -p "$MNT/run/fifo" ] && [ -L "$MNT/usr/lib64" ] &&
            [ ! -e "$MNT/etc/removed-later" ] &&
            [ "$("$MNT/bin/busybox" cat "$MNT/etc/hostname")" = husk-busybox ]
    } || rc=$?
    [ "$rc" -eq 0 ] || { echo "unexpected content under the mount:"; ls -la "$MNT" "$MNT/etc"; }
    fusermount3 -u "$MNT" || rc=1
    MNT=""
    return "$rc"
}

if reason=$(fuse_probe); then
    check "squashfuse mounts the image; cat reads files; fusermount3 -u" fuse_cat "$IMG"
else
    skip "squashfuse mount" "$reason"
fi

# --------------------------------------------------------------- inspect --

J=$W/inspect.json
check "husk inspect (text)" sh -c 'timeout 600 "$1" inspect "$2" | grep -q .' _ "$HUSK" "$IMG"
check "husk inspect --json" inspect_json "$IMG" "$J"
check "inspect: has every documented key" jq_is "$J" \
    '[ "source","manifestDigest","configDigest","layers","platform","entrypoint","cmd","env","workingDir","labels","size","compression","blockSize" ] - keys == []'
check "inspect: source names the layout" jq_is "$J" '.source | type == "string" and contains($b)' --arg b "$(basename "$BB")"
check "inspect: manifestDigest" jq_is "$J" '.manifestDigest == $m' --arg m "$MANIFEST"
check "inspect: configDigest" jq_is "$J" '.configDigest == $c' --arg c "$CONFIG"
check "inspect: layers are the manifest's layer digests (or diff_ids)" jq_is "$J" \
    '.layers == $l or .layers == $d' \
    --argjson l "$(jq -c .layers "$BB.json" 2>/dev/null || echo null)" \
    --argjson d "$(jq -c .diff_ids "$BB.json" 2>/dev/null || echo null)"
check "inspect: platform linux/amd64" jq_is "$J" '.platform == "linux/amd64"'
check "inspect: entrypoint" jq_is "$J" '.entrypoint == ["/bin/sh","-c"]'
check "inspect: cmd" jq_is "$J" '.cmd == ["echo hello"]'
check "inspect: env" jq_is "$J" \
    '.env | if type == "array" then (index("HUSK_FIXTURE=busybox") != null and any(.[]; startswith("PATH=")))
           else (.HUSK_FIXTURE == "busybox" and has("PATH")) end'
check "inspect: workingDir" jq_is "$J" '.workingDir == "/home/user"'
check "inspect: labels" jq_is "$J" \
    '.labels == {"com.example.fixture":"busybox","org.opencontainers.image.title":"husk-busybox"}'
check "inspect: size is a positive number" jq_is "$J" '(.size | type == "number") and .size > 0'
check "inspect: compression is a string" jq_is "$J" '.compression | type == "string" and length > 0'
check "inspect: blockSize is a power of two" jq_is "$J" \
    '.blockSize as $b | ($b | type == "number") and any(range(12; 21); pow(2; .) == $b)'
check "inspect docker-archive image" inspect_json "$O/docker/image.sqsh" "$W/docker.json"
check "inspect docker-archive: same configDigest as the layout" \
    jq_is "$W/docker.json" '.configDigest == $c' --arg c "$CONFIG"

# ---------------------------------------------------------------- errors --

bad_convert() { # NAME KEYWORD SOURCE [OPTIONS...]
    local name=$1 keyword=$2 src=$3
    shift 3
    local dir=$W/bad-out/$name
    mkdir -p "$dir"
    check_fails "rejects $name ('$keyword')" "$keyword" husk convert "$src" "$dir/image.sqsh" "$@"
    check "$name: nothing left in the output directory" dir_empty "$dir"
}

if [ -f "$BAD/cases.tsv" ]; then
    while IFS=$'\t' read -r case keyword; do
        bad_convert "$case" "$keyword" "oci:$BAD/$case"
    done <"$BAD/cases.tsv"
fi
bad_convert missing-layout "no such" "oci:$W/does-not-exist"
bad_convert missing-oci-archive "no such" "oci-archive:$W/does-not-exist.tar"
bad_convert missing-docker-archive "no such" "docker-archive:$W/does-not-exist.tar"
bad_convert unknown-platform "no manifest for platform" "oci:$BB" --platform linux/riscv64

if [ "$(id -u)" -eq 0 ]; then
    skip "unwritable output directory" "running as root: directory modes are not enforced"
else
    RO=$W/bad-out/readonly
    mkdir -p "$RO"
    chmod 0555 "$RO"
    check_fails "rejects an unwritable output directory ('cannot write')" "cannot write" \
        husk convert "oci:$BB" "$RO/image.sqsh"
    check "unwritable output directory: nothing left" dir_empty "$RO"
    chmod 0755 "$RO"
fi

# ---------------------------------------------------------------- debian --

debian_doc_only() { # IMAGE
    local got
    "$PY" "$TOOLS/sqfs_listing.py" "$1" >"$LIB_OUT_DIR/debian.txt" || return 1
    got=$(awk 'index($1, "/usr/share/doc/") == 1 { print $1 }' "$LIB_OUT_DIR/debian.txt")
    if [ "$got" != /usr/share/doc/README.husk ]; then
        echo "/usr/share/doc should hold only README.husk, found:"
        echo "$got" | head -n 40
        return 1
    fi
}

if [ -n "${HUSK_DEBIAN_OCI:-}" ]; then
    D=$HUSK_DEBIAN_OCI
    DREF=$W/ref/debian.txt
    DIMG=$O/debian/image.sqsh
    check "debian: layout exists ($D)" test -f "$D/index.json"
    check "debian: reference listing" \
        sh -c '"$1" "$2" "$3" >"$4"' _ "$PY" "$TOOLS/reference_flatten.py" "$D" "$DREF"
    start=$(date +%s)
    check "debian: convert" convert_ok "$DIMG" "oci:$D"
    echo "# debian conversion took $(($(date +%s) - start)) s, $(stat -c %s "$DIMG" 2>/dev/null || echo '?') bytes"
    check "debian: listing equals the reference flattener's" same_listing "$DREF" "$DIMG"
    check "debian: /usr/bin/python3 exists" grep -q '^/usr/bin/python3 ' "$DREF"
    check "debian: /usr/bin/python3 exists in the image" \
        sh -c 'unsquashfs -lls "$1" usr/bin/python3 | grep -Eq "squashfs-root/usr/bin/python3( |\$)"' _ "$DIMG"
    check "debian: /usr/share/doc holds only the top layer's README.husk" debian_doc_only "$DIMG"
    check "debian: /etc/husk-test from the top layer" \
        sh -c 'unsquashfs -cat "$1" etc/husk-test | grep -q .' _ "$DIMG"
    for sig in INT:130 TERM:143; do
        name=${sig%%:*} code=${sig##*:}
        mkdir -p "$O/interrupt-$name"
        check "debian: SIG$name during convert exits $code and leaves nothing" sh -c '
            "$1" convert -q "oci:$2" "$3/image.sqsh" >/dev/null 2>&1 & pid=$!
            sleep 0.3; kill -s "$4" "$pid"; wait "$pid"; s=$?
            [ "$s" -eq "$5" ] || { echo "exit status $s"; exit 1; }
            [ -z "$(ls -A "$3")" ] || { ls -la "$3"; exit 1; }' _ "$HUSK" "$D" "$O/interrupt-$name" "$name" "$code"
    done
else
    skip "debian image" "HUSK_DEBIAN_OCI is not set"
fi

summary
