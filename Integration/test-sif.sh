#!/usr/bin/env bash
# Singularity/Apptainer SIF files (issue 14, part 3), as the unprivileged
# user: run (the runscript), exec, shell, env (the env/*.sh scripts), inspect
# (labels, help, signatures reported and not trusted), instance start (the
# startscript), husk convert sif:, and one-line refusals of ext3, encrypted,
# truncated and crafted files. The SIF files come from fixtures/make-sif.py,
# which writes the published format around a busybox squashfs. Env: HUSK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
W=$(mktemp -d "${TMPDIR:-/tmp}/husk-sif.XXXXXX")
export XDG_RUNTIME_DIR=$W/run HUSK_CACHEDIR=$W/cache
mkdir -m 700 "$XDG_RUNTIME_DIR"
cleanup() { "$HUSK" instance stop --all --timeout 2 >/dev/null 2>&1 || true; lib_remove_work "$W"; lib_cleanup; }
trap cleanup EXIT
/usr/bin/python3 "$here/fixtures/make-sif.py" "$W/sif" >"$W/digests.json"
S=$W/sif
export HUSK W S
# Runs from $W: the current directory is bound, the SIF's own tree is what is checked.
cd "$W"

# ---------------------------------------------------------------- running --
check "run: the runscript with the arguments, the image's environment scripts applied" sh -c '
    out=$("$HUSK" run "$S/app.sif" one "two words" 2>"$W/err")
    [ "$out" = "runscript args: one two words
GREETING=hello" ] && [ ! -s "$W/err" ] || { echo "$out"; cat "$W/err"; exit 1; }'
check "run: --env beats what the image sets" sh -c '
    "$HUSK" run --env GREETING=mine "$S/app.sif" | grep -qx "GREETING=mine"'
check "exec: a file of the primary partition" sh -c '[ "$("$HUSK" exec "$S/app.sif" cat /etc/hello.txt)" = "hello from the sif" ]'
check "exec: the exit status is the command's" sh -c '"$HUSK" exec "$S/app.sif" sh -c "exit 7"; [ $? -eq 7 ]'
check "shell: arguments go to the shell (shell IMAGE -c CMD)" sh -c '
    [ "$("$HUSK" shell "$S/app.sif" -c "echo shell \$GREETING")" = "shell hello" ]'
"$HUSK" exec "$S/app.sif" env >"$W/env.out" 2>"$W/env.err" || true
check "environment: the author's scripts in order (10-docker2singularity.sh, then 90-environment.sh)" sh -c '
    grep -qx "PATH=/opt/extra:/opt/tool/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$W/env.out" &&
    grep -qx "COMBINED=hello world" "$W/env.out" && grep -qx "FROM_DOCKER=docker value" "$W/env.out"'
check "environment: Apptainer's own runtime scripts (01-base.sh, 99-base.sh) are not read" sh -c '
    ! grep -q "^HUSK_READ_01_BASE=" "$W/env.out" && ! grep -q "^PS1=Apptainer" "$W/env.out" &&
    ! grep -q "^LD_LIBRARY_PATH=" "$W/env.out"'
check "environment: APPTAINER_CONTAINER, APPTAINER_NAME and the SINGULARITY_ forms" sh -c '
    grep -qx "APPTAINER_CONTAINER=$S/app.sif" "$W/env.out" && grep -qx "APPTAINER_NAME=app.sif" "$W/env.out" &&
    grep -qx "SINGULARITY_NAME=app.sif" "$W/env.out"'
check "environment: a run says nothing of the skipped line, husk env names it once" sh -c '
    [ ! -s "$W/env.err" ] && "$HUSK" env "$S/app.sif" 2>"$W/e2" >/dev/null && [ "$(wc -l <"$W/e2")" -eq 1 ] &&
    grep -q "warning: .*90-environment.sh.*line 5 (source /opt/does-not-exist.sh)" "$W/e2"'
check "two partitions: the primary one runs (FUSE), the data partition is not it" sh -c '
    [ "$("$HUSK" exec --mode fuse "$S/two.sif" cat /etc/hello.txt)" = "hello from the sif" ] &&
    "$HUSK" exec "$S/two.sif" sh -c "! test -e /results"'
check "two partitions: extract mode reads the same partition" sh -c '
    [ "$("$HUSK" exec -q --mode extract "$S/two.sif" cat /etc/hello.txt)" = "hello from the sif" ] &&
    [ "$("$HUSK" run -q --mode extract "$S/two.sif" x | head -n 1)" = "runscript args: x" ]'
check "a signed SIF runs (its signature is not needed, and not trusted)" \
    sh -c '"$HUSK" exec "$S/signed.sif" true'

# ---------------------------------------------------------------- inspect --
check "inspect: labels, help, the runscript and the primary partition" sh -c '
    "$HUSK" inspect "$S/app.sif" >"$W/inspect.txt" &&
    grep -q "^  VERSION=1.2$" "$W/inspect.txt" && grep -q "^  This is the help of the SIF test image.$" "$W/inspect.txt" &&
    grep -q "^Runscript:$" "$W/inspect.txt" && grep -q "squashfs partition, primary system" "$W/inspect.txt" &&
    grep -q "skipped (not an assignment): /.singularity.d/env/90-environment.sh:5" "$W/inspect.txt"'
check "inspect --json: labels, help, the primary partition, no signatures" sh -c '
    "$HUSK" inspect --json "$S/app.sif" >"$W/app.json" &&
    jq -e ".format == \"sif\" and .labels.VERSION == \"1.2\" and (.help | startswith(\"This is the help\"))
           and .primaryPartition == 3 and .signatures == [] and (.env | index(\"GREETING=hello\")) != null" "$W/app.json"'
fp=$(jq -r .fingerprint "$W/digests.json")
export fp
check "inspect: the signature is reported with its key, not verified" sh -c '
    "$HUSK" inspect "$S/signed.sif" | grep -q "object 3 signed with key $fp (SHA-256, object 4), not verified by Husk"'
check "inspect --json: the signature's key and verified: false" sh -c '
    "$HUSK" inspect --json "$S/signed.sif" |
        jq -e ".signatures == [{\"id\": 4, \"signs\": \"object 3\", \"hash\": \"SHA-256\", \"fingerprint\": \"$fp\", \"verified\": false}]"'
check "inspect: both partitions of two.sif" sh -c '
    "$HUSK" inspect --json "$S/two.sif" | jq -e "[.objects[] | .partitionType] == [\"data\", \"primary system\"] and .primaryPartition == 2"'

# --------------------------------------------------------------- instance --
check "instance start: the startscript runs, the instance stays up" sh -c '
    HUSK_ENV_STAMP=$$ "$HUSK" instance start -q "$S/app.sif" sif1 >/dev/null && sleep 1 &&
    [ "$(cat /tmp/husk-sif-started-$$)" = started ] && rm -f /tmp/husk-sif-started-$$ &&
    "$HUSK" instance list | grep -q "^sif1 " && [ "$("$HUSK" exec -q instance://sif1 sh -c "echo \$GREETING")" = hello ]'
check "instance stop ends it" sh -c '"$HUSK" instance stop sif1 >/dev/null && ! "$HUSK" instance list | grep -q "^sif1 "'

# ---------------------------------------------------------------- convert --
check "convert sif: writes a Husk image" "$HUSK" convert -q "sif:$S/signed.sif" "$W/conv.sqsh"
check "convert sif: again gives the same bytes" sh -c '
    "$HUSK" convert -q "sif:$S/signed.sif" "$W/conv2.sqsh" && cmp "$W/conv.sqsh" "$W/conv2.sqsh"'
system=$(jq -r .system "$W/digests.json")
export system
check "converted: its source names the SIF, the partition's digest is its layer, the signer is reported" sh -c '
    "$HUSK" inspect --json "$W/conv.sqsh" >"$W/conv.json" &&
    jq -e ".source == \"sif:$S/signed.sif\" and .layers == [\"$system\"] and .labels.VERSION == \"1.2\"
           and .sif.signedBy == [\"$fp\"] and (.env | index(\"GREETING=hello\")) != null" "$W/conv.json" &&
    "$HUSK" inspect "$W/conv.sqsh" | grep -q "^Signed by: *key $fp, as the SIF said (not verified by Husk)"'
check "converted: the partition's files are kept, /.husk/ is added" sh -c '
    unsquashfs -l "$W/conv.sqsh" >"$W/conv.list" && grep -q "/.singularity.d/runscript$" "$W/conv.list" &&
    grep -q "/bin/busybox$" "$W/conv.list" && grep -q "/.husk/config.json$" "$W/conv.list" && grep -q "/.husk/startscript$" "$W/conv.list"'
check "converted: run runs the runscript with the arguments" sh -c '
    [ "$("$HUSK" run "$W/conv.sqsh" a b | head -n 1)" = "runscript args: a b" ]'
check "converted: instance start runs the startscript" sh -c '
    HUSK_ENV_STAMP=c$$ "$HUSK" instance start -q "$W/conv.sqsh" sif2 >/dev/null && sleep 1 &&
    [ "$(cat /tmp/husk-sif-started-c$$)" = started ] && rm -f /tmp/husk-sif-started-c$$ && "$HUSK" instance stop sif2 >/dev/null'

# --------------------------------------------------------------- refusals --
check_fails_like "exec of an ext3 SIF: one line naming ext3, status 255" 255 "ext3 file system.*apptainer build" \
    "$HUSK" exec "$S/ext3.sif" true
check_fails_like "run of an encrypted SIF: one line, status 255" 255 "encrypted.*does not decrypt" \
    "$HUSK" run "$S/encrypted.sif"
check_fails_like "exec of a truncated SIF: one line, status 255" 255 "truncated or damaged SIF file" \
    "$HUSK" exec "$S/truncated.sif" true
check_fails_like "exec of a crafted SIF (data beyond the file): one line, status 255" 255 "object 3 \(descriptor 3\) ends at" \
    "$HUSK" exec "$S/crafted.sif" true
check_fails "inspect of an ext3 SIF: one line, status 1" "ext3" "$HUSK" inspect "$S/ext3.sif"
check_fails "inspect of a truncated SIF: one line, status 1" "truncated" "$HUSK" inspect "$S/truncated.sif"
check_fails "convert sif: of an encrypted SIF: one line" "encrypted" "$HUSK" convert "sif:$S/encrypted.sif" "$W/enc.sqsh"
check "... and leaves no output behind" sh -c '! ls "$W"/enc.sqsh* 2>/dev/null'
check_fails "convert of a SIF without sif: says to write it" "write sif:" "$HUSK" convert "$S/app.sif" "$W/x.sqsh"
check_fails "inspect --packages of a SIF says to convert it" "husk convert sif:" "$HUSK" inspect --packages "$S/app.sif"
check_fails "verify of a SIF says to convert it" "husk convert sif:" "$HUSK" verify "$S/signed.sif"
summary
