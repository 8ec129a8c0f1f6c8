#!/usr/bin/env bash
# What needs root to check, run by Scripts/test as root: libraries only some
# commands use are opened on first use (Sources/CLazyLibrary). With libcap
# and ISA-L hidden (/dev/null bound over them in a mount namespace of this
# script's own), a container start still works; the commands that need them
# end in one line naming the Debian package, with Husk's status for that
# command, and leave no output behind. The husk commands run as the user
# HUSK_TEST_USER names (unset: as root).
# Env: HUSK, HUSK_TEST_USER.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=${HUSK:-husk}
lib_needs_root "a start without libcap and ISA-L"
if [ -z "${HUSK_IN_NAMESPACE:-}" ]; then
    HUSK_IN_NAMESPACE=1 exec unshare --mount --propagation private "$0" "$@"
fi
lib_work lazy-libraries
lib_as_test_user HUSK_IDLE=0
for library in libcap.so.2 libisal.so.2; do
    # All of ldconfig's output read (an early exit of awk would end ldconfig by SIGPIPE).
    path=$(ldconfig -p | awk -v name="$library" '$1 == name && !found { found = $NF } END { print found }')
    [ -n "$path" ] && mount --bind /dev/null "$(readlink -f "$path")"
done
run() { "${AS_USER[@]}" "$@"; }
# One line naming PACKAGE and exit status STATUS from CMD...
one_line() { # STATUS PACKAGE CMD...
    local want=$1 package=$2 status=0 out
    shift 2
    out=$(run "$@" 2>&1) || status=$?
    [ "$status" -eq "$want" ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ $out == *"$package"* ]] ||
        { echo "status $status: $out"; return 1; }
}
converts_nothing_without_isal() {
    one_line 127 libisal2 "$HUSK" convert -q oci:"$W/bb-oci" "$W/out.sqsh" || return 1
    [ -z "$(find "$W" -maxdepth 1 -name 'out.sqsh*')" ] || { ls "$W"; return 1; }
}

check "a container start needs neither libcap nor ISA-L" run "$HUSK" exec "$IMG" true
check "--add-caps without libcap: one line naming libcap2, status 255" \
    one_line 255 libcap2 "$HUSK" exec --fakeroot --add-caps CAP_CHOWN "$IMG" true
check "converting gzip layers without ISA-L: one line naming libisal2, status 127, no output left" \
    converts_nothing_without_isal
summary
