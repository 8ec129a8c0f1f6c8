#!/usr/bin/env bash
# Seed corpus for fuzz_plan: plans of the shapes husk writes (the records
# of Integration/starter/test-starter.sh, with plan_record's encoding),
# written into DIR.
set -euo pipefail
dir=${1:?usage: seeds.sh DIR}
mkdir -p "$dir"
record() { # KEY FIELD...: one KEY(:LENGTH:BYTES)* line
    local LC_ALL=C key=$1 f
    shift
    printf '%s' "$key"
    for f in "$@"; do printf ':%d:%s' "${#f}" "$f"; done
    printf '\n'
}
base() {
    record version 1
    record name busybox
    record image /tmp/busybox.sqsh
    record offset 0
    record uid 1000
    record gid 1000
    record fakeroot 0
    record pid 0
}
{ base; record env PATH=/bin; record arg /bin/true; } >"$dir/minimal"
{ base; record cwd /; record bind /dev /dev rw,rec,dev; record bind /proc /proc rw,rec
  record bind /etc/hosts /etc/hosts ro,opt; record tmpfs /tmp 1777; record symlink /dev/fd /proc/self/fd
  record file /etc/passwd 644 $'root:x:0:0::/root:/bin/sh\nme:x:1000:1000::/home/me:/bin/sh\n'
  record mkdir /work; record rlimit nofile 1024 unlimited; record keep_fd 7
  record protect /home/me/.cache/husk 'image cache'; record seccomp '01234567'
  record env $'A=multi\nline'; record arg sh; record arg -c; record arg 'echo "$A"'; } >"$dir/full"
{ record version 1; record join 4242; record uid 1000; record gid 1000; record fakeroot 1
  record caps 802405fb; record subuid 100000 65536; record subgid 100000 65536
  record newuidmap /usr/bin/newuidmap; record newgidmap /usr/bin/newgidmap; record arg id; } >"$dir/join"
{ base; record net 1; record ipc 1; record uts 1; record hostname node; record writable_tmpfs 1
  record arg true; } >"$dir/namespaces"
{ base; record pid 1; record no_init 1; record umask 022; record overlay /home/me/ov/upper /home/me/ov/work
  record overlay_lower /home/me/layer; record arg true; } >"$dir/overlay"
