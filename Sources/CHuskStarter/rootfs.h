/* Staging on a private /tmp, the overlay root, files, binds and pivot_root. */
#ifndef HUSK_STARTER_ROOTFS_H
#define HUSK_STARTER_ROOTFS_H

#include "plan.h"

/* Staging directories, all on a tmpfs mounted over the host's /tmp inside
   our private mount namespace (nothing is created on the host). */
#define STAGE_DIR "/tmp"
#define LOWER_DIR "/tmp/image"
#define UPPER_DIR "/tmp/upper"
#define WORK_DIR "/tmp/work"
#define ROOT_DIR "/tmp/root"

/* Step 4: open every bind source (O_PATH, following symlinks) before /tmp
   is shadowed.  Missing required source: exit 255; optional: skipped. */
void open_bind_sources(struct plan *plan);

/* Step 5: tmpfs over /tmp with image/ upper/ work/ root/ inside. */
void mount_staging(const struct plan *plan);

/* rootfs= mode: bind the directory (opened before staging) on LOWER_DIR. */
void mount_lower_dir(int dirfd, const char *path);

/* Steps 7-11 in the forked child: the root (image bind with overlays on
   the directories needing new entries, a skeleton root for new top-level
   entries, or a whole-root overlay; read-only bind fallback),
   file= records, bind=/tmpfs=/proc mounts, read-only remount, pivot_root,
   chdir. */
void build_root(const struct plan *plan);

#endif
