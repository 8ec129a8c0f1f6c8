#!/usr/bin/env bash
# husk audit over a directory of images, as the unprivileged user: a revoked
# image (with the replacement), a package version an OSV advisory lists, an
# image without an inventory; table and JSON; exit 1 when anything is found.
# Env: HUSK, optional HUSK_DEBIAN_OCI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
lib_work audit
/usr/bin/python3 "$here/fixtures/make-inventory-oci.py" "$W/inv" >/dev/null
mkdir -p "$W/images/sub" "$W/osv"
"$HUSK" convert -q oci:"$W/inv/distroless" "$W/images/distroless.sqsh" >/dev/null
"$HUSK" convert -q oci:"$W/inv/alpine" "$W/images/sub/alpine.sqsh" >/dev/null
cp "$IMG" "$W/images/busybox.sqsh"
# An image from elsewhere: plain squashfs, no /.husk.
mksquashfs "$here/fixtures" "$W/images/plain.sqsh" -quiet -noappend >/dev/null

# The busybox image's base layer, revoked by a policy for the audit.
base=$(/usr/bin/python3 -c 'import json, os, sys
root = sys.argv[1]
blob = lambda d: os.path.join(root, "blobs", *d.split(":"))
m = json.load(open(blob(json.load(open(os.path.join(root, "index.json")))["manifests"][0]["digest"])))
print(m["layers"][0]["digest"])' "$W/bb-oci")
cat >"$W/policy.toml" <<TOML
[[revoked]]
digest = "$base"
reason = "busybox base withdrawn"
replacement = "docker://registry.example.org/busybox:fixed"
TOML
# Advisories: one affecting the distroless image's libssl3 (source openssl,
# fixed later), one fixed before its glibc, one for another release.
cat >"$W/osv/DSA-9001-1.json" <<'JSON'
{"id": "DSA-9001-1", "aliases": ["CVE-2099-1111"], "summary": "openssl: test advisory",
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}]}]}
JSON
cat >"$W/osv/DSA-9002-1.json" <<'JSON'
{"id": "DSA-9002-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"},
  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9"}]}]}]}
JSON
cat >"$W/osv/DSA-9003-1.json" <<'JSON'
[{"id": "DSA-9003-1", "affected": [{"package": {"ecosystem": "Debian:11", "name": "openssl"},
  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9"}]}]}]}]
JSON

"$HUSK" audit --policy "$W/policy.toml" --osv "$W/osv" "$W/images" >"$W/table" 2>"$W/err" && status=0 || status=$?
check "audit of a directory finds something: exit 1" test "$status" -eq 1
check "the revoked image, with the reason and the replacement" grep -q \
    "busybox.sqsh: REVOKED" "$W/table"
check "... whose finding names the layer and what to use instead" grep -qE \
    "revoked: .*busybox.sqsh is built on layer sha256:[0-9a-f]{12}… which is revoked \(busybox base withdrawn\); use docker://registry.example.org/busybox:fixed" "$W/table"
check "the package version an OSV advisory lists (by its source package)" grep -q \
    "vulnerable: libssl3 3.0.11-1~deb12u2 (source openssl) is affected by DSA-9001-1, CVE-2099-1111, fixed in 3.0.13-1~deb12u1" "$W/table"
check "not an advisory fixed below the installed version, nor one for another release" sh -c '
    ! grep -q "DSA-9002-1\|DSA-9003-1" "$1"' _ "$W/table"
check "images found in subdirectories too (alpine: ok, nothing applies)" grep -q "sub/alpine.sqsh: ok, 2 packages" "$W/table"
check "an image without Husk's metadata is listed as unchecked, not as a failure" grep -q "plain.sqsh: unchecked" "$W/table"
check "--json gives the same findings for scripts" sh -c '
    "$1" audit --json --policy "$2/policy.toml" --osv "$2/osv" "$2/images" >"$2/json"; [ $? -eq 1 ] &&
    /usr/bin/python3 -c "import json, sys
r = {x[\"image\"].split(\"/\")[-1]: x for x in json.load(open(sys.argv[1]))}
kinds = lambda n: sorted(f[\"kind\"] for f in r[n][\"findings\"])
assert kinds(\"busybox.sqsh\") == [\"revoked\"], kinds(\"busybox.sqsh\")
assert kinds(\"distroless.sqsh\") == [\"vulnerable\"], kinds(\"distroless.sqsh\")
assert r[\"distroless.sqsh\"][\"findings\"][0][\"fixedIn\"] == \"3.0.13-1~deb12u1\"
assert kinds(\"alpine.sqsh\") == [] and kinds(\"plain.sqsh\") == [\"unchecked\"]" "$2/json"' _ "$HUSK" "$W"
check "nothing found: exit 0" "$HUSK" audit --osv "$W/osv" "$W/images/sub"

# Signatures: one image signed (husk sign), one signed and then changed.
export GNUPGHOME=$W/gnupg
mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill all 2>/dev/null; lib_remove_work "$W"; lib_cleanup' EXIT
gpg --batch --quiet --passphrase '' --quick-gen-key "Audit CI <ci@example.org>" ed25519 sign never 2>/dev/null
gpg --armor --export ci@example.org >"$W/ci.asc"
mkdir -p "$W/signed"
cp "$W/images/sub/alpine.sqsh" "$W/signed/good.sqsh"
cp "$W/images/sub/alpine.sqsh" "$W/signed/changed.sqsh"
cp "$W/images/sub/alpine.sqsh" "$W/signed/unsigned.sqsh"
"$HUSK" sign --key ci@example.org "$W/signed/good.sqsh" >/dev/null
"$HUSK" sign --key ci@example.org "$W/signed/changed.sqsh" >/dev/null
printf '\377' | dd of="$W/signed/changed.sqsh" bs=1 seek=100 conv=notrunc status=none
"$HUSK" audit --keyring "$W/ci.asc" "$W/signed" >"$W/signed.table" && status=0 || status=$?
check "audit --keyring: who signed each image" grep -q "good.sqsh: ok, 2 packages; signed by [0-9A-F]\{40\} (Audit CI <ci@example.org>)" "$W/signed.table"
check "... a signed image changed since: BAD SIGNATURE, flagged (exit 1)" sh -c '
    [ "$1" -eq 1 ] && grep -q "changed.sqsh: BAD SIGNATURE" "$2" && grep -q "bad-signature: .*changed after it was signed" "$2"' \
    _ "$status" "$W/signed.table"
check "... an unsigned image is said, not flagged, where signatures are not required" \
    grep -q "unsigned.sqsh: ok, 2 packages; unsigned" "$W/signed.table"
printf 'require_signature = true\ntrusted_keys = ["%s"]\n' "$W/ci.asc" >"$W/signing-policy.toml"
check "... and flagged UNSIGNED where the policy requires signatures" sh -c '
    "$1" audit --policy "$2/signing-policy.toml" "$2/signed/unsigned.sqsh" >"$2/req.table"; [ $? -eq 1 ] &&
    grep -q "unsigned.sqsh: UNSIGNED" "$2/req.table"' _ "$HUSK" "$W"
check_fails "a file in --osv that is not an advisory: one line naming it" "not an OSV advisory" sh -c '
    echo "{\"id\": 3}" >"$2/osv/bad.json"; "$1" audit --osv "$2/osv" "$2/images"' _ "$HUSK" "$W"
summary
