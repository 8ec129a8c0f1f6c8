#!/usr/bin/env bash
# End-to-end tests of `husk pull`, `push`, `login`/`logout`, `cache` and
# docker:// references in `run`/`exec`/`env`, against real local registries.
#
# Usage: [HUSK=/path/to/husk] Integration/test-registry.sh
#
#   HUSK          husk binary (default: husk on PATH; husk-starter beside it)
#   HUSK_TIMEOUT  seconds allowed per husk invocation (default 600)
#   KEEP_WORK=1   keep the temporary work directory (path is printed)
#
# Starts three docker-registry instances and a token server on 127.0.0.1
# with registry/start-registries.sh (plain HTTP; HTTPS with a test CA and
# Basic auth; Bearer tokens) and stops them at exit. Runs as an unprivileged
# user; HOME, XDG_CONFIG_HOME and HUSK_CACHEDIR point into the work
# directory, so nothing touches the real home. Needs docker-registry,
# skopeo, openssl, htpasswd (apache2-utils), jq, /usr/bin/python3 and
# /bin/busybox (busybox-static); without docker-registry or skopeo
# everything is skipped. The last line is "N passed, N failed[, N skipped]";
# exit status is non-zero when anything failed.
# Single-quoted sh -c scripts and jq filters are meant not to expand here.
# shellcheck disable=SC2016
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=registry/start-registries.sh
. "$HERE/registry/start-registries.sh"

PY=/usr/bin/python3
HUSK=${HUSK:-husk}
FIX=$HERE/fixtures
W=$(mktemp -d "${TMPDIR:-/tmp}/husk-registry.XXXXXX")
REGW=$W/registries
BG_PIDS=()

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    stop_registries "$REGW" 2>/dev/null || true
    lib_remove_work "$W"
    lib_cleanup
}
trap cleanup EXIT

husk() { timeout "${HUSK_TIMEOUT:-600}" "$HUSK" "$@"; }

# ------------------------------------------------------------ preflight --

echo "# husk: $HUSK"
echo "# work: $W"
missing=()
for tool in docker-registry skopeo; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    skip "husk pull/push/login against local registries" "${missing[*]} not installed (Scripts/install-deps)"
    summary
    exit 0
fi
if ! command -v "$HUSK" >/dev/null 2>&1; then
    lib_fail "husk binary found ($HUSK)"
    summary
    exit 1
fi
for tool in openssl htpasswd jq sha256sum timeout base64 "$PY"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        lib_fail "required tool $tool is installed"
        summary
        exit 1
    fi
done
for cmd in pull push login logout cache; do
    if ! "$HUSK" "$cmd" --help >/dev/null 2>&1; then
        lib_fail "husk has the $cmd command"
        summary
        exit 1
    fi
done

# Nothing of the real user's: credentials, certificates, caches, proxies.
mkdir -p "$W/home" "$W/config" "$W/xdg-cache"
export HOME=$W/home XDG_CONFIG_HOME=$W/config XDG_CACHE_HOME=$W/xdg-cache
export HUSK_CACHEDIR=$W/cache
unset DOCKER_CONFIG REGISTRY_AUTH_FILE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
AUTH_JSON=$XDG_CONFIG_HOME/husk/auth.json

# ------------------------------------------------------------- helpers --

is_digest() { [[ $1 =~ ^sha256:[0-9a-f]{64}$ ]]; }

# husk_last_line VAR CHECK WHAT CMD...: `husk CMD` exits 0 and its last stdout
# line passes CHECK (a function); that line is stored in VAR.
husk_last_line() {
    local var=$1 check=$2 what=$3 rc=0 last
    shift 3
    local so=$LIB_OUT_DIR/husk.stdout se=$LIB_OUT_DIR/husk.stderr
    husk "$@" >"$so" 2>"$se" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "husk $* exited with status $rc"
        cat "$se" "$so"
        return 1
    fi
    last=$(tail -n 1 "$so")
    if ! "$check" "$last"; then
        echo "the last stdout line should be $what, got:"
        cat "$so"
        return 1
    fi
    printf -v "$var" %s "$last"
}
is_file() { [ -n "$1" ] && [ -f "$1" ]; }

# push_ok VAR SOURCE REF [OPTIONS...]: `husk push OPTIONS SOURCE REF` exits 0
# and its last stdout line is a sha256 digest, stored in VAR.
push_ok() {
    local var=$1 src=$2 ref=$3
    shift 3
    husk_last_line "$var" is_digest "the pushed manifest digest" push "$@" "$src" "$ref"
}

# pull_ok VAR ARGS...: `husk pull ARGS` exits 0, its last stdout line is an
# existing file (stored in VAR), and no temporary files are left in the cache.
pull_ok() {
    local var=$1
    shift
    husk_last_line "$var" is_file "the image file" pull "$@" && no_leftovers "$HUSK_CACHEDIR"
}

# pull_blobs_ok VAR ARGS...: `husk pull --blobs-only ARGS` exits 0 and prints
# the manifest digest (stored in VAR).
pull_blobs_ok() {
    local var=$1
    shift
    husk_last_line "$var" is_digest "the manifest digest" pull --blobs-only "$@"
}

same() { # WHAT EXPECTED ACTUAL
    [ -n "$2" ] && [ "$2" = "$3" ] && return 0
    echo "$1: expected [$2], got [$3]"
    return 1
}

out_is() { # EXPECTED CMD...: the command's stdout is EXPECTED
    local want=$1 got rc=0
    shift
    got=$("$@") || rc=$?
    [ "$rc" -eq 0 ] || { echo "exit status $rc"; return 1; }
    same "stdout" "$want" "$got"
}

sha_of() { sha256sum <"$1" | cut -c1-64; }

# same_image A.sqsh B.sqsh: the same files (tools/sqfs_listing.py) and the
# same `husk inspect --json` but for path, source reference and size (the
# source reference is stored in /.husk/source.json).
same_image() {
    local a=$1 b=$2
    [ -f "$a" ] || { echo "missing $a"; return 1; }
    [ -f "$b" ] || { echo "missing $b"; return 1; }
    "$PY" "$HERE/tools/sqfs_listing.py" "$a" >"$LIB_OUT_DIR/a.list" || return 1
    "$PY" "$HERE/tools/sqfs_listing.py" "$b" >"$LIB_OUT_DIR/b.list" || return 1
    if ! diff -u "$LIB_OUT_DIR/a.list" "$LIB_OUT_DIR/b.list" >"$LIB_OUT_DIR/ab.diff"; then
        echo "the files differ (--- $a, +++ $b):"
        head -n 40 "$LIB_OUT_DIR/ab.diff"
        return 1
    fi
    "$HUSK" inspect --json "$a" | jq -S 'del(.path, .source, .size)' >"$LIB_OUT_DIR/a.json" || return 1
    "$HUSK" inspect --json "$b" | jq -S 'del(.path, .source, .size)' >"$LIB_OUT_DIR/b.json" || return 1
    diff -u "$LIB_OUT_DIR/a.json" "$LIB_OUT_DIR/b.json"
}

# blobs_verified CACHE [DIGEST...]: every file in CACHE/blobs/sha256 is named
# by 64 hex digits that are its sha256, and each DIGEST is there.
blobs_verified() {
    local dir=$1/blobs/sha256 f name sum bad=0 n=0 d
    shift
    [ -d "$dir" ] || { echo "no directory $dir"; return 1; }
    for f in "$dir"/* "$dir"/.[!.]*; do
        [ -e "$f" ] || continue
        name=${f##*/}
        if ! [[ $name =~ ^[0-9a-f]{64}$ ]]; then
            echo "unexpected file in the blob cache: $f"
            bad=1
            continue
        fi
        sum=$(sha_of "$f")
        [ "$sum" = "$name" ] || { echo "$f: sha256 is $sum"; bad=1; }
        n=$((n + 1))
    done
    for d in "$@"; do
        [ -f "$dir/${d#sha256:}" ] || { echo "blob $d is not in the cache"; bad=1; }
    done
    [ "$n" -gt 0 ] || { echo "no blobs in $dir"; bad=1; }
    return "$bad"
}

no_leftovers() { # CACHE: no partial downloads or temporary files
    local found
    found=$(find "$1" \( -name '*.partial' -o -name '*.tmp' -o -name '*.tmp-*' -o -name '*.tmp.*' \) 2>/dev/null)
    [ -z "$found" ] && return 0
    echo "left behind in the cache:"
    echo "$found"
    return 1
}

# The registries' access logs have one line per request, Apache combined:
#   127.0.0.1 - - [DATE] "GET /v2/REPO/blobs/sha256:HEX HTTP/1.1" 200 SIZE "" "UA"
log_lines() { wc -l <"$1"; }
requests_since() { # LOG FROM_LINE METHOD PATH: how many METHOD PATH requests after line FROM_LINE
    tail -n +"$(($2 + 1))" "$1" | grep -cF "\"$3 $4 HTTP/" || true
}
statuses_since() { # LOG FROM_LINE METHOD PATH: their statuses, one per line
    tail -n +"$(($2 + 1))" "$1" | grep -F "\"$3 $4 HTTP/" | sed -E 's/.*" ([0-9]{3}) .*/\1/' || true
}
# blob_gets_once LOG FROM_LINE REPO DIGEST...: each blob was fetched with
# exactly one GET (HEADs are not counted).
blob_gets_once() {
    local log=$1 from=$2 repo=$3 d n bad=0
    shift 3
    sleep 0.5 # the access log line is written after the response is sent
    for d in "$@"; do
        n=$(requests_since "$log" "$from" GET "/v2/$repo/blobs/$d")
        [ "$n" -eq 1 ] || { echo "GET /v2/$repo/blobs/$d: $n requests, expected 1"; bad=1; }
    done
    return "$bad"
}
no_blob_gets() { # LOG FROM_LINE REPO
    sleep 0.5
    local n
    n=$(tail -n +"$(($2 + 1))" "$1" | grep -cF "\"GET /v2/$3/blobs/" || true)
    [ "$n" -eq 0 ] || { echo "$n blob GETs, expected none:"; tail -n +"$(($2 + 1))" "$1"; return 1; }
}

login() { # PASSWORD REGISTRY [OPTIONS...]
    local pass=$1 reg=$2
    shift 2
    printf '%s\n' "$pass" | husk login --username "$REG_USER" --password-stdin "$@" "$reg"
}

no_auth_entry() { # REGISTRY: auth.json has no credentials for it
    [ -f "$AUTH_JSON" ] || return 0
    jq -e --arg r "$1" '(.auths // {})[$r] == null' "$AUTH_JSON" >/dev/null && return 0
    echo "$AUTH_JSON still has an entry for $1:"
    cat "$AUTH_JSON"
    return 1
}

auth_json_ok() { # REGISTRY
    local mode auth
    [ -f "$AUTH_JSON" ] || { echo "no $AUTH_JSON"; return 1; }
    mode=$(stat -c %a "$AUTH_JSON")
    [ "$mode" = 600 ] || { echo "$AUTH_JSON has mode $mode, expected 600"; return 1; }
    if grep -qF "$REG_PASS" "$AUTH_JSON"; then
        echo "$AUTH_JSON contains the password in plain text"
        return 1
    fi
    auth=$(jq -r --arg r "$1" '.auths[$r].auth // empty' "$AUTH_JSON")
    [ -n "$auth" ] || { echo "no .auths[\"$1\"].auth in:"; cat "$AUTH_JSON"; return 1; }
    same "base64-decoded auth" "$REG_USER:$REG_PASS" "$(printf %s "$auth" | base64 -d)"
}

docker_config() { # DIR REGISTRY: DIR/config.json with Docker-style credentials
    mkdir -p "$1"
    jq -n --arg r "$2" --arg a "$(printf %s "$REG_USER:$REG_PASS" | base64 -w0)" \
        '{auths: {($r): {auth: $a}}}' >"$1/config.json"
    chmod 600 "$1/config.json"
}

token_requests_since() { tail -n +"$(($1 + 1))" "$TOKEN_REQUESTS"; }

# ------------------------------------------------------------- fixtures --

BB=$W/fx/busybox
MA=$W/fx/multi
BIG=$W/fx/big
mkdir -p "$W/fx"
check "fixture: busybox layout + oci/docker archives" \
    sh -c '"$1" "$2/make-busybox-oci.py" "$3" --archive oci --archive docker >"$3.json"' _ "$PY" "$FIX" "$BB"
check "fixture: multi-arch busybox layout" \
    sh -c '"$1" "$2/make-busybox-oci.py" "$3" --multi-arch >"$3.json"' _ "$PY" "$FIX" "$MA"
check "fixture: layout with a 64 MiB layer" \
    sh -c '"$1" "$2/make-big-oci.py" "$3" --size 64 >"$3.json"' _ "$PY" "$FIX" "$BIG"
BB_MANIFEST=$(jq -r '.manifests["linux/amd64"].manifest' "$BB.json" 2>/dev/null || true)
BB_CONFIG=$(jq -r '.manifests["linux/amd64"].config' "$BB.json" 2>/dev/null || true)
mapfile -t BB_LAYERS < <(jq -r '.layers[]' "$BB.json" 2>/dev/null || true)
MA_ARM64=$(jq -r '.manifests["linux/arm64"].manifest' "$MA.json" 2>/dev/null || true)
MA_AMD64=$(jq -r '.manifests["linux/amd64"].manifest' "$MA.json" 2>/dev/null || true)
BIG_MANIFEST=$(jq -r '.manifest' "$BIG.json" 2>/dev/null || true)
mapfile -t BIG_LAYERS < <(jq -r '.layers[]' "$BIG.json" 2>/dev/null || true)
BIG_CONFIG=$(jq -r '.config' "$BIG.json" 2>/dev/null || true)
BIG_SIZE=$(jq -r '.big_layer_size' "$BIG.json" 2>/dev/null || echo 0)
check "fixture: husk convert of the busybox layout (for the .sqsh artifact)" \
    sh -c '"$1" convert -q "oci:$2" "$3" >/dev/null' _ "$HUSK" "$BB" "$W/fx/busybox.sqsh"

if ! start_registries "$REGW" >"$W/start-registries.log" 2>&1; then
    lib_fail "local registries start (plain, TLS + Basic, Bearer token)"
    lib_show "$W/start-registries.log" output
    summary
    exit 1
fi
lib_pass "local registries start: plain $PLAIN, TLS $TLS, token $TOKEN"
mkdir -p "$W/skopeo-certs"
cp "$CA_CERT" "$W/skopeo-certs/ca.crt"

# Results of earlier steps, used by later ones (empty when a step failed).
PUSHED="" PULLED="" D="" P=""

# ----------------------------------------- a. push and pull, plain HTTP --

R=$PLAIN/test/busybox
check "push: oci layout to the plain registry (--insecure) prints the manifest digest" \
    push_ok PUSHED "oci:$BB" "docker://$R:1" --insecure
check "push: the layout's manifest is pushed as it is (same digest)" same "pushed digest" "$BB_MANIFEST" "$PUSHED"
check "push: skopeo inspect sees the digest husk printed" \
    sh -c 'd=$(skopeo inspect --tls-verify=false "docker://$1" | jq -r .Digest) && [ "$d" = "$2" ] ||
        { echo "skopeo: [$d], husk: [$2]"; exit 1; }' _ "$R:1" "$PUSHED"
check "push: a second push of the same image succeeds (blobs already there)" \
    push_ok D "oci:$BB" "docker://$R:1" --insecure --jobs 1
check "push: another tag in the same repository" push_ok D "oci:$BB:latest" "docker://$R:2" --insecure

line=$(log_lines "$PLAIN_ACCESS_LOG")
check "pull: docker:// into the cache, prints the cache path" \
    pull_ok PULLED --insecure --jobs 4 "docker://$R:1"
check "pull: the cache path is \$HUSK_CACHEDIR/images/<manifest hex>.sqsh" \
    same "path" "$HUSK_CACHEDIR/images/${PUSHED#sha256:}.sqsh" "$PULLED"
check "pull: every blob was fetched once" \
    blob_gets_once "$PLAIN_ACCESS_LOG" "$line" test/busybox "$BB_CONFIG" "${BB_LAYERS[@]}"
check "pull: husk inspect shows the registry's manifest digest" \
    sh -c 'd=$("$1" inspect --json "$2" | jq -r .manifestDigest) && [ "$d" = "$3" ] ||
        { echo "inspect: [$d], expected [$3]"; exit 1; }' _ "$HUSK" "$PULLED" "$PUSHED"
check "pull: husk inspect shows the layers" \
    sh -c 'l=$("$1" inspect --json "$2" | jq -r ".layers[]") && [ "$l" = "$3" ] ||
        { echo "inspect: [$l], expected [$3]"; exit 1; }' _ "$HUSK" "$PULLED" "$(printf '%s\n' "${BB_LAYERS[@]}")"
check "pull: the image equals husk convert of the layout" same_image "$PULLED" "$W/fx/busybox.sqsh"
check "pull: exec of the pulled file" husk exec "$PULLED" /bin/busybox true
check "pull: blobs in the cache are verified" blobs_verified "$HUSK_CACHEDIR" "$BB_CONFIG" "${BB_LAYERS[@]}"
mkdir -p "$W/out"
check "pull OUTPUT.sqsh: prints OUTPUT, same bytes as the cached image" \
    sh -c 'p=$("$1" pull --insecure "docker://$2" "$3" | tail -n 1) && [ "$p" = "$3" ] && cmp "$3" "$4"' \
    _ "$HUSK" "$R:1" "$W/out/busybox.sqsh" "$PULLED"
check "pull -q: nothing on stderr, the path on stdout" \
    sh -c 'p=$("$1" pull -q --insecure "docker://$2" 2>"$3") && [ "$p" = "$4" ] && [ ! -s "$3" ] ||
        { echo "stdout [$p]"; cat "$3"; exit 1; }' _ "$HUSK" "$R:1" "$W/quiet.err" "$PULLED"
check "pull by digest (docker://REPO@sha256:...)" pull_ok P --insecure "docker://$R@$PUSHED"
check "pull by digest gives the same file" same "path" "$PULLED" "$P"

check "exec docker://REF: busybox echo hi" out_is hi husk exec --insecure "docker://$R:1" busybox echo hi
check "run docker://REF: Entrypoint + Cmd" out_is hello husk run --insecure "docker://$R:1"
# An instance keeps the image it was started from: joining an instance of
# a docker:// image needs no registry client (husk has none; husk-full has).
check "exec instance://NAME of a docker:// instance, without husk-full: busybox echo hi" \
    sh -c '"$1" instance start --insecure "docker://$2" regi "sleep 300" >/dev/null || exit 1
        out=$(HUSK_FULL=/bin/false "$1" exec instance://regi busybox echo hi); "$1" instance stop regi >/dev/null
        [ "$out" = hi ] || { echo "output [$out]"; exit 1; }' _ "$HUSK" "$R:1"
check "env docker://REF: the image's variables" \
    sh -c '"$1" env --insecure "docker://$2" | grep -qx HUSK_FIXTURE=busybox' _ "$HUSK" "$R:1"
line=$(log_lines "$PLAIN_ACCESS_LOG")
check "exec --pull missing: a cached image is reused (no blob downloads)" \
    husk exec --pull missing --insecure "docker://$R:1" true
check "exec --pull missing: no blob GETs" no_blob_gets "$PLAIN_ACCESS_LOG" "$line" test/busybox
line=$(log_lines "$PLAIN_ACCESS_LOG")
check "exec --pull never: a cached image runs" husk exec --pull never --insecure "docker://$R:1" true
check "exec --pull never: no request to the registry" \
    sh -c 'sleep 0.5; n=$(tail -n +"$(($2 + 1))" "$1" | grep -c "/v2/test/busybox/" || true); [ "$n" -eq 0 ] ||
        { echo "$n requests"; exit 1; }' _ "$PLAIN_ACCESS_LOG" "$line"
line=$(log_lines "$PLAIN_ACCESS_LOG")
check "exec --pull always: runs" husk exec --pull always --insecure "docker://$R:1" true
check "exec --pull always: asks the registry for the manifest" \
    sh -c 'sleep 0.5; n=$(tail -n +"$(($2 + 1))" "$1" | grep -cE "\"(GET|HEAD) /v2/test/busybox/manifests/1 " || true); [ "$n" -ge 1 ] ||
        { echo "no manifest request"; exit 1; }' _ "$PLAIN_ACCESS_LOG" "$line"
check "exec --pull always: the unchanged image is not downloaded again" \
    no_blob_gets "$PLAIN_ACCESS_LOG" "$line" test/busybox
# The converted image is all a container needs: with the layer blobs gone
# from the cache, the image is still reused and nothing is fetched.
for layer in "${BB_LAYERS[@]}"; do rm -f "$HUSK_CACHEDIR/blobs/sha256/${layer#sha256:}"; done
line=$(log_lines "$PLAIN_ACCESS_LOG")
check "exec --pull always without the layer blobs in the cache: runs" \
    husk exec --pull always --insecure "docker://$R:1" true
check "exec --pull missing without the layer blobs in the cache: runs" husk exec --pull missing "docker://$R:1" true
check "without the layer blobs: still no blob downloads (the converted image is reused)" \
    no_blob_gets "$PLAIN_ACCESS_LOG" "$line" test/busybox

check "push oci-archive:FILE" push_ok D "oci-archive:$BB.tar" "docker://$PLAIN/test/ociarchive:1" --insecure
check "push oci-archive:FILE: runs from the registry" \
    out_is hi husk exec --insecure "docker://$PLAIN/test/ociarchive:1" busybox echo hi
check "push docker-archive:FILE" push_ok D "docker-archive:$BB.docker.tar" "docker://$PLAIN/test/dockerarchive:1" --insecure
check "push docker-archive:FILE: skopeo inspect reads it" \
    skopeo inspect --tls-verify=false "docker://$PLAIN/test/dockerarchive:1"
check "push docker-archive:FILE: runs from the registry" \
    out_is hi husk exec --insecure "docker://$PLAIN/test/dockerarchive:1" busybox echo hi

# skopeo copy --all oci:DIR:TAG copies the manifest the tag names, not the
# layout's index: registry/push-layout.py pushes the index itself.
check "fixture: the multi-arch index pushed with registry/push-layout.py" \
    "$PY" "$HERE/registry/push-layout.py" "$MA" "$PLAIN/test/multi:1"
check "pull --platform linux/arm64 picks the arm64 manifest" \
    sh -c 'd=$("$1" pull -q --insecure --blobs-only --platform linux/arm64 "docker://$2" | tail -n 1) &&
        [ "$d" = "$3" ] || { echo "got [$d], expected [$3]"; exit 1; }' _ "$HUSK" "$PLAIN/test/multi:1" "$MA_ARM64"
if [ "$(uname -m)" = x86_64 ]; then
    check "pull without --platform picks the host's (linux/amd64)" \
        sh -c 'd=$("$1" pull -q --insecure --blobs-only "docker://$2" | tail -n 1) &&
            [ "$d" = "$3" ] || { echo "got [$d], expected [$3]"; exit 1; }' _ "$HUSK" "$PLAIN/test/multi:1" "$MA_AMD64"
else
    skip "pull without --platform picks the host's (linux/amd64)" "host is $(uname -m)"
fi

# -------------------------------------------- b. an independent client --

check "fixture: skopeo pushes the busybox layout to test/skopeo:1" \
    skopeo copy -q --dest-tls-verify=false "oci:$BB:latest" "docker://$PLAIN/test/skopeo:1"
SKOPEO_DIGEST=$(skopeo inspect --tls-verify=false "docker://$PLAIN/test/skopeo:1" 2>/dev/null | jq -r .Digest || true)
check "pull of skopeo's push" pull_ok P --insecure "docker://$PLAIN/test/skopeo:1"
check "pull of skopeo's push: inspect shows skopeo's manifest digest" \
    sh -c 'd=$("$1" inspect --json "$2" | jq -r .manifestDigest) && [ "$d" = "$3" ] ||
        { echo "inspect: [$d], skopeo: [$3]"; exit 1; }' _ "$HUSK" "$P" "$SKOPEO_DIGEST"
check "exec of skopeo's push" out_is hi husk exec --insecure "docker://$PLAIN/test/skopeo:1" busybox echo hi
check "skopeo inspect --raw of husk's push: the layout's manifest bytes" \
    sh -c 'skopeo inspect --raw --tls-verify=false "docker://$1" >"$2" && cmp "$2" "$3"' \
    _ "$PLAIN/test/busybox:1" "$W/husk-pushed.json" "$BB/blobs/sha256/${BB_MANIFEST#sha256:}"
check "skopeo copy of husk's push to an OCI layout" \
    skopeo copy -q --preserve-digests --src-tls-verify=false "docker://$PLAIN/test/busybox:1" "oci:$W/skopeo-back:1"
check "skopeo's copy of husk's push converts to the same image" \
    sh -c '"$1" convert -q "oci:$2:1" "$3" >/dev/null' _ "$HUSK" "$W/skopeo-back" "$W/skopeo-back.sqsh"
check "skopeo's copy of husk's push: the same image as the layout's" \
    same_image "$W/skopeo-back.sqsh" "$W/fx/busybox.sqsh"
check "skopeo copy of husk's docker-archive push (registry to registry)" \
    skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$PLAIN/test/dockerarchive:1" "docker://$PLAIN/test/copied:1"

# ------------------------------------------------- c. TLS + Basic auth --

R=$TLS/test/busybox
check_fails "login: a wrong password fails: 'login failed for HOST:PORT: unauthorized'" \
    "login failed for $TLS: unauthorized" login wrong-password "$TLS" --ca-cert "$CA_CERT"
check "login: nothing is stored after a failed login" no_auth_entry "$TLS"
check "login --username --password-stdin --ca-cert: succeeds" login "$REG_PASS" "$TLS" --ca-cert "$CA_CERT"
check "login: auth.json is mode 600, Docker's format, no plain-text password" auth_json_ok "$TLS"
check "push via TLS + Basic auth (--ca-cert, stored credentials)" \
    push_ok D "oci:$BB" "docker://$R:1" --ca-cert "$CA_CERT"
check "push via TLS: skopeo sees it (same digest)" \
    sh -c 'd=$(skopeo inspect --cert-dir "$1" --creds "$2" "docker://$3" | jq -r .Digest) && [ "$d" = "$4" ] ||
        { echo "skopeo: [$d], husk: [$4]"; exit 1; }' _ "$W/skopeo-certs" "$REG_USER:$REG_PASS" "$R:1" "$D"
HUSK_CACHEDIR=$W/cache-tls check "pull via TLS + Basic auth (--ca-cert)" pull_ok P --ca-cert "$CA_CERT" "docker://$R:1"
HUSK_CACHEDIR=$W/cache-tls check "exec docker:// via TLS (--ca-cert)" \
    out_is hi husk exec --ca-cert "$CA_CERT" "docker://$R:1" busybox echo hi
HUSK_CACHEDIR=$W/cache-tls-noca check_fails "pull via TLS without the CA fails naming --ca-cert" \
    "--ca-cert" husk pull "docker://$R:1"
mkdir -p "$XDG_CONFIG_HOME/husk/certs.d/$TLS"
cp "$CA_CERT" "$XDG_CONFIG_HOME/husk/certs.d/$TLS/ca.crt"
HUSK_CACHEDIR=$W/cache-tls-certsd check "pull via TLS with \$XDG_CONFIG_HOME/husk/certs.d/HOST:PORT/ca.crt" \
    pull_ok P "docker://$R:1"
rm -rf "$XDG_CONFIG_HOME/husk/certs.d"
check "login --insecure to an HTTPS-only registry is not plain HTTP: fails" \
    sh -c '! printf "%s\n" "$4" | "$1" login --username "$3" --password-stdin --insecure "$2" >/dev/null 2>&1' \
    _ "$HUSK" "$TLS" "$REG_USER" "$REG_PASS"
check "logout removes the credentials" husk logout "$TLS"
check "logout: auth.json has no entry for the registry" no_auth_entry "$TLS"
HUSK_CACHEDIR=$W/cache-tls-noauth check_fails_like "pull after logout fails with an authentication error" \
    1 'unauthori|authenticat|credential|login' husk pull --ca-cert "$CA_CERT" "docker://$R:1"
docker_config "$W/docker-config" "$TLS"
DOCKER_CONFIG=$W/docker-config HUSK_CACHEDIR=$W/cache-tls-dc \
    check "pull with credentials from \$DOCKER_CONFIG/config.json" pull_ok P --ca-cert "$CA_CERT" "docker://$R:1"
docker_config "$HOME/.docker" "$TLS"
HUSK_CACHEDIR=$W/cache-tls-home \
    check "pull with credentials from ~/.docker/config.json" pull_ok P --ca-cert "$CA_CERT" "docker://$R:1"
rm -rf "$HOME/.docker"
check "login on a terminal asks for the user name and the password" \
    sh -c 'printf "%s\n%s\n" "$3" "$4" | script -qec "$1 login --ca-cert $5 $2" /dev/null >"$6" 2>&1 &&
        grep -q "Username:" "$6" && grep -q "Password:" "$6" || { cat -v "$6"; exit 1; }' \
    _ "$HUSK" "$TLS" "$REG_USER" "$REG_PASS" "$CA_CERT" "$W/tty-login.out"
check "login on a terminal: stored" auth_json_ok "$TLS"
check "logout after the terminal login" husk logout "$TLS"

# ------------------------------------------------------ d. Bearer tokens --

R=$TOKEN/test/busybox
check_fails "token registry: login with a wrong password fails" \
    "login failed for $TOKEN: unauthorized" login wrong-password "$TOKEN" --insecure
check "token registry: nothing is stored after a failed login" no_auth_entry "$TOKEN"
check "token registry: login" login "$REG_PASS" "$TOKEN" --insecure
check "token registry: auth.json entry" auth_json_ok "$TOKEN"
check "token registry: push" push_ok D "oci:$BB" "docker://$R:1" --insecure --jobs 4
tline=$(log_lines "$TOKEN_REQUESTS")
HUSK_CACHEDIR=$W/cache-token check "token registry: pull (5 blobs, --jobs 4)" \
    pull_ok P --insecure --jobs 4 "docker://$R:1"
token_requests_since "$tline" >"$W/token-requests-pull.log"
check "token registry: the pull asked for at most 3 tokens, all as $REG_USER (cached, not one per blob)" \
    sh -c 'n=$(grep -c "" "$1" || true); [ "$n" -le 3 ] && ! grep -qv "^$2 " "$1" ||
        { echo "$n token requests:"; cat "$1"; exit 1; }' _ "$W/token-requests-pull.log" "$REG_USER"
HUSK_CACHEDIR=$W/cache-token check "token registry: exec" out_is hi husk exec --insecure "docker://$R:1" busybox echo hi
HUSK_CACHEDIR=$W/cache-token-debug check "pull --debug shows requests but no password, Basic credentials or token" \
    sh -c '"$1" pull --debug --insecure "docker://$2" >/dev/null 2>"$3" && grep -q "GET " "$3" &&
        ! grep -qF -e "$4" -e "$(printf "%s:%s" "$5" "$4" | base64)" -e "Bearer" -e "eyJ" "$3" || { cat "$3"; exit 1; }' \
    _ "$HUSK" "$R:1" "$W/debug.err" "$REG_PASS" "$REG_USER"
mkdir -p "$W/config-anonymous"
tline=$(log_lines "$TOKEN_REQUESTS")
XDG_CONFIG_HOME=$W/config-anonymous HUSK_CACHEDIR=$W/cache-token-anon \
    check "token registry: anonymous pull (the token server grants pull)" pull_ok P --insecure "docker://$R:1"
token_requests_since "$tline" >"$W/token-requests-anonymous.log"
check "token registry: the anonymous pull asked for 1 to 3 anonymous pull tokens" \
    sh -c 'n=$(grep -c "" "$1" || true); [ "$n" -ge 1 ] && [ "$n" -le 3 ] && ! grep -qv "^anonymous " "$1" &&
        grep -q "repository:test/busybox:pull" "$1" || { echo "$n token requests:"; cat "$1"; exit 1; }' \
    _ "$W/token-requests-anonymous.log"
XDG_CONFIG_HOME=$W/config-anonymous check_fails_like "token registry: anonymous push is refused" \
    1 'denied|unauthori|authenticat' husk push --insecure "oci:$BB" "docker://$TOKEN/test/anonymous:1"
check "token registry: logout" husk logout "$TOKEN"

# ------------------------------------------------------------ e. errors --

HUSK_CACHEDIR=$W/cache-errors check_fails "pull of a missing tag: not found" \
    "not found" husk pull --insecure "docker://$PLAIN/test/busybox:no-such-tag"
HUSK_CACHEDIR=$W/cache-errors check_fails "pull of a missing repository: not found" \
    "not found" husk pull --insecure "docker://$PLAIN/test/no-such-repo:1"
HUSK_CACHEDIR=$W/cache-errors check_fails "pull from an unknown host names the host" \
    "nonexistent.invalid" husk pull "docker://nonexistent.invalid/x:1"
HUSK_CACHEDIR=$W/cache-errors check_fails_like "exec --pull never with nothing cached: exit 255, one line naming --pull" \
    255 '--pull' husk exec --pull never --insecure "docker://$PLAIN/test/busybox:1" true
HUSK_CACHEDIR=$W/cache-errors check_fails_like "plain HTTP to a registry that is not on loopback is refused" \
    1 'insecure|plain HTTP|http://|not .*loopback' husk pull --insecure "docker://192.0.2.1:5000/x:1"
HUSK_CACHEDIR=$W/cache-errors check_fails_like "plain HTTP registry without --insecure: fails (HTTPS expected)" \
    1 "insecure|https|tls|$PLAIN" husk pull "docker://$PLAIN/test/busybox:1"
HUSK_CACHEDIR=$W/cache-errors check_fails "push of a missing layout fails naming it" \
    "$W/no-such-layout" husk push --insecure "oci:$W/no-such-layout" "docker://$PLAIN/test/x:1"
check "no image was left in the cache by the failures" \
    sh -c '[ -z "$(find "$1" -name "*.sqsh" 2>/dev/null)" ] || { find "$1"; exit 1; }' _ "$W/cache-errors"

# ------------------------------------- f. --blobs-only, corrupted blobs --

C=$W/cache-blobs
HUSK_CACHEDIR=$C check "pull --blobs-only prints the manifest digest" \
    pull_blobs_ok D --insecure "docker://$PLAIN/test/busybox:1"
check "pull --blobs-only: the digest is the registry's" same "digest" "$PUSHED" "$D"
check "pull --blobs-only: every blob's sha256 is its name" blobs_verified "$C" "$BB_CONFIG" "${BB_LAYERS[@]}"
check "pull --blobs-only: no image was converted" \
    sh -c '[ -z "$(find "$1" -name "*.sqsh" 2>/dev/null)" ] || { find "$1" -name "*.sqsh"; exit 1; }' _ "$C"
check "pull --blobs-only: nothing left behind" no_leftovers "$C"
corrupt() { # FILE: flip one byte in the middle
    chmod u+w "$1"
    "$PY" -c 'import os, sys
f = open(sys.argv[1], "r+b"); n = os.path.getsize(sys.argv[1]) // 2
f.seek(n); b = f.read(1); f.seek(n); f.write(bytes([b[0] ^ 0xff])); f.close()' "$1"
}
VICTIM=$C/blobs/sha256/${BB_LAYERS[0]#sha256:}
check "fixture: corrupt one cached blob" corrupt "$VICTIM"
check "fixture: the blob no longer matches its name" sh -c '[ "$(sha256sum <"$1" | cut -c1-64)" != "$2" ]' _ "$VICTIM" "${BB_LAYERS[0]#sha256:}"
HUSK_CACHEDIR=$C check "pull after a cached blob was corrupted succeeds" pull_ok P --insecure "docker://$PLAIN/test/busybox:1"
check "pull after corruption: the blob is intact again" blobs_verified "$C" "$BB_CONFIG" "${BB_LAYERS[@]}"
check "pull after corruption: the image is the right one" same_image "$P" "$W/fx/busybox.sqsh"

# ------------------------------------------------------ g. concurrency --

check "fixture: skopeo pushes the busybox layout to test/concurrent:1" \
    skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$BB:latest" "docker://$PLAIN/test/concurrent:1"
C=$W/cache-concurrent
concurrent_execs() { # N
    local i pids=() bad=0 rc
    for i in $(seq 1 "$1"); do
        HUSK_CACHEDIR=$C timeout "${HUSK_TIMEOUT:-600}" "$HUSK" exec --insecure \
            "docker://$PLAIN/test/concurrent:1" busybox true >"$W/concurrent-$i.log" 2>&1 &
        pids+=("$!")
    done
    BG_PIDS+=("${pids[@]}")
    for i in $(seq 1 "$1"); do
        rc=0
        wait "${pids[$((i - 1))]}" || rc=$?
        if [ "$rc" -ne 0 ]; then
            echo "process $i exited with status $rc:"
            cat "$W/concurrent-$i.log"
            bad=1
        fi
    done
    return "$bad"
}
line=$(log_lines "$PLAIN_ACCESS_LOG")
check "8 parallel 'husk exec docker://…' on an empty cache all exit 0" concurrent_execs 8
check "8 parallel: the registry served each blob exactly once (GET count per digest in its access log)" \
    blob_gets_once "$PLAIN_ACCESS_LOG" "$line" test/concurrent "$BB_CONFIG" "${BB_LAYERS[@]}"
check "8 parallel: no partial or temporary files left in the cache" no_leftovers "$C"
check "8 parallel: every blob's sha256 is its name" blobs_verified "$C" "$BB_CONFIG" "${BB_LAYERS[@]}"
check "8 parallel: exactly one file in the cache's images/" \
    sh -c 'n=$(find "$1/images" -type f | wc -l); [ "$n" -eq 1 ] || { find "$1/images" -type f; exit 1; }' _ "$C"
check "8 parallel: the cached image is the right one" \
    same_image "$C/images/${BB_MANIFEST#sha256:}.sqsh" "$W/fx/busybox.sqsh"

# -------------------------------------- h. a pull killed in mid-layer --

check "fixture: skopeo pushes the big layout (layers kept as they are)" \
    skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$BIG:latest" "docker://$PLAIN/test/big:1"
# 16 MiB/s per connection: the 64 MiB layer takes ~4 s.
SLOW=$(start_slow_proxy "$REGW" "$PLAIN" $((16 * 1024 * 1024)) 2>"$W/slow-proxy.err" || true)
check "fixture: a rate-limited TCP proxy to the plain registry" test -n "$SLOW"
C=$W/cache-big
BIG_HEX=${BIG_LAYERS[1]#sha256:}
KILLED_AT=0
killed_pull() {
    local partial=$C/blobs/sha256/$BIG_HEX.partial pid size=0
    HUSK_CACHEDIR=$C "$HUSK" pull --insecure --blobs-only "docker://$SLOW/test/big:1" >"$W/killed-pull.log" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    for _ in $(seq 1 600); do
        if [ -f "$partial" ]; then
            size=$(stat -c %s "$partial" 2>/dev/null || echo 0)
            [ "$size" -gt 0 ] && break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ -f "$C/blobs/sha256/$BIG_HEX" ]; then
        echo "the big layer was complete before the kill"
        return 1
    fi
    if [ ! -f "$partial" ]; then
        echo "no $partial appeared within 60 s:"
        cat "$W/killed-pull.log"
        return 1
    fi
    KILLED_AT=$(stat -c %s "$partial")
    echo "killed with $KILLED_AT of $BIG_SIZE bytes"
    [ "$KILLED_AT" -gt 0 ] && [ "$KILLED_AT" -lt "$BIG_SIZE" ]
}
check "kill -9 of 'husk pull' in the middle of a layer leaves a partial blob" killed_pull
line=$(log_lines "$PLAIN_ACCESS_LOG")
HUSK_CACHEDIR=$C check "pull again after the kill succeeds" \
    pull_blobs_ok D --insecure "docker://$SLOW/test/big:1"
check "pull again: the manifest digest is the layout's" same "digest" "$BIG_MANIFEST" "$D"
check "pull again: every blob's sha256 is its name" blobs_verified "$C" "$BIG_CONFIG" "${BIG_LAYERS[@]}"
check "pull again: no partial files left" no_leftovers "$C"
check "pull again: resumed with a Range request (206 for the big layer in the access log)" \
    sh -c 'sleep 0.5; s=$(tail -n +"$(($2 + 1))" "$1" | grep -F "\"GET /v2/test/big/blobs/sha256:$3 HTTP/" | sed -E "s/.*\" ([0-9]{3}) .*/\\1/");
        echo "$s" | grep -qx 206 || { echo "statuses of the GETs: [$s]"; exit 1; }' _ "$PLAIN_ACCESS_LOG" "$line" "$BIG_HEX"

# ------------------------------------- i. a .sqsh pushed as an artifact --

SQSH=$W/fx/busybox.sqsh
check "push IMAGE.sqsh (single-layer artifact)" push_ok D "$SQSH" "docker://$PLAIN/test/art:1" --insecure
check "push IMAGE.sqsh: skopeo inspect --raw shows artifactType application/vnd.husk.image.v1" \
    sh -c 't=$(skopeo inspect --raw --tls-verify=false "docker://$1" | jq -r .artifactType) &&
        [ "$t" = application/vnd.husk.image.v1 ] || { echo "artifactType [$t]"; exit 1; }' _ "$PLAIN/test/art:1"
check "push IMAGE.sqsh: one layer, the .sqsh itself" \
    sh -c 'm=$(skopeo inspect --raw --tls-verify=false "docker://$1") &&
        [ "$(echo "$m" | jq -r ".layers | length")" = 1 ] &&
        [ "$(echo "$m" | jq -r ".layers[0].digest")" = "sha256:$(sha256sum <"$2" | cut -c1-64)" ] ||
        { echo "$m"; exit 1; }' _ "$PLAIN/test/art:1" "$SQSH"
check "push IMAGE.sqsh: the digest printed is the registry's" \
    sh -c 'd=$(skopeo inspect --raw --tls-verify=false "docker://$1" | sha256sum | cut -c1-64) && [ "sha256:$d" = "$2" ] ||
        { echo "registry: sha256:$d, husk: $2"; exit 1; }' _ "$PLAIN/test/art:1" "$D"
HUSK_CACHEDIR=$W/cache-art check "pull of the artifact to OUTPUT.sqsh" \
    pull_ok P --insecure "docker://$PLAIN/test/art:1" "$W/out/art.sqsh"
check "pull of the artifact: the same bytes as the pushed .sqsh" \
    same "sha256" "$(sha_of "$SQSH")" "$(sha_of "$W/out/art.sqsh" 2>/dev/null || true)"
# OUTPUT on another filesystem than the cache: a copy, whole or not at all.
SHM=""
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$W")" ]; then
    SHM=$(mktemp -d /dev/shm/husk-registry.XXXXXX)
    HUSK_CACHEDIR=$W/cache-art check "pull to OUTPUT on another filesystem (a copy)" \
        pull_ok P --insecure "docker://$PLAIN/test/art:1" "$SHM/art.sqsh"
    check "pull to another filesystem: same bytes, its own file, no temporary left" \
        sh -c 'cmp "$1" "$2" && [ "$(stat -c %h "$2")" = 1 ] && [ "$(ls "$3")" = art.sqsh ] || { ls -la "$3"; exit 1; }' \
        _ "$SQSH" "$SHM/art.sqsh" "$SHM"
    rm -rf "$SHM"
else
    skip "pull to OUTPUT on another filesystem" "no writable /dev/shm on another filesystem"
fi
HUSK_CACHEDIR=$W/cache-art check "pull of the artifact into the cache: the same bytes" \
    sh -c 'p=$("$1" pull -q --insecure "docker://$2" | tail -n 1) && cmp "$p" "$3"' _ "$HUSK" "$PLAIN/test/art:1" "$SQSH"
HUSK_CACHEDIR=$W/cache-art check "exec of the artifact from the registry" \
    out_is hi husk exec --insecure "docker://$PLAIN/test/art:1" busybox echo hi

# ------------------- k. a registry that lies, fails, mounts, expires tokens --

# The registry's storage holds a layer whose bytes no longer match its digest.
TAMPER_LAYER=""
HUSK_CACHEDIR=$W/cache-tamper-push check "fixture: push busybox to test/tamper:1" \
    push_ok D "oci:$BB" "docker://$PLAIN/test/tamper:1" --insecure
tamper() { # the first layer's data file in the plain registry's storage
    local f
    f=$(find "$REGISTRIES_DIR/plain/storage" -path "*/blobs/sha256/*/${BB_LAYERS[0]#sha256:}/data" | head -n 1)
    [ -n "$f" ] || { echo "no data file for ${BB_LAYERS[0]}"; return 1; }
    TAMPER_LAYER=$f
    cp "$f" "$W/tamper-saved"
    "$PY" -c 'import os, sys
f = open(sys.argv[1], "r+b"); n = os.path.getsize(sys.argv[1]) // 2
f.seek(n); b = f.read(1); f.seek(n); f.write(bytes([b[0] ^ 0xff])); f.close()' "$f"
}
check "fixture: corrupt a layer inside the registry's storage" tamper
HUSK_CACHEDIR=$W/cache-tamper check_fails "pull of a blob the registry corrupted: digest mismatch" "digest mismatch" \
    husk pull -q --insecure "docker://$PLAIN/test/tamper:1"
check "the corrupt blob is not kept in the cache (nor a partial)" \
    sh -c '! ls "$1"/blobs/sha256/"$2"* 2>/dev/null' _ "$W/cache-tamper" "${BB_LAYERS[0]#sha256:}"
[ -n "$TAMPER_LAYER" ] && cp "$W/tamper-saved" "$TAMPER_LAYER"
HUSK_CACHEDIR=$W/cache-tamper check "pull succeeds once the registry holds the right bytes again" \
    pull_ok P --insecure "docker://$PLAIN/test/tamper:1"

# 5xx answers are retried with backoff; too many fail with one line.
FLAKY=$(start_flaky_proxy "$REGW" "$PLAIN" 3 2>"$W/flaky.err" || true)
HUSK_CACHEDIR=$W/cache-flaky check "pull through a registry that answers 503 three times succeeds" \
    pull_ok P --insecure --jobs 1 "docker://$FLAKY/test/busybox:1"
check "the 503 answers were really sent" sh -c '[ "$(cat "$1"/flaky-proxy-*.log | grep -c "^503 ")" -ge 3 ]' _ "$REGW"
BROKEN=$(start_flaky_proxy "$REGW" "$PLAIN" 1000 2>>"$W/flaky.err" || true)
HUSK_CACHEDIR=$W/cache-broken check_fails "pull from a registry that keeps answering 503 fails naming the status" "503" \
    husk pull -q --insecure --jobs 1 "docker://$BROKEN/test/busybox:1"

# A blob another repository of the registry holds is mounted, not uploaded.
HUSK_CACHEDIR=$W/cache-mount check "fixture: pull test/busybox:1 (the cache learns where its blobs live)" \
    pull_blobs_ok D --insecure "docker://$PLAIN/test/busybox:1"
from=$(log_lines "$PLAIN_ACCESS_LOG")
HUSK_CACHEDIR=$W/cache-mount check "push to another repository mounts the known blobs" \
    push_ok D "oci:$BB" "docker://$PLAIN/test/mounted:1" --insecure
check "the registry saw cross-repository mounts and no uploads" \
    sh -c 'sleep 0.5; new=$(tail -n +"$(($2 + 1))" "$1")
        echo "$new" | grep -q "\"POST /v2/test/mounted/blobs/uploads/?mount=sha256:[0-9a-f]*&from=test/busybox HTTP/1.1\" 201" &&
        ! echo "$new" | grep -q "\"PUT /v2/test/mounted/blobs/uploads/" || { echo "$new"; exit 1; }' _ "$PLAIN_ACCESS_LOG" "$from"
HUSK_CACHEDIR=$W/cache-mount2 check "the mounted image pulls and runs" \
    out_is hi husk exec --insecure "docker://$PLAIN/test/mounted:1" busybox echo hi

# A token the registry rejects (expired early) is fetched anew, once.
: >"$TOKEN_REQUESTS.expire-next"
tok_from=$(log_lines "$TOKEN_REQUESTS")
HUSK_CACHEDIR=$W/cache-refresh check "pull with a token the registry rejects: refreshed on 401" \
    pull_blobs_ok D --insecure "docker://$TOKEN/test/busybox:1"
check "the token was fetched twice for the scope (the first came out expired)" \
    sh -c 'n=$(tail -n +"$(($2 + 1))" "$1" | grep -c "repository:test/busybox:pull") && [ "$n" -eq 2 ] ||
        { tail -n +"$(($2 + 1))" "$1"; exit 1; }' _ "$TOKEN_REQUESTS" "$tok_from"
rm -f "$TOKEN_REQUESTS.expire-next"

# Progress: per-blob lines on a terminal, nothing of the kind in a batch log.
HUSK_CACHEDIR=$W/cache-tty check "pull on a terminal shows per-blob progress (size, done)" \
    sh -c 'script -qec "$1 pull --insecure docker://$2/test/busybox:1" /dev/null >"$3" 2>&1 &&
        grep -q "MiB" "$3" && grep -q "done" "$3" || { cat -v "$3"; exit 1; }' _ "$HUSK" "$PLAIN" "$W/tty.out"
HUSK_CACHEDIR=$W/cache-notty check "pull without a terminal prints no progress" \
    sh -c '"$1" pull --insecure "docker://$2/test/busybox:1" >/dev/null 2>"$3" &&
        ! grep -qE "$(printf "\033")|ETA|done" "$3" || { cat -v "$3"; exit 1; }' _ "$HUSK" "$PLAIN" "$W/notty.err"

# ----------------------------------------------------------- j. cache --

check "cache list shows the pulled image" \
    sh -c 'out=$("$1" cache list) && echo "$out" | grep -qE "$2|test/busybox" || { echo "$out"; exit 1; }' \
    _ "$HUSK" "${PUSHED#sha256:}"
check "cache list --json is JSON naming the image's digest" \
    sh -c '"$1" cache list --json >"$3" && jq -e . "$3" >/dev/null && jq -r ".. | strings" "$3" | grep -q "$2" ||
        { cat "$3"; exit 1; }' _ "$HUSK" "${PUSHED#sha256:}" "$W/cache-list.json"
count_images() { find "$HUSK_CACHEDIR/images" -name '*.sqsh' -type f 2>/dev/null | wc -l; }
n_images=$(count_images)
check "cache clean --older-than 2h keeps images pulled now" \
    sh -c '"$1" cache clean --older-than 2h >/dev/null && [ "$(find "$2/images" -name "*.sqsh" -type f | wc -l)" -eq "$3" ]' \
    _ "$HUSK" "$HUSK_CACHEDIR" "$n_images"
check "cache clean accepts 30s, 10m, 7d" \
    sh -c 'for d in 30s 10m 7d; do "$1" cache clean --older-than "$d" >/dev/null || exit 1; done' _ "$HUSK"
check "cache clean empties the cache (images and blobs)" \
    sh -c '"$1" cache clean >/dev/null && left=$(find "$2/images" "$2/blobs" -type f 2>/dev/null) && [ -z "$left" ] ||
        { echo "left: $left"; exit 1; }' _ "$HUSK" "$HUSK_CACHEDIR"
check "cache list after clean does not show the image" \
    sh -c '! "$1" cache list | grep -q "$2"' _ "$HUSK" "${PUSHED#sha256:}"

summary
