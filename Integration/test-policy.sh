#!/usr/bin/env bash
# The site's policy (husk.toml(5)), as the unprivileged user: revoked images
# refused with the reason and the replacement, registries, --fakeroot and
# extract mode, where -B may come from, site binds and variables, and a
# policy file that is not root's. Policies are root's, so CI makes them
# (Integration/policy/make-policies.sh) and passes their directory as
# HUSK_TEST_POLICIES. Env: HUSK, HUSK_TEST_POLICIES, optional HUSK_DEBIAN_OCI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}

unset HUSK_CONFIG
lib_work policy

check "no policy file: policy check says so and allows the image" sh -c '
    out=$("$1" policy check "$2") && printf "%s\n" "$out" | grep -q "^policy: none" &&
    printf "%s\n" "$out" | grep -q "bb.sqsh: allowed$"' _ "$HUSK" "$IMG"

# A policy file a user could have written is not a policy.
printf 'allow_fakeroot = true\n' >"$W/mine.toml"
HUSK_CONFIG=$W/mine.toml check_fails "a policy file the user owns: refused, nothing runs" "must be owned by root" \
    "$HUSK" exec "$IMG" true

if [ -z "${HUSK_TEST_POLICIES:-}" ] || [ ! -f "$HUSK_TEST_POLICIES/strict.toml" ]; then
    skip "site policies (revocation, registries, options, site binds)" \
        "HUSK_TEST_POLICIES is not set (root makes them: Integration/policy/make-policies.sh)"
    summary
    exit
fi
P=$HUSK_TEST_POLICIES

HUSK_CONFIG=$P/typo.toml check_fails_like "a policy with an unknown key: one line naming it, nothing runs" 255 \
    'unknown key "allow_fakroot"' "$HUSK" exec "$IMG" true

# Revocation: the busybox fixture's base layer.
HUSK_CONFIG=$P/revoke-busybox.toml check_fails_like "a revoked base layer: exec refused, naming the layer, the reason and the replacement" 1 \
    '^husk: refused: /.*/bb.sqsh is built on layer sha256:[0-9a-f]{12}… which is revoked \(busybox test base withdrawn\); use docker://registry.example.org/busybox:fixed$' \
    "$HUSK" exec "$IMG" true
for cmd in run shell; do
    HUSK_CONFIG=$P/revoke-busybox.toml check_fails_like "... and $cmd (status 1, not 255)" 1 "refused: .*bb.sqsh is built on layer" \
        "$HUSK" "$cmd" "$IMG"
done
HUSK_CONFIG=$P/revoke-busybox.toml check_fails_like "... and instance start" 1 "refused: .*bb.sqsh is built on layer" \
    "$HUSK" instance start "$IMG" revoked
HUSK_CONFIG=$P/revoke-busybox.toml check_fails_like "... and an oci: source (converted into the cache first)" 1 \
    "refused: oci:.*/bb-oci is built on layer" "$HUSK" exec -q oci:"$W/bb-oci" true
check "policy check prints the verdict without running (exit 1)" sh -c '
    out=$(HUSK_CONFIG=$1/revoke-busybox.toml "$2" policy check "$3"); s=$?
    [ "$s" -eq 1 ] && printf "%s\n" "$out" | grep -q "bb.sqsh: refused: .* which is revoked (busybox test base withdrawn)"' \
    _ "$P" "$HUSK" "$IMG"
mkdir -p "$W/tmp"
check "nothing was extracted for a refused image (the check comes first)" sh -c '
    HUSK_CONFIG=$1/revoke-busybox.toml TMPDIR=$4 "$2" exec --mode extract "$3" true 2>/dev/null
    [ ! -e "$4/husk-$(id -u)/rootfs" ] || [ -z "$(ls "$4/husk-$(id -u)/rootfs")" ]' _ "$P" "$HUSK" "$IMG" "$W/tmp"
if [ -n "${HUSK_DEBIAN_OCI:-}" ] && [ -f "$P/revoke-base.toml" ]; then
    "$HUSK" convert -q oci:"$HUSK_DEBIAN_OCI" "$W/debian.sqsh" >/dev/null
    HUSK_CONFIG=$P/revoke-base.toml check_fails_like "the Debian test image, built on a revoked base layer: refused with reason and replacement" 1 \
        'refused: .*/debian.sqsh is built on layer sha256:[0-9a-f]{12}… which is revoked \(openssl CVE-2099-0001 in the base image\); use docker://registry.example.org/debian:bookworm-patched' \
        "$HUSK" exec "$W/debian.sqsh" true
    HUSK_CONFIG=$P/revoke-base.toml check "... while an image not built on it runs" "$HUSK" exec "$IMG" true
else
    skip "the Debian test image on a revoked base layer" "HUSK_DEBIAN_OCI is not set"
fi

# The strict policy: registries, options, binds, site binds and variables.
export HUSK_CONFIG=$P/strict.toml
check_fails_like "a registry the site does not allow: refused before any request" 1 \
    "refused: docker://other.example.org/app:1 comes from other.example.org, a registry the site policy .* does not allow \(allowed: registry.example.org\)" \
    "$HUSK" exec docker://other.example.org/app:1 true
check_fails "... and husk pull too" "refused: docker://other.example.org/app:1 comes from other.example.org" \
    "$HUSK" pull docker://other.example.org/app:1
check_fails_like "--fakeroot where the site forbids it" 1 "refused: --fakeroot is not allowed" \
    "$HUSK" exec --fakeroot "$IMG" true
check_fails_like "extract mode where the site forbids it" 1 "refused: extracting images .* is not allowed" \
    "$HUSK" exec --mode extract "$IMG" true
check_fails_like "-B from outside the directories the site allows" 1 "refused: -B /etc is not under a directory" \
    "$HUSK" exec -B /etc:/x "$IMG" true
mkdir -p "$W/data" && echo mine >"$W/data/f"
check "-B from under an allowed directory works" sh -c '[ "$("$1" exec -B "$2:/data" "$3" cat /data/f)" = mine ]' \
    _ "$HUSK" "$W/data" "$IMG"
check "a site bind appears inside (read-only), a missing one is skipped" sh -c '
    [ "$("$1" exec "$2" cat /site-data/marker)" = "site data" ] &&
    ! "$1" exec "$2" sh -c "echo x > /site-data/y" 2>/dev/null && ! "$1" exec "$2" test -e /absent' _ "$HUSK" "$IMG"
check "the site's extra variables pass, other host variables do not" sh -c '
    out=$(HUSK_TEST_SITE_QUEUE=gpu OTHER_HOST_VAR=1 "$1" exec "$2" env)
    printf "%s\n" "$out" | grep -q "^HUSK_TEST_SITE_QUEUE=gpu$" && ! printf "%s\n" "$out" | grep -q OTHER_HOST_VAR' _ "$HUSK" "$IMG"
check "... and --cleanenv still passes nothing" sh -c '
    ! HUSK_TEST_SITE_QUEUE=gpu "$1" exec --cleanenv "$2" env | grep -q HUSK_TEST_SITE_QUEUE' _ "$HUSK" "$IMG"
unset HUSK_CONFIG

summary
