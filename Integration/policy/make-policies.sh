#!/usr/bin/env bash
# Writes the site policies the policy tests run under into OUTDIR, as root:
# a policy is refused unless root owns it and only root can write to it
# (husk.toml(5)), so an unprivileged test cannot make its own. Scripts/test
# runs this before dropping privileges and passes OUTDIR as
# HUSK_TEST_POLICIES.
#
#   make-policies.sh OUTDIR [DEBIAN_OCI]
#
#   revoke-base.toml   revokes the first (base) layer of the Debian test
#                      image (DEBIAN_OCI, an OCI layout) and names a replacement
#   revoke-busybox.toml  revokes the base layer of the busybox fixture
#   strict.toml        only registry.example.org; no --fakeroot, no extract
#                      mode; -B only from under /tmp; a site bind of
#                      OUTDIR/site-data at /site-data; HUSK_TEST_SITE_* passed
#   typo.toml          an unknown key (allow_fakroot)
#   signed.toml        signatures required everywhere, trusted key
#                      keys/site-ci.asc (its secret half keys/site-ci-secret.asc
#                      for the tests to sign with), lookaside store
#                      http://127.0.0.1:5334
set -euo pipefail
out=${1:?usage: make-policies.sh OUTDIR [DEBIAN_OCI]}
debian=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "make-policies.sh: run as root (policies must be root's)" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out/site-data"
echo "site data" >"$out/site-data/marker"

# The digest of the first layer of the OCI layout DIR's "latest" image.
base_layer() {
    /usr/bin/python3 - "$1" <<'PY'
import json, os, sys
root = sys.argv[1]
blob = lambda d: os.path.join(root, 'blobs', *d.split(':'))
index = json.load(open(os.path.join(root, 'index.json')))
manifest = json.load(open(blob(index['manifests'][0]['digest'])))
if manifest.get('mediaType', '').endswith('index.v1+json') or 'manifests' in manifest:
    manifest = json.load(open(blob(manifest['manifests'][0]['digest'])))
print(manifest['layers'][0]['digest'])
PY
}

if [ -n "$debian" ] && [ -d "$debian" ]; then
    cat >"$out/revoke-base.toml" <<TOML
# The Debian test image's base layer, as a site revokes a vulnerable base.
[[revoked]]
digest = "$(base_layer "$debian")"
reason = "openssl CVE-2099-0001 in the base image"
replacement = "docker://registry.example.org/debian:bookworm-patched"
TOML
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../fixtures/make-busybox-oci.py" "$work/bb" >/dev/null
cat >"$out/revoke-busybox.toml" <<TOML
[[revoked]]
digest = "$(base_layer "$work/bb")"
reason = "busybox test base withdrawn"
replacement = "docker://registry.example.org/busybox:fixed"
TOML

cat >"$out/strict.toml" <<TOML
allowed_registries = ["registry.example.org"]
allow_fakeroot = false
allow_extract = false
user_binds_allowed_under = ["/tmp"]
site_binds = ["$out/site-data:/site-data:ro", "/nonexistent/on/this/node:/absent"]
env_passthrough_extra = ["HUSK_TEST_SITE_*"]
TOML

printf 'allow_fakroot = false\n' >"$out/typo.toml"

# Signatures: the site's CI key (its secret half is given to the tests, which
# sign with it as the site's CI would), a policy that requires signatures
# for every registry, kept in a lookaside store the tests serve on port 5334.
mkdir -p "$out/keys"
export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "Site CI <site-ci@example.org>" ed25519 sign never 2>/dev/null
gpg --armor --export site-ci@example.org >"$out/keys/site-ci.asc"
gpg --batch --armor --pinentry-mode loopback --passphrase '' --export-secret-keys site-ci@example.org \
    >"$out/keys/site-ci-secret.asc"
gpgconf --kill all
cat >"$out/signed.toml" <<TOML
require_signature = true
trusted_keys = ["$out/keys/site-ci.asc"]
lookaside = "http://127.0.0.1:5334"
TOML

chown -R root:root "$out"
chmod -R u=rwX,go=rX "$out"
