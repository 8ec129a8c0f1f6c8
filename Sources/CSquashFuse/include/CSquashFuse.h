/*
 * CSquashFuse: a squashfs image served over FUSE by libsquashfuse_ll, in this
 * process, on one thread, behind an opaque handle.  The squashfuse headers
 * are included only by CSquashFuse.c (they define their own config macros and
 * clash with libsquashfs names); nothing here needs them.
 *
 * Use from a single-threaded program:
 *   husk_sqfuse *fs = husk_sqfuse_open(path, offset);      // reads the superblock
 *   husk_sqfuse_mount(fs, "/mnt");                          // mount(2) on /dev/fuse
 *   poll(husk_sqfuse_fd(fs)) ... husk_sqfuse_serve_one(fs); // one request per call
 */
#ifndef HUSK_CSQUASHFUSE_H
#define HUSK_CSQUASHFUSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct husk_sqfuse husk_sqfuse;

/* Open a squashfs image starting OFFSET bytes into PATH.  Returns NULL with
   errno set (EINVAL: not a squashfs image or unsupported compression). */
husk_sqfuse *husk_sqfuse_open(const char *path, uint64_t offset);

/* Mount the image read-only on MOUNTPOINT (directly with mount(2); works
   inside a user namespace that owns the mount namespace).  FSNAME is shown
   as the mount source.  Returns 0, or -1 with errno set.  libfuse's own
   diagnostics are suppressed. */
int husk_sqfuse_mount(husk_sqfuse *fs, const char *mountpoint, const char *fsname);

/* The /dev/fuse descriptor to poll for readability (-1 before mount). */
int husk_sqfuse_fd(const husk_sqfuse *fs);

/* Read one request from the kernel and answer it.  Call when the fd is
   readable.  Returns 1 when a request was handled (or the read was
   interrupted), 0 when the file system was unmounted or the connection
   aborted, -errno on an unexpected error. */
int husk_sqfuse_serve_one(husk_sqfuse *fs);

/* Close the descriptor in a forked child that must not keep the
   connection alive (does not unmount, frees nothing shared). */
void husk_sqfuse_close_fd_in_child(husk_sqfuse *fs);

/* The image file's descriptor (-1 if closed). */
int husk_sqfuse_image_fd(const husk_sqfuse *fs);

/* Close the image file in a process that no longer serves FS (the
   starter, once the FUSE server runs): nothing but the server holds it. */
void husk_sqfuse_close_image(husk_sqfuse *fs);

#ifdef __cplusplus
}
#endif

#endif
