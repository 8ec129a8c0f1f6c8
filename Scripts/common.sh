# shellcheck shell=bash
# Sourced by Scripts/demo, Scripts/test and Scripts/bench.
#
# SwiftPM clones dependencies with git. Where its package mirror belongs to
# another user (a shared, root-owned mirror), git refuses it as "dubious
# ownership" for everyone else. Allow that for the builds these scripts run,
# through git's command-line config in the environment: nothing is written
# to anyone's git configuration, and a normal GitHub clone is unaffected.
if [ "$(id -u)" -ne 0 ]; then
    export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
fi
