#!/usr/bin/env bash
# Registry signatures (containers' simple signing) under a site policy that
# requires them, as the unprivileged user: images signed by Debian's skopeo
# (copy --sign-by) with the site's CI key, the lookaside store served over
# HTTP here; unsigned, wrongly signed, other-repository and other-digest
# signatures refused before any layer is fetched.
# Env: HUSK, HUSK_TEST_POLICIES (signed.toml, keys/: CI makes them as root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/registry/start-registries.sh"
HUSK=${HUSK:-husk}
P=${HUSK_TEST_POLICIES:-}
LOOKASIDE_PORT=5334  # where policies/signed.toml says the lookaside store is

if [ -z "$P" ] || [ ! -f "$P/signed.toml" ] || ! command -v skopeo >/dev/null || ! command -v docker-registry >/dev/null; then
    skip "registry signatures" "needs HUSK_TEST_POLICIES (signed.toml, made as root), skopeo and docker-registry"
    summary
    exit 0
fi
if /usr/bin/python3 -c 'import socket, sys; s = socket.socket(); s.connect(("127.0.0.1", int(sys.argv[1])))' "$LOOKASIDE_PORT" 2>/dev/null; then
    skip "registry signatures" "port $LOOKASIDE_PORT (the test policy's lookaside store) is taken"
    summary
    exit 0
fi

lib_work registry-signatures
REGW=$W/registries
export GNUPGHOME=$W/gnupg HOME=$W/home XDG_CONFIG_HOME=$W/config
mkdir -p -m 700 "$GNUPGHOME" && mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$W/sigstore" "$W/registries.d"
cleanup() {
    [ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true
    gpgconf --kill all 2>/dev/null || true
    stop_registries "$REGW" 2>/dev/null || true
    lib_remove_work "$W"
    lib_cleanup
}
trap cleanup EXIT
start_registries "$REGW" plain >/dev/null

# The site's CI key (given by the site), and a key of someone else's.
gpg --batch --quiet --import "$P/keys/site-ci-secret.asc" 2>/dev/null
gpg --batch --quiet --passphrase '' --quick-gen-key "Rogue <rogue@example.org>" ed25519 sign never 2>/dev/null
# skopeo writes signatures into the lookaside store's staging directory.
printf 'default-docker:\n  lookaside-staging: file://%s\n' "$W/sigstore" >"$W/registries.d/default.yaml"
/usr/bin/python3 "$here/fixtures/make-inventory-oci.py" "$W/inv" >/dev/null
push() { # LAYOUT REPO:TAG [--sign-by KEY]: an OCI layout's image, pushed with skopeo
    local layout=$1 target=$2
    shift 2
    skopeo copy -q --dest-tls-verify=false --registries.d "$W/registries.d" "$@" \
        "oci:$layout:latest" "docker://$PLAIN/$target"
}
manifest() { skopeo inspect --tls-verify=false "docker://$PLAIN/$1" | jq -r .Digest; }
push "$W/bb-oci" lab/signed:1 --sign-by site-ci@example.org
push "$W/inv/alpine" lab/unsigned:1
push "$W/inv/distroless" lab/rogue:1 --sign-by rogue@example.org
push "$W/bb-oci" lab/copied:1                # the signed image under another name
push "$W/inv/shadowed" lab/other:1           # other bytes
signed=$(manifest lab/signed:1)
# Signatures where they do not belong: another repository's, another image's.
for target in copied other; do
    dir=$W/sigstore/lab/$target@$(manifest "lab/$target:1" | tr : =)
    mkdir -p "$dir" && cp "$W/sigstore/lab/signed@${signed/:/=}/signature-1" "$dir/"
done
/usr/bin/python3 -m http.server "$LOOKASIDE_PORT" --bind 127.0.0.1 --directory "$W/sigstore" >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 50); do
    /usr/bin/python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$LOOKASIDE_PORT" 2>/dev/null && break
    sleep 0.1
done

export HUSK_CONFIG=$P/signed.toml
blob_gets() { grep -c "GET /v2/lab/$1/blobs/" "$PLAIN_ACCESS_LOG" || true; }

check "a skopeo-signed image pulls under a policy requiring signatures" \
    "$HUSK" pull -q --insecure "docker://$PLAIN/lab/signed:1"
check "... and runs (docker://, with the signature kept in the cache for later runs)" \
    "$HUSK" exec -q --insecure "docker://$PLAIN/lab/signed:1" true
check "... and runs with --pull never, checked against the kept signature" \
    "$HUSK" exec -q --pull never --insecure "docker://$PLAIN/lab/signed:1" true
check_fails "an unsigned image: refused, naming the image and the lookaside store" \
    "refused: docker://$PLAIN/lab/unsigned:1 has no signature (none in the lookaside store http://127.0.0.1:$LOOKASIDE_PORT)" \
    "$HUSK" pull -q --insecure "docker://$PLAIN/lab/unsigned:1"
check "... before any layer was fetched" test "$(blob_gets unsigned)" -eq 0
check_fails "an image signed by a key the site does not trust: refused, naming the key" \
    "signed only by a key the site does not trust" "$HUSK" pull -q --insecure "docker://$PLAIN/lab/rogue:1"
check "... before any layer was fetched" test "$(blob_gets rogue)" -eq 0
check_fails "another repository's signature: refused, naming what it is for" \
    "its signature is for $PLAIN/lab/signed:1" "$HUSK" pull -q --insecure "docker://$PLAIN/lab/copied:1"
check_fails_like "exec of an unsigned image: refused (status 1), nothing run" 1 "refused: .*has no signature" \
    "$HUSK" exec -q --insecure "docker://$PLAIN/lab/unsigned:1" true
check "husk policy check gives the verdicts without running" sh -c '
    out=$("$1" policy check --insecure "docker://$2/lab/signed:1" "docker://$2/lab/rogue:1"); [ $? -eq 1 ] &&
    printf "%s\n" "$out" | grep -q "lab/signed:1: allowed" &&
    printf "%s\n" "$out" | grep -q "lab/rogue:1: refused: .*not trust"' _ "$HUSK" "$PLAIN"
check_fails "a signature for another image's digest: refused" "its signature is for another image" \
    "$HUSK" pull -q --insecure "docker://$PLAIN/lab/other:1"
unset HUSK_CONFIG
check "without a policy requiring signatures, the unsigned image pulls" \
    "$HUSK" pull -q --insecure "docker://$PLAIN/lab/unsigned:1"
summary
