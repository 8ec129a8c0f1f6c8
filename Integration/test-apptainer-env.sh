#!/usr/bin/env bash
# What Apptainer and Singularity job scripts set in their environment works
# with husk unchanged (issue 14, variables): APPTAINERENV_NAME and
# SINGULARITYENV_NAME set NAME inside, APPTAINER_BIND/_BINDPATH and the
# SINGULARITY_ forms add binds, APPTAINER_CACHEDIR holds the cache.
# Env: HUSK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
lib_work apptainer-env
export HUSK IMG W

check "APPTAINERENV_NAME and SINGULARITYENV_NAME set NAME inside; Apptainer's wins, HUSK_ENV_ over both" sh -c '
    out=$(APPTAINERENV_GREETING=apptainer SINGULARITYENV_GREETING=singularity SINGULARITYENV_OTHER=s HUSK_ENV_THIRD=h \
          APPTAINERENV_THIRD=a "$HUSK" exec "$IMG" sh -c "echo \$GREETING \$OTHER \$THIRD; env | grep -c ENV_ || true")
    [ "$out" = "apptainer s h
0" ] || { echo "$out"; exit 1; }'
mkdir -p "$W/one" "$W/two" && echo one >"$W/one/f" && echo two >"$W/two/f"
check "APPTAINER_BIND and SINGULARITY_BINDPATH add binds (comma-separated, :ro kept), before -B" sh -c '
    out=$(APPTAINER_BIND="$W/one:/mnt/one:ro" SINGULARITY_BINDPATH="$W/two:/mnt/two" \
          "$HUSK" exec -B "$W/two:/mnt/three" "$IMG" sh -c "cat /mnt/one/f /mnt/two/f /mnt/three/f; touch /mnt/one/x 2>/dev/null || echo ro")
    [ "$out" = "one
two
two
ro" ] || { echo "$out"; exit 1; }'
check "APPTAINER_CACHEDIR holds the image cache (in husk/) when HUSK_CACHEDIR is unset" sh -c '
    mkdir -m 700 "$W/apptainer-cache"
    env -u HUSK_CACHEDIR APPTAINER_CACHEDIR="$W/apptainer-cache" "$HUSK" exec oci:"$W/bb-oci" true &&
    [ "$(find "$W/apptainer-cache/husk/images" -name "*.sqsh" | wc -l)" -eq 1 ]'
check "a bad APPTAINER_BIND: husk's one-line error naming the bind, nothing runs" sh -c '
    APPTAINER_BIND=":/x" "$HUSK" exec "$IMG" touch "$W/ran" 2>"$W/err"; [ $? -ne 0 ] && [ "$(wc -l <"$W/err")" -eq 1 ] &&
        grep -q "^husk: invalid bind \":/x\"" "$W/err" && [ ! -e "$W/ran" ]'
summary
