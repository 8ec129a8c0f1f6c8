#!/usr/bin/env bash
# Apptainer's command lines work with husk (issue 14, parts 1 and 2): a
# corpus of examples from the Apptainer user guide (bind_paths_and_mounts,
# environment_and_metadata, quick_start, fakeroot, persistent_overlays,
# running_services, security_options, networking, cgroups, gpu), changed
# only in the command name (apptainer -> husk), the image (a busybox .sqsh,
# or a sandbox directory standing in for the guide's env.sif), host data
# directories (/data -> $D) and, where the guide's image has a program
# busybox lacks (cowsay, nslookup), the program run inside; each with its
# observable result. Then every flag Husk ignores or refuses (read from
# husk exec --help, which renders them from the code's table), and the
# APPTAINER_<FLAG>/SINGULARITY_<FLAG> variable forms. Env: HUSK.
# shellcheck disable=SC2016  # $... in the corpus is expanded when each line runs
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HUSK=${HUSK:-husk}
lib_work apptainer-flags
export HUSK IMG W
D=$W/data ENV=$W/env.sandbox
export D ENV
mkdir -p "$D" "$W/my:path" "$W/comma,dir" "$W/test.overlay"
: >"$D/bar"
: >"$D/foo"
echo my-path >"$W/my:path/f"
echo comma-dir >"$W/comma,dir/f"
mksquashfs "$D" "$W/inputs.squashfs" -quiet -noappend >/dev/null 2>&1 || : >"$W/inputs.squashfs"
printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_KILL","args":[]}]}\n' >"$W/no_mkdir.json"
MARK=/tmp/husk-apptainer-flags-mark.$$
: >"$MARK"
export MARK
cleanup_all() { rm -f "$MARK" "$HOME/hostfile.txt"; "$HUSK" instance stop --all >/dev/null 2>&1 || true; lib_remove_work "$W"; lib_cleanup; }
trap cleanup_all EXIT

# env.sif of environment_and_metadata.rst as a sandbox directory: the
# image's files, MYVAR=Hello and PYTHON_VERSION in its Env, a runscript
# that echoes $MYVAR, a startscript for instances and a SCIF app "foo".
unsquashfs -q -no-xattrs -d "$ENV" "$IMG" >/dev/null 2>&1 || true
[ -s "$ENV/.husk/config.json" ] || { echo "unsquashfs did not extract $IMG"; exit 1; }
/usr/bin/python3 - "$ENV/.husk/config.json" <<'PY'
import json, sys
path = sys.argv[1]
image = json.load(open(path))
image["config"].update({"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                "PYTHON_VERSION=3.7.7", "MYVAR=Hello"],
                        "Entrypoint": ["/bin/sh", "-c", "echo \"$MYVAR\""], "Cmd": None, "WorkingDir": "/"})
json.dump(image, open(path, "w"))
PY
printf '#!/bin/sh\nexec sleep 1000\n' >"$ENV/.husk/startscript"
mkdir -p "$ENV/scif/apps/foo/scif" "$ENV/scif/apps/foo/bin"
printf '#!/bin/sh\necho "foo runs: $SCIF_APPNAME $*"\n' >"$ENV/scif/apps/foo/scif/runscript"
printf '#!/bin/sh\necho foo-tool\n' >"$ENV/scif/apps/foo/bin/foo-tool"
printf 'NAME="Husk test"\n' >"$ENV/etc/os-release"
chmod 755 "$ENV/.husk/startscript" "$ENV/scif/apps/foo/scif/runscript" "$ENV/scif/apps/foo/bin/foo-tool"

# corpus: lines "COMMAND ||| EXPECTATIONS" (blank lines and # comments
# skipped). COMMAND runs with bash in $W, in a subshell (its exports stay
# there). EXPECTATIONS, separated by " ; ": out=TEXT (stdout, lines joined
# by spaces, equals TEXT), has=TEXT (stdout contains it), err=TEXT (stderr
# contains it), status=N (default 0), refused=KEYWORD (status 255 and
# stderr one "husk: " line containing KEYWORD), file=PATH:TEXT (a host
# file's content), nofile=PATH.
corpus() {
    local line
    while IFS= read -r line; do
        case $line in '' | '#'*) continue ;; esac
        run_case "${line%% ||| *}" "${line#* ||| }"
    done
}

run_case() { # COMMAND EXPECTATIONS
    local cmd=$1 expectations=$2 out=$LIB_OUT_DIR/case.out err=$LIB_OUT_DIR/case.err rc=0 want=0 why="" e
    (cd "$W" && eval "$cmd") >"$out" 2>"$err" </dev/null || rc=$?
    local joined
    joined=$(tr '\n' ' ' <"$out" | sed -e 's/  */ /g' -e 's/^ //' -e 's/ $//')
    while [ -n "$expectations" ]; do
        e=${expectations%% ; *}
        [ "$e" = "$expectations" ] && expectations="" || expectations=${expectations#* ; }
        case $e in
            out=*) [ "$joined" = "${e#out=}" ] || why="${why}stdout is [$joined], expected [${e#out=}]; " ;;
            has=*) grep -qF -- "${e#has=}" "$out" || why="${why}stdout lacks [${e#has=}]; " ;;
            err=*) grep -qF -- "${e#err=}" "$err" || why="${why}stderr lacks [${e#err=}]; " ;;
            status=*) want=${e#status=} ;;
            refused=*)
                want=255
                [ "$(grep -c '' "$err")" -eq 1 ] && grep -q '^husk: ' "$err" && grep -qiF -- "${e#refused=}" "$err" ||
                    why="${why}stderr is not one 'husk: ' line with [${e#refused=}]; "
                ;;
            file=*)
                local path content
                path=$(eval "echo \"${e#file=}\"" | cut -d: -f1) content=${e#file=*:}
                [ "$(cat "$path" 2>/dev/null)" = "$content" ] || why="${why}$path does not hold [$content]; "
                ;;
            nofile=*)
                local path
                path=$(eval "echo \"${e#nofile=}\"")
                [ ! -e "$path" ] || why="${why}$path exists; "
                ;;
            *) why="${why}unknown expectation [$e]; " ;;
        esac
    done
    [ "$rc" -eq "$want" ] || why="exit status $rc, expected $want; $why"
    if [ -z "$why" ]; then
        lib_pass "guide: $cmd"
        return 0
    fi
    lib_fail "guide: $cmd"
    printf '#   %s\n' "$why"
    lib_show "$out" stdout
    lib_show "$err" stderr
}

corpus <<'EOF'
# --- bind_paths_and_mounts.rst
$HUSK exec --bind $D:/mnt $IMG ls /mnt ||| out=bar foo
echo 'ls /mnt' | $HUSK shell --bind /opt,$D:/mnt $IMG ||| out=bar foo
export APPTAINER_BINDPATH="/opt,$D:/mnt"; echo 'ls /mnt' | $HUSK shell $IMG ||| out=bar foo
$HUSK exec --mount type=bind,src=$D,dst=/mnt $IMG ls /mnt ||| out=bar foo
$HUSK exec --mount type=bind,source=$D,dest=/mnt,ro $IMG busybox touch /mnt/test ||| status=1 ; err=Read-only ; nofile=$D/test
echo 'ls /data' | $HUSK shell --mount type=bind,src=/opt,dst=/opt --mount type=bind,src=$D,dst=/data $IMG ||| out=bar foo
$HUSK run --mount type=bind,src=$W/my:path,dst=/mnt $IMG 'cat /mnt/f' ||| out=my-path
# (the guide's quotes must reach the program, so the whole spec is quoted for the shell)
$HUSK run --mount "type=bind,\"src=$W/comma,dir\",dst=/mnt" $IMG 'cat /mnt/f' ||| out=comma-dir
export APPTAINER_MOUNT="type=bind,src=$D,dst=/in1"$'\n'"type=bind,src=$W/my:path,dst=/in2"; $HUSK exec $IMG sh -c 'ls /in1; cat /in2/f' ||| out=bar foo my-path
$HUSK run --no-mount tmp,sys,dev $IMG "ls /sys | wc -l; test -e /dev/null && ! test -e /dev/kmsg && echo minimal-dev; test -e $MARK || echo no-host-tmp" ||| out=0 minimal-dev no-host-tmp
$HUSK run --no-mount /data2 $IMG ||| out=hello
$HUSK run --no-mount bind-paths $IMG ||| out=hello
echo 'test -d $HOME || echo no-home' | $HUSK shell --no-home $IMG ||| out=no-home
echo 'ls -A /tmp | wc -l; test -d $HOME || echo no-home' | $HUSK shell --containall $IMG ||| out=0 no-home
$HUSK run -B $W/inputs.squashfs:/input-data:image-src=/ $IMG ||| refused=image-src
$HUSK run --mount type=bind,src=$W/inputs.squashfs,dst=/input-data,image-src=/ $IMG ||| refused=image-src
$HUSK run --fusemount "host:sshfs server:/ /server" $IMG ||| refused=--fusemount
# --- environment_and_metadata.rst (env.sif: the sandbox $ENV)
$HUSK exec $ENV env | grep PYTHON_VERSION ||| out=PYTHON_VERSION=3.7.7
$HUSK run $ENV ||| out=Hello
$HUSK run --env MYVAR=Goodbye $ENV ||| out=Goodbye
$HUSK exec --env MYVAR=A,MYVAR2=B $ENV sh -c 'echo $MYVAR $MYVAR2' ||| out=A B
printf 'MYVAR="Hello from a file"\n' >myenvs; $HUSK run --env-file myenvs $ENV ||| out=Hello from a file
export APPTAINERENV_MYVAR="Overridden"; $HUSK run $ENV ||| out=Overridden
export SINGULARITYENV_MYVAR="Overridden"; $HUSK run $ENV ||| out=Overridden
export SLURM_JOB_ID=42; $HUSK exec --cleanenv $ENV env | grep -c SLURM_JOB_ID ||| out=0 ; status=1
$HUSK exec $ENV sh -c 'echo $PATH' ||| out=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export APPTAINERENV_APPEND_PATH="/endpath"; $HUSK exec $ENV sh -c 'echo $PATH' ||| out=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/endpath
export SINGULARITYENV_PREPEND_PATH="/startpath"; $HUSK exec $ENV sh -c 'echo $PATH' ||| out=/startpath:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
$HUSK exec --env APPEND_PATH=/endpath $ENV sh -c 'echo $PATH' ||| out=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/endpath
umask 077; $HUSK exec --no-umask $IMG sh -c umask ||| out=0022
# --- quick_start.rst (lolcow_latest.sif: the busybox image; cowsay: echo or cat)
$HUSK exec $IMG echo moo ||| out=moo
$HUSK run $IMG ||| out=hello
$HUSK run --containall $IMG ||| out=hello
$HUSK exec $IMG echo "\$HOSTNAME" ||| out=$HOSTNAME
$HUSK exec $IMG echo "\\\$HOSTNAME" ||| out=\$HOSTNAME
echo "Hello from inside the container" > $HOME/hostfile.txt; $HUSK exec $IMG cat $HOME/hostfile.txt ||| out=Hello from inside the container
echo "Drink milk (and never eat hamburgers)." > $D/cow_advice.txt; $HUSK exec --bind $D:/mnt $IMG cat /mnt/cow_advice.txt ||| out=Drink milk (and never eat hamburgers).
cat $D/cow_advice.txt | $HUSK exec $IMG cat ||| out=Drink milk (and never eat hamburgers).
$HUSK exec --writable $ENV busybox touch /foo ||| refused=--writable ; nofile=$ENV/foo
# --- fakeroot.rst and persistent_overlays.rst
$HUSK exec -f $IMG id -u ||| out=0
$HUSK exec --fakeroot --overlay $W/test.overlay $IMG sh -c 'mkdir -p /data && echo installed >/data/openssh' ||| file=$W/test.overlay/upper/data/openssh:installed
echo 'cat /data/openssh' | $HUSK shell --overlay $W/test.overlay $IMG ||| out=installed
echo 'cat /data/openssh' | $HUSK shell $IMG ||| status=1 ; err=No such file
$HUSK exec --overlay $W/test.overlay:ro $IMG sh -c 'cat /data/openssh; echo x >/data/more' ||| out=installed ; status=1 ; nofile=$W/test.overlay/upper/data/more
$HUSK run --fakeroot --net --network-args="portmap=8080:80/tcp" -w $IMG ||| refused=--network-args
$HUSK exec --overlay $W/inputs.squashfs $IMG true ||| refused=takes a directory
# (Husk's state stays out of reach: no overlay inside it or holding it)
$HUSK exec --overlay $W:ro $IMG true ||| refused=holds Husk's image cache
mkdir -p $HUSK_CACHEDIR/sub; $HUSK exec --overlay $HUSK_CACHEDIR/sub $IMG true ||| refused=inside Husk's image cache
# (nor through an upper directory someone planted as a symlink)
mkdir -p $W/planted $W/elsewhere; ln -sfn $W/elsewhere $W/planted/upper; $HUSK exec --overlay $W/planted $IMG true ||| refused=is not a directory of yours
# --- running_services.rst (alpine_latest.sif: the sandbox, whose startscript sleeps)
$HUSK instance start $ENV instance1 ||| has=instance instance1 started
$HUSK instance list ||| has=instance1
$HUSK exec instance://instance1 cat /etc/os-release ||| out=NAME="Husk test"
$HUSK instance stop instance1 ||| has=instance instance1 stopped
$HUSK instance start --writable-tmpfs $ENV web ||| has=instance web started
$HUSK instance stop --all ||| has=instance web stopped
$HUSK instance start --writable-tmpfs --net --network-args "portmap=8080:80/tcp" $ENV web2 ||| refused=--network-args
# --- security_options.rst
echo 'mkdir /tmp/foo' | $HUSK shell --security seccomp:$W/no_mkdir.json $IMG ||| status=159 ; err=Bad system call
$HUSK exec --security uid:1000 $IMG whoami ||| refused=uid
$HUSK shell --allow-setuid $IMG ||| refused=--allow-setuid
$HUSK exec --keep-privs $IMG ping -c 1 8.8.8.8 ||| refused=--keep-privs
$HUSK exec --fakeroot --drop-caps CAP_NET_RAW $IMG sh -c 'grep CapEff /proc/self/status' ||| has=CapEff
# --- networking.rst
$HUSK exec --dns 8.8.8.8 $IMG cat /etc/resolv.conf ||| out=nameserver 8.8.8.8
$HUSK exec --hostname hal-9000 $IMG busybox hostname ||| out=hal-9000
$HUSK exec --net --network ptp $IMG hostname -I ||| refused=ptp
$HUSK exec --net --network bridge,ptp $IMG hostname -I ||| refused=bridge,ptp
$HUSK exec --net --network none $IMG cat /proc/net/dev | grep -c : ||| out=1
# --- cgroups.rst, gpu.rst
$HUSK run --cpu-shares 512 --memory 1G $IMG ||| refused=--cpu-shares
$HUSK run --apply-cgroups limits.toml $IMG ||| refused=--apply-cgroups
$HUSK exec --nv $IMG true ||| status=0
$HUSK exec --rocm $IMG true ||| status=0
# --- the flags the issue names, one each
$HUSK exec -C $IMG sh -c 'echo $$' ||| out=2
$HUSK exec -c $IMG sh -c 'ls -A /tmp | wc -l' ||| out=0
$HUSK exec -e $IMG true ||| status=0
$HUSK exec -H $D:/myhome $IMG sh -c 'echo $HOME; ls /myhome | head -1' ||| out=/myhome bar
$HUSK exec --cwd /etc $IMG pwd ||| out=/etc
$HUSK exec -c -W $W/work $IMG sh -c 'echo t >/tmp/t' ||| file=$W/work/tmp/t:t
$HUSK exec -S /scratch $IMG sh -c 'echo s >/scratch/s && cat /scratch/s' ||| out=s
$HUSK exec -W $W/work -S /scratch $IMG sh -c 'echo s >/scratch/s' ||| file=$W/work/scratch/scratch/s:s
$HUSK exec --compat $IMG sh -c 'echo $$; umask' ||| out=1 0022
$HUSK exec --pid --no-init $IMG sh -c 'echo $$' ||| out=1
$HUSK exec --no-eval $IMG echo '$HOME' ||| out=$HOME
$HUSK exec -u $IMG true ||| status=0
$HUSK exec --userns --unsquash $IMG true ||| status=0
$HUSK exec --disable-cache $IMG true ||| status=0
$HUSK exec --disable-cache docker://busybox true ||| refused=--disable-cache
$HUSK run --app foo $ENV a b ||| out=foo runs: foo a b
$HUSK exec --app foo $ENV foo-tool ||| out=foo-tool
$HUSK run --app bar $ENV ||| refused=/scif/apps/bar
$HUSK exec --vm $IMG true ||| refused=virtual machines
$HUSK exec --boot $IMG true ||| refused=--boot
$HUSK exec --no-mount proc $IMG true ||| refused=proc
$HUSK exec -w $IMG true ||| refused=--overlay DIR
$HUSK exec --nvccli --no-nv $IMG true ||| status=0
EOF

# Every flag Husk ignores or refuses, as husk exec --help lists them (from
# the code's table): an ignored one runs, a refused one is one line naming it.
help=$("$HUSK" exec --help | tr '\n' ' ' | sed 's/  */ /g')
ignored=${help#*Accepted and ignored (Husk always or never does it): }
ignored=${ignored%%. Refused in one line*}
refused=${help#*Refused in one line saying what to use instead: }
refused=${refused%%.*}
check "husk exec --help lists the ignored and refused flags" test -n "$ignored" -a -n "$refused" -a "$ignored" != "$help"
try_flags() { # KIND LIST: items "-u/--userns" or "--tmpdir DIR", comma-separated
    local kind=$1 item name value
    while IFS= read -r item; do
        item=${item# }
        name=${item#*/}
        name=${name%% *}
        value=()
        case $item in *' '*) value=(x) ;; esac
        if [ "$kind" = ignored ]; then
            check "ignored: husk exec $name${value[*]+ x}" "$HUSK" exec "$name" "${value[@]+"${value[@]}"}" "$IMG" true
        else
            check_fails_like "refused: husk exec $name${value[*]+ x}" 255 "^husk: $name is not supported: " \
                "$HUSK" exec "$name" "${value[@]+"${value[@]}"}" "$IMG" true
        fi
    done < <(tr ',' '\n' <<<"$2")
}
try_flags ignored "$ignored"
try_flags refused "$refused"

# APPTAINER_<FLAG> and SINGULARITY_<FLAG>: where the flag works, below the
# command line; Apptainer's name wins over Singularity's.
corpus <<'EOF'
export APPTAINER_CONTAINALL=1; $HUSK exec $IMG sh -c 'echo $$; ls -A /tmp | wc -l' ||| out=2 0
export SLURM_JOB_ID=42 APPTAINER_CLEANENV=true; $HUSK exec $IMG env | grep -c SLURM_JOB_ID ||| out=0 ; status=1
export SLURM_JOB_ID=42; $HUSK exec $IMG env | grep -c SLURM_JOB_ID ||| out=1
export APPTAINER_NO_HOME=yes; $HUSK exec $IMG sh -c 'test -d $HOME || echo no-home' ||| out=no-home
export SINGULARITY_CONTAIN=1; $HUSK exec $IMG sh -c 'ls -A /tmp | wc -l' ||| out=0
export APPTAINER_HOSTNAME=from-variable; $HUSK exec $IMG busybox hostname ||| out=from-variable
export APPTAINER_HOSTNAME=from-variable; $HUSK exec --hostname from-flag $IMG busybox hostname ||| out=from-flag
export APPTAINER_HOSTNAME=apptainer SINGULARITY_HOSTNAME=singularity; $HUSK exec $IMG busybox hostname ||| out=apptainer
export SINGULARITY_HOSTNAME=singularity; $HUSK exec $IMG busybox hostname ||| out=singularity
export APPTAINER_DNS=1.1.1.1; $HUSK exec $IMG cat /etc/resolv.conf ||| out=nameserver 1.1.1.1
export APPTAINER_CWD=/etc; $HUSK exec $IMG pwd ||| out=/etc
export SINGULARITY_TARGET_PWD=/usr; $HUSK exec $IMG pwd ||| out=/usr
export APPTAINER_HOME="$D:/myhome"; $HUSK exec $IMG sh -c 'echo $HOME' ||| out=/myhome
export APPTAINER_FAKEROOT=true; $HUSK exec $IMG id -u ||| out=0
export APPTAINER_UNSHARE_PID=1 APPTAINER_NOSHIMINIT=1; $HUSK exec $IMG sh -c 'echo $$' ||| out=1
export APPTAINER_COMPAT=1; $HUSK exec $IMG sh -c 'echo $$; umask' ||| out=1 0022
export APPTAINER_NO_UMASK=1; umask 077; $HUSK exec $IMG sh -c umask ||| out=0022
export APPTAINER_SCRATCH=/scratch1,/scratch2; $HUSK exec $IMG sh -c 'test -d /scratch1 && test -d /scratch2 && echo both' ||| out=both
export APPTAINER_WORKDIR=$W/work2 APPTAINER_CONTAIN=1; $HUSK exec $IMG sh -c 'echo w >/tmp/w' ||| file=$W/work2/tmp/w:w
export APPTAINER_OVERLAY=$W/test.overlay; $HUSK exec $IMG cat /data/openssh ||| out=installed
export APPTAINER_NO_MOUNT=sys; $HUSK exec $IMG sh -c 'ls /sys | wc -l' ||| out=0
export APPTAINER_WRITABLE_TMPFS=1 APPTAINER_FAKEROOT=1; $HUSK exec $IMG sh -c 'echo x >/newfile && cat /newfile' ||| out=x
export APPTAINER_SECURITY=seccomp:$W/no_mkdir.json; $HUSK exec $IMG mkdir /tmp/x ||| status=159
export APPTAINER_APP=foo; $HUSK run $ENV ||| out=foo runs: foo
export APPTAINER_NETWORK=none; $HUSK exec $IMG cat /proc/net/dev | grep -c : ||| out=1
export APPTAINER_USERNS=1 APPTAINER_NO_EVAL=1 APPTAINER_UNSQUASH=1; $HUSK exec $IMG true ||| status=0
export APPTAINER_VM=1; $HUSK exec $IMG true ||| refused=APPTAINER_VM is not supported
export SINGULARITY_MEMORY=1G; $HUSK exec $IMG true ||| refused=SINGULARITY_MEMORY is not supported
export APPTAINER_WRITABLE=0; $HUSK exec $IMG true ||| status=0
export APPTAINER_CONTAIN=maybe; $HUSK exec $IMG true ||| refused=APPTAINER_CONTAIN=maybe
export APPTAINER_NETWORK=bridge; $HUSK exec $IMG true ||| refused=bridge
export APPTAINER_DISABLE_CACHE=1; $HUSK exec docker://busybox true ||| refused=APPTAINER_DISABLE_CACHE
EOF
summary
