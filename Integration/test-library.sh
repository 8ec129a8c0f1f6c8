#!/usr/bin/env bash
# Husk as a library (issue 13): Examples/husk-example, built with the package
# from public API only, converts an OCI layout and runs a command in it as a
# child with typed options (--contain, a variable, a resource limit), and
# returns the command's exit status.
# Env: HUSK (husk-example is found beside it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
EXAMPLE=$(dirname "$(command -v "$HUSK")")/husk-example
if [ ! -x "$EXAMPLE" ]; then
    skip "the library example" "no husk-example beside $HUSK (swift build builds it)"
    summary
    exit 0
fi
lib_work library
export EXAMPLE W

check "husk-example converts the layout and runs the command with its options (contained, GREETING, nofile 512)" sh -c '
    out=$("$EXAMPLE" "$W/bb-oci" "$W/example.sqsh" sh -c "echo \$GREETING; ulimit -n; ls \$HOME 2>/dev/null | wc -l") &&
    [ "$out" = "hello from husk-example
512
0
husk-example: example exited with status 0" ] || { echo "$out"; exit 1; }'
check "... the image it wrote is a Husk image husk runs" sh -c '
    "$HUSK" exec "$W/example.sqsh" busybox true'
check "... the exit status of the command is returned (7), and a signal as 128+N" sh -c '
    "$EXAMPLE" "$W/bb-oci" "$W/example2.sqsh" sh -c "exit 7" >/dev/null; [ $? -eq 7 ] || exit 1
    "$EXAMPLE" "$W/bb-oci" "$W/example3.sqsh" sh -c "kill -TERM \$\$" >/dev/null; [ $? -eq 143 ]'
check "... a missing layout is one line on stderr and status 1" sh -c '
    "$EXAMPLE" "$W/nothing" "$W/x.sqsh" true 2>"$W/err"; [ $? -eq 1 ] && [ "$(wc -l <"$W/err")" = 1 ] && grep -q "husk-example: " "$W/err"'
summary
