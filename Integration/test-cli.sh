#!/usr/bin/env bash
# The CLI's surface: version, help, usage errors, and man pages that document
# every flag `husk COMMAND --help` shows.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
MAN=${HUSK_MAN:-$here/../Man}

check "husk --version prints a version" sh -c '"$1" --version | grep -Eq "^[0-9]+\.[0-9]+\.[0-9]+$"' _ "$HUSK"
# Only conversion reads tar and inflates gzip (ISA-L), only capability
# options read capability names (libcap), and only signing and
# verifying need GnuPG: those libraries (and libxml2, ICU... behind
# libarchive) are opened on first use,
# not loaded by every container start (Sources/CLazyLibrary/include/husk_lazy_library.h).
# husk itself is the launcher (Sources/husk-launcher): C, libc alone, no Swift
# runtime; husk-plan is the Swift program a start runs when no planner plans it.
PLAN=$(dirname "$(command -v "$HUSK")")/husk-plan
check "husk (the launcher) holds no Swift code and no Swift runtime" sh -c '
    nm --defined-only "$(command -v "$1")" | grep -q " main$" &&
        ! nm --defined-only "$(command -v "$1")" | grep -qE " [\$]s|swift_retain"' _ "$HUSK"
check "husk-plan does not link libarchive, ISA-L, libcap or GPGME at start (opened on first use)" sh -c '
    readelf -d "$1" | grep -q NEEDED && ! readelf -d "$1" | grep -E "NEEDED.*(libarchive|libisal|libcap[.]|libgpgme)"' _ "$PLAN"
check "husk-starter and husk (which runs the starter in place) do not link squashfuse or libfuse3 (opened by a starter that mounts)" sh -c '
    for program in "$(command -v "$1")" "$(dirname "$(command -v "$1")")/husk-starter"; do
        readelf -d "$program" | grep -q NEEDED && ! readelf -d "$program" | grep -E "NEEDED.*(squashfuse|fuse3)" || exit 1
    done' _ "$HUSK"
# Every start of husk-plan walks its dynamic symbol table once (the Swift
# runtime's dladdr): it is kept empty (Sources/husk-plan/exports.map).
check "husk-plan exports no symbols" sh -c '[ -z "$(nm -D --defined-only "$1")" ]' _ "$PLAN"
# swift-corelibs-foundation brings ICU and 1,800 protocol conformances that
# every Swift cast at start scans: husk uses FoundationEssentials only
# (Package.swift, ownImportsOnly). A static husk would define its symbols,
# a dynamic one refer to them.
# Loading libstdc++.so costs a process 0.5 ms of relocations whether it
# uses it or not: husk links it in, the C starter does not link it at all
# (Linking/). In a build with the dynamic Swift runtime, libswiftCore loads it.
check "husk, husk-plan and husk-starter do not load libstdc++ themselves" sh -c '
    for program in "$(command -v "$1")" "$2" "$(dirname "$(command -v "$1")")/husk-starter"; do
        readelf -d "$program" | grep -q NEEDED || exit 1
        ! readelf -d "$program" | grep -E "NEEDED.*libstdc[+][+]" || exit 1
    done' _ "$HUSK" "$PLAN"
check "husk-plan holds no swift-corelibs-foundation (FoundationEssentials only)" sh -c '
    nm "$1" >/dev/null && ! { nm "$1"; nm -D "$1"; } 2>/dev/null | grep -qE "[\$]s(S[Sy])?10Foundation|__CFInitialize"' _ "$PLAN"
# husk-plan starts containers and links no registry client (SwiftNIO,
# AsyncHTTPClient, HuskRegistry): a start loads half as much. It hands
# everything else to husk-full, arguments unchanged (Sources/husk-plan/main.swift).
check "husk-plan (the program that starts containers) links no registry client" sh -c '
    nm "$1" >/dev/null && ! nm "$1" 2>/dev/null | grep -qE "[\$]s(7NIOCore|15AsyncHTTPClient|12HuskRegistry)"' _ "$PLAN"
check "husk hands other commands to husk-full, arguments unchanged" sh -c '
    [ "$(HUSK_FULL=/bin/echo "$1" pull --quiet docker://example.org/a:1)" = "pull --quiet docker://example.org/a:1" ] &&
    [ "$(HUSK_FULL=/bin/echo "$1" exec --help)" = "exec --help" ]' _ "$HUSK"
# ... with the caller's descriptors and no other (DESIGN.md §3, 4): what a
# program it hands over to holds is what that program holds run directly.
cat >"$LIB_OUT_DIR/list-fds" <<'LIST'
#!/bin/sh
exec ls /proc/self/fd
LIST
chmod +x "$LIB_OUT_DIR/list-fds"
check "husk hands over the caller's descriptors and no other" sh -c '
    direct=$("$2" 7</dev/null) && handed=$(HUSK_FULL=$2 "$1" pull docker://example.org/a:1 7</dev/null) &&
    [ "$handed" = "$direct" ] || { echo "handed over [$handed], direct [$direct]"; exit 1; }' _ "$HUSK" "$LIB_OUT_DIR/list-fds"
check "husk hands docker:// starts to husk-full, arguments unchanged" sh -c '
    [ "$(HUSK_FULL=/bin/echo "$1" exec -B /tmp docker://example.org/a:1 true)" = "exec -B /tmp docker://example.org/a:1 true" ]' _ "$HUSK"
check_fails "husk-full missing: one line naming it" "HUSK_FULL=/nonexistent" env HUSK_FULL=/nonexistent "$HUSK" pull docker://example.org/a:1
check "husk --help lists every command" sh -c 'for c in convert inspect run exec shell env instance policy audit sign verify check; do "$1" --help | grep -q "^  $c " || exit 1; done' _ "$HUSK"
check "unknown subcommand is a usage error (non-zero)" sh -c '! "$1" frobnicate >/dev/null 2>&1' _ "$HUSK"
check "convert without arguments is a usage error" sh -c '! "$1" convert >/dev/null 2>&1' _ "$HUSK"
check_fails "unknown source transport" "unknown image source" "$HUSK" convert ftp://example/x out.sqsh
check_fails "bad --compression" "unknown compression" "$HUSK" convert oci:/nonexistent out.sqsh --compression brotli
check_fails "bad --platform" "invalid platform" "$HUSK" convert oci:/nonexistent out.sqsh --platform linux
check_fails "inspect of a missing file" "no such" "$HUSK" inspect /nonexistent/image.sqsh
check_fails "inspect of a non-squashfs file" "not a squashfs" "$HUSK" inspect /etc/hostname

check "Man/husk.1 exists" test -s "$MAN/husk.1"
# check_pages PAGE-PREFIX PARENT SUB...: Man/PAGE-PREFIX-SUB.1 exists and
# documents every long flag `husk [PARENT] SUB --help` lists as an option
# (PARENT may be ""), each name of a flag that has several
# (--insecure, --no-https) on its .It line. Flags the discussion only names
# (Apptainer's, which Husk ignores or refuses) are not options of the page.
check_pages() {
    local prefix=$1 parent=$2 sub page flag
    shift 2
    for sub in "$@"; do
        page=$MAN/$prefix-$sub.1
        check "Man/$prefix-$sub.1 exists" test -s "$page"
        for flag in $("$HUSK" ${parent:+"$parent"} "$sub" --help | grep -E '^  -' | sed -E 's/^  //; s/  .*//' |
                      grep -oE -- '--[a-z][a-z-]+' | sort -u); do
            check "$prefix-$sub(1) documents $flag" grep -qE -- "^\.It Fl (.* )?-${flag#--}( |$)" "$page"
        done
    done
}
check_pages husk "" convert inspect pull push login logout run exec shell env audit sign verify check
check_pages husk-instance instance start list stop
check "Man/husk-instance.1 exists" test -s "$MAN/husk-instance.1"
check_pages husk-cache cache list clean
check "Man/husk-cache.1 exists" test -s "$MAN/husk-cache.1"
check_pages husk-policy policy check
check "Man/husk-policy.1 exists" test -s "$MAN/husk-policy.1"
check "Man/husk.toml.5 documents every key the policy reader knows" sh -c '
    for key in allowed_registries insecure_registries revoked site_binds user_binds_allowed_under \
               env_passthrough_extra allow_fakeroot allow_extract require_signature trusted_keys lookaside \
               registries; do
        grep -q "Cm \[*$key" "$1" || { echo "missing $key"; exit 1; }
    done' _ "$MAN/husk.toml.5"
check_fails "pull of a non-registry reference" "docker://" "$HUSK" pull oci:/x
check_fails "bad cache age" "invalid duration" "$HUSK" cache clean --older-than 3y
summary
