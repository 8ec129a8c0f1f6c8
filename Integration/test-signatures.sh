#!/usr/bin/env bash
# Signed image files (husk sign, husk verify), as the unprivileged user, with
# OpenPGP keys made here by GnuPG: two signers, a key that is not trusted, a
# changed byte in every part of the file, an interrupted sign; the signed
# file still mounts with squashfuse and runs with ch-run and husk.
# Env: HUSK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
lib_work signatures
export GNUPGHOME=$W/gnupg
mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill all 2>/dev/null; lib_remove_work "$W"; lib_cleanup' EXIT
for who in ci two other; do
    gpg --batch --quiet --passphrase '' --quick-gen-key "$who <$who@example.org>" ed25519 sign never 2>/dev/null
    gpg --armor --export "$who@example.org" >"$W/$who.asc"
done
cp "$IMG" "$W/img.sqsh"
size=$(stat -c %s "$W/img.sqsh")

check "husk sign with one key says who signed" sh -c '
    "$1" sign --key ci@example.org "$2" | grep -q "^signed .* with [0-9A-F]\{40\} (ci <ci@example.org>)$"' _ "$HUSK" "$W/img.sqsh"
check "... and with a second key (signatures coexist)" "$HUSK" sign --key two@example.org "$W/img.sqsh"
check "the squashfs bytes are untouched: the signatures follow them" cmp -n "$size" "$IMG" "$W/img.sqsh"
check "husk verify names both signers, good, exit 0" sh -c '
    out=$("$1" verify --keyring "$2/ci.asc" --keyring "$2/two.asc" "$2/img.sqsh") &&
    [ "$(printf "%s\n" "$out" | grep -c "good signature by [0-9A-F]\{40\} (\(ci\|two\) <")" -eq 2 ]' _ "$HUSK" "$W"
check "a signer whose key is not trusted: said, not counted, still exit 0 with a good one" sh -c '
    out=$("$1" verify --keyring "$2/ci.asc" "$2/img.sqsh") &&
    printf "%s\n" "$out" | grep -q "a key not trusted here"' _ "$HUSK" "$W"
check "only an untrusted key's signatures: exit 1" sh -c '! "$1" verify --keyring "$2/other.asc" "$2/img.sqsh" >/dev/null' _ "$HUSK" "$W"

# One changed byte anywhere makes verify fail.
tamper() { # OFFSET: a copy of the signed image with the byte at OFFSET changed, verified
    cp "$W/img.sqsh" "$W/t.sqsh"
    printf '\377' | dd of="$W/t.sqsh" bs=1 seek="$1" conv=notrunc status=none
    ! "$HUSK" verify --keyring "$W/ci.asc" --keyring "$W/two.asc" "$W/t.sqsh" >"$W/t.out" 2>&1
}
total=$(stat -c %s "$W/img.sqsh")
bytes_used=$(od -An -tu8 -j 40 -N 8 "$IMG" | tr -d ' ')
for spot in "in the squashfs data:100000" "in the squashfs tables:$((bytes_used - 200))" \
            "in the padding after the squashfs:$((bytes_used + 1))" "in the first signature record:$((size + 20))" \
            "in the last signature:$((total - 30))"; do
    check "one changed byte ${spot%%:*} (byte ${spot##*:}): verify fails" tamper "${spot##*:}"
done
check "... and says the image changed after it was signed" sh -c '
    tamper() { cp "$1/img.sqsh" "$1/t.sqsh"; printf "\377" | dd of="$1/t.sqsh" bs=1 seek=100000 conv=notrunc status=none; }
    tamper "$1"; "$2" verify --keyring "$1/ci.asc" "$1/t.sqsh" | grep -q "the image was changed after it was signed"' _ "$W" "$HUSK"
check_fails "an unsigned image: one line, exit 1" "not signed" "$HUSK" verify --keyring "$W/ci.asc" "$IMG"

# An interrupted sign leaves half a record: verify says so, the next sign cuts it off.
cp "$W/img.sqsh" "$W/cut.sqsh"
printf 'HUSKSIG1\377\377' >>"$W/cut.sqsh"
check_fails "a half-written signature record: one line naming it" "incomplete" \
    "$HUSK" verify --keyring "$W/ci.asc" "$W/cut.sqsh"
check "signing again cuts the half record off and all signatures verify" sh -c '
    "$1" sign --key other@example.org "$2/cut.sqsh" >/dev/null &&
    "$1" verify --keyring "$2/ci.asc" --keyring "$2/two.asc" --keyring "$2/other.asc" "$2/cut.sqsh" >/dev/null' _ "$HUSK" "$W"

# Still one mountable, runnable file.
check "the signed file mounts with squashfuse" sh -c '
    mkdir -p "$1/mnt" && squashfuse "$1/img.sqsh" "$1/mnt" && test -x "$1/mnt/bin/busybox"; s=$?
    fusermount3 -u "$1/mnt"; exit $s' _ "$W"
check "unsquashfs reads the signed file" sh -c 'unsquashfs -l "$1" >/dev/null' _ "$W/img.sqsh"
if command -v ch-run >/dev/null; then
    check "ch-run runs the signed file" ch-run "$W/img.sqsh" -- /bin/true
else
    skip "ch-run runs the signed file" "charliecloud's ch-run is not installed"
fi
check "husk runs the signed file" "$HUSK" exec "$W/img.sqsh" true

# Where the site requires signatures (policies/signed.toml, made as root),
# image files run only when signed by its key (CI gives the tests the key).
P=${HUSK_TEST_POLICIES:-}
if [ -n "$P" ] && [ -f "$P/signed.toml" ]; then
    gpg --batch --quiet --import "$P/keys/site-ci-secret.asc" 2>/dev/null
    cp "$IMG" "$W/site.sqsh"
    HUSK_CONFIG=$P/signed.toml check_fails_like "an unsigned image file where the site requires signatures: refused" 1 \
        "refused: .*site.sqsh has no signature by a key the site trusts" "$HUSK" exec "$W/site.sqsh" true
    HUSK_CONFIG=$P/signed.toml check_fails_like "... signed by a key the site does not trust: refused" 1 \
        "has no signature by a key the site trusts" "$HUSK" exec "$W/img.sqsh" true
    "$HUSK" sign --key site-ci@example.org "$W/site.sqsh" >/dev/null
    HUSK_CONFIG=$P/signed.toml check "... signed by the site's key: runs" "$HUSK" exec "$W/site.sqsh" true
    HUSK_CONFIG=$P/signed.toml check "... again, from the verdict kept in the cache" "$HUSK" exec "$W/site.sqsh" true
    printf '\377' | dd of="$W/site.sqsh" bs=1 seek=100000 conv=notrunc status=none
    HUSK_CONFIG=$P/signed.toml check_fails_like "... changed after signing (the kept verdict does not apply): refused" 1 \
        "its signature by .* is bad .*changed after it was signed" "$HUSK" exec "$W/site.sqsh" true
    HUSK_CONFIG=$P/signed.toml check_fails_like "an oci: source (converted, unsigned) where signatures are required: refused" 1 \
        "has no signature by a key the site trusts" "$HUSK" exec -q oci:"$W/bb-oci" true
else
    skip "image files under a site policy requiring signatures" "HUSK_TEST_POLICIES is not set (made as root by CI)"
fi
summary
