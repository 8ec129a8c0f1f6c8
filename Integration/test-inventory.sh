#!/usr/bin/env bash
# Package inventory and SBOMs (DESIGN.md §5): every conversion records the
# image's OS packages in /.husk/packages.json; husk inspect --packages lists
# them and --sbom writes SPDX 2.3 or CycloneDX 1.5, validated against the
# official JSON schemas (as PyPI's lib4sbom ships them; CI puts them in
# HUSK_SBOM_SCHEMAS). Env: HUSK, optional HUSK_DEBIAN_OCI, HUSK_SBOM_SCHEMAS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
lib_work inventory
/usr/bin/python3 "$here/fixtures/make-inventory-oci.py" "$W/inv" >/dev/null

# packages CASE: "NAME VERSION ARCH SOURCE" lines as husk lists them.
packages() { "$HUSK" inspect --packages "$W/$1.sqsh" | tail -n +2 | awk '{print $1, $2, $3, $4}'; }
for c in alpine distroless shadowed; do
    "$HUSK" convert -q oci:"$W/inv/$c" "$W/$c.sqsh" >/dev/null
    check "inventory of the $c image: exactly the installed packages, with source and architecture" sh -c '
        [ "$1" = "$2" ] || { printf "got:\n%s\nexpected:\n%s\n" "$1" "$2"; exit 1; }' _ "$(packages "$c")" \
        "$(awk -F'\t' -v c="$c" '$1 == c {print $2, $3, $4, $5}' "$W/inv/expected.tsv")"
done
check "the inventory is in the image: /.husk/packages.json, readable by any squashfs tool" sh -c '
    unsquashfs -cat "$1" .husk/packages.json | grep -q "\"name\" : \"libcrypto3\""' _ "$W/alpine.sqsh"
check "an image without a package database: an empty inventory, not an error" sh -c '
    [ "$("$1" inspect --packages "$2" | wc -l)" -eq 1 ] && "$1" inspect --packages --json "$2" |
        /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); sys.exit(d[\"databases\"] != [] or d[\"packages\"] != [])"' \
    _ "$HUSK" "$IMG"
check "conversion stays reproducible with the inventory (same bytes twice)" sh -c '
    "$1" convert -q oci:"$2" "$3/again.sqsh" >/dev/null && cmp -s "$3/again.sqsh" "$3/alpine.sqsh"' \
    _ "$HUSK" "$W/inv/alpine" "$W"

# RPM databases, made by Debian's rpm, rpmbuild and db_load: SQLite (Fedora,
# RHEL 9) and Berkeley DB (RHEL 7, 8), read through librpm by husk-rpmdb.
if command -v rpmbuild >/dev/null && command -v db5.3_load >/dev/null; then
    /usr/bin/python3 "$here/fixtures/make-rpm-oci.py" "$W/rpm" >/dev/null
    # Not -q (which prints only errors): the warnings are checked.
    for c in fedora rhel8 damaged suse; do
        "$HUSK" convert oci:"$W/rpm/$c" "$W/$c.sqsh" >/dev/null 2>"$W/$c.convert-err"
    done
    rpm_expected=$(awk -F'\t' '{print $1, $2, $3, $4}' "$W/rpm/expected.tsv")
    for c in fedora rhel8; do
        check "RPM ($c): the inventory equals rpm -qa (name, epoch:version-release, arch, source), no gpg-pubkey" sh -c '
            [ -n "$2" ] && [ "$1" = "$2" ] || { printf "got:\n%s\nexpected (rpm -qa):\n%s\n" "$1" "$2"; exit 1; }' \
            _ "$(packages "$c")" "$rpm_expected"
    done
    check "RPM: the database read is named (usr/lib/sysimage/rpm/rpmdb.sqlite, var/lib/rpm/Packages)" sh -c '
        "$1" inspect --packages --json "$2/fedora.sqsh" | grep -q "\"usr/lib/sysimage/rpm/rpmdb.sqlite\"" &&
        "$1" inspect --packages --json "$2/rhel8.sqsh" | grep -q "\"var/lib/rpm/Packages\""' _ "$HUSK" "$W"
    check "RPM: package URLs carry the epoch as a qualifier" sh -c '
        "$1" inspect --sbom spdx-json "$2" | grep -q "pkg:rpm/fedora/openssl-libs@3.0.7-27.el9?arch=[a-z0-9_]*&distro=fedora-40&epoch=1"' \
        _ "$HUSK" "$W/fedora.sqsh"
    check "RPM: conversion stays reproducible (same bytes twice)" sh -c '
        "$1" convert -q oci:"$2" "$3/fedora-again.sqsh" >/dev/null && cmp -s "$3/fedora-again.sqsh" "$3/fedora.sqsh"' \
        _ "$HUSK" "$W/rpm/fedora" "$W"
    check "RPM, a damaged database: converted, with one warning naming the database and the damage" sh -c '
        [ -s "$1.sqsh" ] && [ "$(grep -c "warning" "$1.convert-err")" -eq 1 ] &&
        grep -q "^husk: warning: .*leaves out var/lib/rpm/rpmdb.sqlite: .*malformed" "$1.convert-err"' _ "$W/damaged"
    check "RPM, a damaged database: inspect --packages says the inventory is incomplete" sh -c '
        "$1" inspect --packages "$2" 2>&1 >/dev/null | grep -q "leaves out var/lib/rpm/rpmdb.sqlite"' _ "$HUSK" "$W/damaged.sqsh"
    check "RPM, a damaged database: husk audit reports its packages as unchecked" sh -c '
        "$1" audit --json "$2" | /usr/bin/python3 -c "import json, sys
r = json.load(sys.stdin)[0]
sys.exit(not any(f[\"kind\"] == \"unchecked\" and \"rpmdb.sqlite\" in f[\"message\"] for f in r[\"findings\"]))"' \
        _ "$HUSK" "$W/damaged.sqsh"
    check "RPM, an ndb database (openSUSE): recorded as not read, with why" sh -c '
        grep -q "leaves out usr/lib/sysimage/rpm/Packages.db: .*ndb" "$1"' _ "$W/suse.convert-err"
    check "RPM, husk-rpmdb missing: converted, the database recorded as not read, the fix named" sh -c '
        HUSK_RPMDB=/nonexistent "$1" convert oci:"$2" "$3/norpm.sqsh" 2>"$3/norpm.err" >/dev/null &&
        grep -q "HUSK_RPMDB=/nonexistent is not an executable" "$3/norpm.err" &&
        "$1" inspect --packages --json "$3/norpm.sqsh" 2>/dev/null | grep -q "\"unread\""' _ "$HUSK" "$W/rpm/fedora" "$W"
else
    skip "RPM package databases" "rpmbuild (Debian's rpm) or db5.3_load (db5.3-util) is missing"
fi

if [ -n "${HUSK_DEBIAN_OCI:-}" ] && [ -d "$HUSK_DEBIAN_OCI" ]; then
    "$HUSK" convert -q oci:"$HUSK_DEBIAN_OCI" "$W/debian.sqsh" >/dev/null
    check "the Debian test image's inventory equals dpkg-query -W run inside it" bash -c '
        inside=$("$1" exec "$2" dpkg-query -W -f "\${db:Status-Abbrev}|\${Package}|\${Version}|\${Architecture}\n" |
                 awk -F"|" "\$1 ~ /^ii/ {print \$2, \$3, \$4}" | sort)
        listed=$("$1" inspect --packages "$2" | tail -n +2 | awk "{print \$1, \$2, \$3}" | sort)
        [ -n "$inside" ] && [ "$inside" = "$listed" ] || { diff <(echo "$inside") <(echo "$listed") | head; exit 1; }' \
        _ "$HUSK" "$W/debian.sqsh"
    SBOM_IMAGE=$W/debian.sqsh
else
    skip "the Debian test image's inventory against dpkg-query" "HUSK_DEBIAN_OCI is not set"
    SBOM_IMAGE=$W/alpine.sqsh
fi

if [ -n "${HUSK_SBOM_SCHEMAS:-}" ] && [ -f "$HUSK_SBOM_SCHEMAS/spdx/2.3-schema.json" ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
    for format in spdx-json cyclonedx-json; do
        "$HUSK" inspect --sbom "$format" "$SBOM_IMAGE" >"$W/sbom.$format"
        check "--sbom $format validates against the official JSON schema" \
            /usr/bin/python3 "$here/tools/validate_sbom.py" "$HUSK_SBOM_SCHEMAS" "$format" "$W/sbom.$format"
        check "--sbom $format lists every package with its package URL" bash -c '
            [ "$(grep -c "\"pkg:deb/\|\"pkg:apk/" "$1")" -ge $(($("$2" inspect --packages "$3" | wc -l) - 1)) ]' \
            _ "$W/sbom.$format" "$HUSK" "$SBOM_IMAGE"
    done
    check "the schema check can fail (a document without creationInfo is refused)" sh -c '
        /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); del d[\"creationInfo\"]; json.dump(d, open(sys.argv[2], \"w\"))" \
            "$1/sbom.spdx-json" "$1/bad.json" && ! /usr/bin/python3 "$2" "$3" spdx-json "$1/bad.json" >/dev/null' \
        _ "$W" "$here/tools/validate_sbom.py" "$HUSK_SBOM_SCHEMAS"
    check "the same image gives the same SBOM bytes" bash -c '
        cmp -s "$1/sbom.cyclonedx-json" <("$2" inspect --sbom cyclonedx-json "$3")' _ "$W" "$HUSK" "$SBOM_IMAGE"
else
    skip "SBOM schema validation" "HUSK_SBOM_SCHEMAS (lib4sbom's schemas) or Debian's python3-jsonschema is missing"
fi
check "an unknown --sbom format is a usage error (64) that names the formats" sh -c '
    "$1" inspect --sbom spdx-xml "$2" 2>"$3/err"; [ $? -eq 64 ] && grep -q "spdx-json" "$3/err"' _ "$HUSK" "$IMG" "$W"

summary
