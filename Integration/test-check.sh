#!/usr/bin/env bash
# husk check on this node, as the unprivileged user: the real probes pass
# here (user namespaces, /dev/fuse), --json names every check, and what can
# fail does: a policy file others can change, an unusable TMPDIR. Nothing
# is created. Env: HUSK, optional HUSK_STRANGER (another user's account),
# HUSK_TEST_POLICIES (root's policy files, Integration/policy/make-policies.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}

unset HUSK_CONFIG
W=$(mktemp -d "${TMPDIR:-/tmp}/husk-check.XXXXXX")
trap 'lib_remove_work "$W"; lib_cleanup' EXIT
names="userns apparmor fuse overlay subids scratch cache config runtime policy slurm seccomp"

check "husk check exits 0 on this node" "$HUSK" check
"$HUSK" check >"$W/out" 2>&1 || true
check "... user namespaces are OK (a real unshare and uid_map in a child)" grep -Eq '^OK +userns ' "$W/out"
check "... /dev/fuse is OK (opened read-write, mounted in a user namespace)" grep -Eq '^OK +fuse ' "$W/out"
check "... one line per check, in order, then a fix line after each WARN and FAIL" sh -c '
    got=$(grep -Ev "^ +fix: " "$1" | awk "{print \$2}" | tr "\n" " ")
    [ "$got" = "$2 " ] || { echo "checks: $got"; exit 1; }
    awk "/^(WARN|FAIL) / { want = 1; next } want && !/^ +fix: / { exit 1 } { want = 0 } END { exit want }" "$1"' \
    _ "$W/out" "$names"

check "--json parses and has every check with status, detail and fix" sh -c '
    "$1" check --json >"$2" && python3 - "$2" "$3" <<"EOF"
import json, sys
results = json.load(open(sys.argv[1]))
assert [r["check"] for r in results] == sys.argv[2].split(), [r["check"] for r in results]
for r in results:
    assert sorted(r) == ["check", "detail", "fix", "status"], r
    assert r["status"] in ("OK", "WARN", "FAIL"), r
    assert (r["fix"] is None) == (r["status"] == "OK"), r
    assert r["detail"], r
EOF' _ "$HUSK" "$W/json" "$names"

# The site policy: a file others can change is no policy, and nothing would run.
if [ -e /etc/husk/husk.toml ]; then
    skip "a group-writable policy file FAILs the policy check" "/etc/husk/husk.toml exists, so HUSK_CONFIG is ignored"
else
    printf 'allow_fakeroot = true\n' >"$W/policy.toml"
    chmod 664 "$W/policy.toml"
    check "a group-writable policy file (HUSK_CONFIG): policy FAILs with the loader's refusal, exit 1" sh -c '
        s=0; HUSK_CONFIG=$2 "$1" check >"$3" 2>&1 || s=$?
        [ "$s" -eq 1 ] && grep -Eq "^FAIL +policy +refused: the site policy $2 " "$3" &&
            grep -A1 -E "^FAIL +policy " "$3" | grep -Eq "^ +fix: .*husk.toml\(5\)"' _ "$HUSK" "$W/policy.toml" "$W/policy.out"
    check "... and --json says the same" sh -c '
        s=0; HUSK_CONFIG=$2 "$1" check --json >"$3" || s=$?
        [ "$s" -eq 1 ] && python3 -c "
import json, sys
r = {x[\"check\"]: x for x in json.load(open(sys.argv[1]))}
assert r[\"policy\"][\"status\"] == \"FAIL\" and \"refused\" in r[\"policy\"][\"detail\"], r[\"policy\"]" "$3"' \
        _ "$HUSK" "$W/policy.toml" "$W/policy.json"
    if [ -n "${HUSK_TEST_POLICIES:-}" ] && [ -f "$HUSK_TEST_POLICIES/strict.toml" ]; then
        check "root's valid policy (HUSK_CONFIG): OK with its path" sh -c '
            HUSK_CONFIG=$2 "$1" check | grep -Eq "^OK +policy +$2 is valid"' _ "$HUSK" "$HUSK_TEST_POLICIES/strict.toml"
        check "root's policy with an unknown key: FAIL naming the key" sh -c '
            ! HUSK_CONFIG=$2 "$1" check >"$3" && grep -Eq "^FAIL +policy .*unknown key \"allow_fakroot\"" "$3"' \
            _ "$HUSK" "$HUSK_TEST_POLICIES/typo.toml" "$W/typo.out"
    else
        skip "root's policies: valid OK, a typo FAILs" "HUSK_TEST_POLICIES is not set"
    fi
fi

# TMPDIR: missing (husk would create it), not creatable, shared, another user's.
check "a TMPDIR that does not exist: scratch WARNs, exit 0, nothing created" sh -c '
    TMPDIR=$2/gone "$1" check >"$3" && grep -Eq "^WARN +scratch +TMPDIR=$2/gone does not exist" "$3" &&
        [ ! -e "$2/gone" ]' _ "$HUSK" "$W" "$W/gone.out"
check "a TMPDIR nobody lets you create: scratch FAILs, exit 1" sh -c '
    s=0; TMPDIR=/proc/husk-nonexistent/tmp "$1" check >"$2" 2>&1 || s=$?
    [ "$s" -eq 1 ] && grep -Eq "^FAIL +scratch " "$2"' _ "$HUSK" "$W/proc.out"
mkdir "$W/shared" && chmod 777 "$W/shared"
check "a TMPDIR others can write to: scratch FAILs naming it, exit 1" sh -c '
    s=0; TMPDIR=$2 "$1" check >"$3" 2>&1 || s=$?
    [ "$s" -eq 1 ] && grep -Eq "^FAIL +scratch +TMPDIR=$2: $2 can be written by others" "$3"' _ "$HUSK" "$W/shared" "$W/shared.out"
mkdir "$W/fresh"
check "a fresh TMPDIR: OK, and husk-UID is not created by the check" sh -c '
    TMPDIR=$2 "$1" check >"$3" && grep -Eq "^OK +scratch .*husk creates it" "$3" && [ -z "$(ls -A "$2")" ]' \
    _ "$HUSK" "$W/fresh" "$W/fresh.out"
stranger=${HUSK_STRANGER:-husktest2}
stranger_home=$(getent passwd "$stranger" | cut -d: -f6 || true)
if [ -n "$stranger_home" ] && [ -d "$stranger_home" ] && [ "$(stat -c %U "$stranger_home")" = "$stranger" ]; then
    check "another user's directory as TMPDIR: scratch FAILs naming its owner, exit 1" sh -c '
        s=0; TMPDIR=$2 "$1" check >"$3" 2>&1 || s=$?
        [ "$s" -eq 1 ] && grep -Eq "^FAIL +scratch +TMPDIR=$2: $2 belongs to uid [0-9]+ \($4\)" "$3"' \
        _ "$HUSK" "$stranger_home" "$W/stranger.out" "$stranger"
else
    skip "another user's directory as TMPDIR" "no account $stranger with a home of its own"
fi
summary
