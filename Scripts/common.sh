# shellcheck shell=bash
# Sourced by Scripts/demo, Scripts/test and Scripts/bench.
#
# SwiftPM clones dependencies with git. Where its package mirror belongs to
# another user (a shared, root-owned mirror), git refuses it as "dubious
# ownership" for everyone else, and only global or system config can allow
# it (a local clone's upload-pack ignores `git -c`). So the builds these
# scripts run see a temporary global config: the user's own, included, plus
# that exception. Nothing is written to the user's configuration, and a
# normal GitHub clone behaves as before.
if [ "$(id -u)" -ne 0 ]; then
    husk_gitconfig=$(mktemp "${TMPDIR:-/tmp}/husk-gitconfig.XXXXXX")
    printf '[include]\n\tpath = %s\n[safe]\n\tdirectory = *\n' \
        "${GIT_CONFIG_GLOBAL:-$HOME/.gitconfig}" >"$husk_gitconfig"
    export GIT_CONFIG_GLOBAL=$husk_gitconfig
    trap 'rm -f "$husk_gitconfig"' EXIT
fi
