#!/usr/bin/env bash
# What needs root to check, run by Scripts/test as root before it drops to
# the unprivileged user: a signed image file still mounts with the kernel's
# squashfs (mount -o loop), so signing keeps it one ordinary squashfs file.
# Env: HUSK. Skipped where loop devices are not available.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=${HUSK:-husk}
lib_needs_root "the kernel mounts a signed image file"
lib_work kernel-mount
export GNUPGHOME=$W/gnupg
mkdir -m 700 "$GNUPGHOME" "$W/mnt"
# umount can fail right after a loop mount while udev still probes the new
# loop device ("target is busy"); a lazy unmount then finishes the job.
unmount() { umount "$1" 2>/dev/null || { sleep 1; umount "$1" 2>/dev/null; } || umount -l "$1"; }
trap 'mountpoint -q "$W/mnt" && unmount "$W/mnt"; gpgconf --kill all 2>/dev/null; lib_remove_work "$W"; lib_cleanup' EXIT
gpg --batch --quiet --passphrase '' --quick-gen-key "Kernel test <k@example.org>" ed25519 sign never 2>/dev/null
cp "$IMG" "$W/signed.sqsh"
"$HUSK" sign --key k@example.org "$W/signed.sqsh" >/dev/null
if ! mount -t squashfs -o loop,ro "$IMG" "$W/mnt" 2>/dev/null; then
    skip "the kernel mounts a signed image file" "no loop devices or squashfs here"
    summary
    exit 0
fi
if ! unmount "$W/mnt"; then
    skip "the kernel mounts a signed image file" "the kernel mounted the unsigned image but would not unmount it"
    summary
    exit 0
fi
check "the kernel mounts a signed image file (mount -t squashfs -o loop)" sh -c '
    mount -t squashfs -o loop,ro "$1" "$2" && test -x "$2/bin/busybox"; s=$?
    umount "$2" 2>/dev/null || { sleep 1; umount "$2" 2>/dev/null; } || umount -l "$2"; exit $s' _ "$W/signed.sqsh" "$W/mnt"
summary
