#!/usr/bin/env bash
# Images Charliecloud and enroot built run with their own metadata (issue 14,
# part 4): plain squashfs files (and directories) without /.husk/, whose
# variables, working directory and command come from Charliecloud's
# /ch/metadata.json or /ch/environment, or enroot's /etc/rc and
# /etc/environment. Built here from the busybox fixture with mksquashfs, as
# ch-convert and enroot import write them.
# Env: HUSK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
if ! command -v unsquashfs >/dev/null || ! command -v mksquashfs >/dev/null; then
    skip "Charliecloud and enroot images" "squashfs-tools missing (Scripts/install-deps installs it)"
    summary
    exit 0
fi
lib_work foreign
export HUSK IMG W
tree() { # NAME: the busybox tree without Husk's metadata, in $W/NAME
    unsquashfs -q -n -d "$W/$1" "$IMG" >/dev/null
    rm -rf "$W/$1/.husk"
}
pack() { mksquashfs "$W/$1" "$W/$1.sqsh" -quiet -noappend -all-root >/dev/null; }

tree ch
mkdir -p "$W/ch/ch" "$W/ch/work"
cat >"$W/ch/ch/metadata.json" <<'JSON'
{"arch": "amd64", "cwd": "/work", "env": {"FROM_CH": "metadata", "PATH": "/ch-bin:/bin:/usr/bin"},
 "labels": {"org.example.version": "1.0"}, "shell": ["/bin/sh", "-c"], "volumes": []}
JSON
printf 'FROM_CH=environment-file\n' >"$W/ch/ch/environment"
pack ch
# --contain: otherwise the current directory is bound and kept, as always.
check "Charliecloud (ch/metadata.json): its variables and working directory" sh -c '
    out=$("$HUSK" exec --contain "$W/ch.sqsh" sh -c "echo \$FROM_CH \$PATH; pwd")
    [ "$out" = "metadata /ch-bin:/bin:/usr/bin
/work" ] || { echo "$out"; exit 1; }'
check "... --env and HUSK_ENV_ still win over the image's variables" sh -c '
    [ "$(HUSK_ENV_FROM_CH=host "$HUSK" exec "$W/ch.sqsh" sh -c "echo \$FROM_CH")" = host ] &&
    [ "$("$HUSK" exec --env FROM_CH=flag "$W/ch.sqsh" sh -c "echo \$FROM_CH")" = flag ]'
check "... husk run: Charliecloud records no command, so it says to use exec" \
    sh -c '"$HUSK" run "$W/ch.sqsh" 2>&1 | grep -q "no Entrypoint or Cmd"'

tree chenv
mkdir -p "$W/chenv/ch"
printf 'FROM_CH=environment-file\nexport QUOTED="two words"\n' >"$W/chenv/ch/environment"
pack chenv
check "Charliecloud (older, ch/environment only): its variables" sh -c '
    [ "$("$HUSK" exec "$W/chenv.sqsh" sh -c "echo \$FROM_CH/\$QUOTED")" = "environment-file/two words" ]'
check "... and as a directory (a ch-image tree), the same" sh -c '
    [ "$("$HUSK" exec "$W/chenv" sh -c "echo \$FROM_CH")" = environment-file ]'

tree enroot
cat >"$W/enroot/etc/rc" <<'RC'
cd "/" && [ -n "$FROM_ENROOT" ] || exit 3
if [ $# -gt 0 ]; then exec "$@"; fi
echo "enroot default command"
RC
printf 'FROM_ENROOT=environment\nPATH=/bin:/usr/bin\n' >"$W/enroot/etc/environment"
pack enroot
check "enroot: husk run runs /etc/rc (no arguments: its default command)" sh -c '
    [ "$("$HUSK" run "$W/enroot.sqsh")" = "enroot default command" ]'
check "... with arguments, as enroot start passes them; /etc/environment is the image's" sh -c '
    [ "$("$HUSK" run "$W/enroot.sqsh" sh -c "echo \$FROM_ENROOT")" = environment ]'
check "... husk exec runs the command itself, with those variables" sh -c '
    [ "$("$HUSK" exec "$W/enroot.sqsh" sh -c "echo \$FROM_ENROOT")" = environment ]'

tree plain
printf 'PAM_ONLY=1\n' >"$W/plain/etc/environment"
pack plain
check "a plain image's /etc/environment (no /etc/rc) is PAM's, not read" sh -c '
    [ -z "$("$HUSK" exec "$W/plain.sqsh" sh -c "echo \$PAM_ONLY")" ]'

tree bad
mkdir -p "$W/bad/ch" && printf '{"env": ' >"$W/bad/ch/metadata.json"
pack bad
check_fails_like "damaged ch/metadata.json: one line naming the image and the file, 255" 255 "bad.sqsh: /ch/metadata.json is not Charliecloud" \
    "$HUSK" exec "$W/bad.sqsh" true
summary
