/* The skeleton root, for containers that need new entries directly in /.

   Site paths and working directories are often new top-level directories
   (/lustre, /scratch, /work).  An overlay on the whole root would make them,
   but overlayfs slows every lookup and read in the container by a quarter
   or more.  Instead the root becomes a small tmpfs holding one stand-in per
   top-level entry of the image: directories and files with the image's own
   bound read-only over them, symlinks copied.  New entries are made on the
   tmpfs, and everything below the top level is the bare image mount. */
#ifndef HUSK_STARTER_SKELETON_H
#define HUSK_STARTER_SKELETON_H

/* Mount the skeleton of the image at LOWER on ROOT (an empty directory).
   The tmpfs stays writable until the caller's final read-only remount. */
void mount_skeleton_root(const char *lower, const char *root);

#endif
