#!/usr/bin/env bash
# Damaged and crafted image files are untrusted input (DESIGN.md §3): an
# interrupted copy to the shared filesystem, a flipped bit, a hostile file.
# Every reader of them (husk exec, husk inspect, husk convert's archive
# readers) must answer with one line and status 1 or 255, never a signal.
# Run as the unprivileged user. Env: HUSK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
HUSK=${HUSK:-husk}

lib_work damaged --archive oci
size=$(stat -c %s "$W/bb.sqsh")

# answers_cleanly TITLE CMD...: status 0, or one of Husk's own (1; for
# exec 255, or 126/127 when the command cannot be run from the damaged
# tree) with exactly one "husk: " line on stderr; never a signal (128+N).
# exec runs a command the image lacks, so the status is Husk's, not the
# command's: a flipped byte may swap /bin/true for /bin/false.
answers_cleanly() {
    local title=$1
    shift
    check "$title" sh -c '
        "$@" >/dev/null 2>"$0"; s=$?
        if [ "$s" -eq 0 ]; then exit 0; fi
        case $s in 1 | 126 | 127 | 255) ;; *) echo "exit status $s"; cat "$0"; exit 1 ;; esac
        [ "$(grep -c "" "$0")" -eq 1 ] && grep -q "^husk: " "$0" || { echo "stderr:"; cat "$0"; exit 1; }' \
        "$W/err" "$@"
}
MISSING=/no/such/command

# Truncated copies: the first N bytes, from inside the superblock to just
# short of the end (the 300,000-byte case crashed husk once).
for n in 0 50 95 96 4096 65536 300000 $((size / 2)) $((size - 4096)) $((size - 1)); do
    head -c "$n" "$W/bb.sqsh" >"$W/trunc-$n.sqsh"
    answers_cleanly "first $n of $size bytes: husk inspect answers in one line" "$HUSK" inspect "$W/trunc-$n.sqsh"
    answers_cleanly "first $n of $size bytes: husk exec answers in one line" "$HUSK" exec "$W/trunc-$n.sqsh" $MISSING
done
check_fails "a truncated image names the problem (truncated) and the fix" "truncated" "$HUSK" inspect "$W/trunc-300000.sqsh"

# Byte flips: over the superblock, and over the tables at the end (inode,
# directory, fragment, id, export tables), where the metadata lives.
flip() { # OFFSET OUT: a copy with the byte at OFFSET inverted
    cp "$W/bb.sqsh" "$2"
    printf "$(printf '\\%03o' $(( ($(od -An -tu1 -j "$1" -N1 "$W/bb.sqsh") ^ 0xff) & 0xff )))" |
        dd of="$2" bs=1 seek="$1" conv=notrunc status=none
}
bytes_used=$(od -An -tu8 -j 40 -N 8 "$W/bb.sqsh" | tr -d ' ')
offsets="0 4 8 12 20 24 28 32 40 48 56 64 72 80 88"
for k in 1 2 3 5 8 13 21 34 55 89 144 233 377 610 987; do
    [ "$k" -lt "$bytes_used" ] && offsets="$offsets $((bytes_used - k))"
done
for off in $offsets; do
    flip "$off" "$W/flip-$off.sqsh"
    answers_cleanly "byte $off flipped: husk inspect answers in one line" "$HUSK" inspect "$W/flip-$off.sqsh"
    answers_cleanly "byte $off flipped: husk exec answers in one line" "$HUSK" exec "$W/flip-$off.sqsh" $MISSING
done
head -c 65536 /dev/urandom >"$W/random.sqsh"
check_fails_like "random bytes as an image: husk exec answers in one line, status 255" 255 "not a squashfs image" \
    "$HUSK" exec "$W/random.sqsh" true
check_fails_like "an empty file as an image: one line, status 255" 255 "husk: " "$HUSK" exec "$W/trunc-0.sqsh" true

# husk convert's archive reader on damaged oci-archives.
asize=$(stat -c %s "$W/bb-oci.tar")
for n in 512 10240 $((asize / 2)) $((asize - 1024)); do
    head -c "$n" "$W/bb-oci.tar" >"$W/arch-$n.tar"
    answers_cleanly "oci-archive cut at $n of $asize bytes: husk convert answers in one line" \
        "$HUSK" convert -q oci-archive:"$W/arch-$n.tar" "$W/out-$n.sqsh"
    # Only the archive's end-of-archive blocks may be missing for it to succeed.
    check "... and leaves a whole image or nothing (no temporary file)" sh -c '
        ! ls "$1".tmp-* 2>/dev/null | grep -q . && { [ ! -e "$1" ] || "$2" inspect "$1" >/dev/null; }' \
        _ "$W/out-$n.sqsh" "$HUSK"
done
for off in 100 600 1100 $((asize / 3)) $((asize / 2)); do
    cp "$W/bb-oci.tar" "$W/aflip.tar"
    printf '\377\000\377' | dd of="$W/aflip.tar" bs=1 seek="$off" conv=notrunc status=none
    answers_cleanly "oci-archive with bytes at $off overwritten: husk convert answers in one line" \
        "$HUSK" convert -q oci-archive:"$W/aflip.tar" "$W/aflip.sqsh"
    rm -f "$W/aflip.sqsh"
done

summary
