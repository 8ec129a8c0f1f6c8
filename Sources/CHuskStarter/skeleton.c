/* The skeleton root: a tmpfs with the image's top-level entries bound in. */
#define _GNU_SOURCE
#include "skeleton.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Bind the entry NAME of the image (in LOWERDIR, a readable directory fd)
   on its stand-in in the skeleton (in ROOTFD).  The bind copies the flags
   of the image mount, made read-only beforehand. */
static void bind_entry(int lowerdir, int rootfd, const char *name) {
    char sproc[32], tproc[32];
    int src = openat(lowerdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    int dst = openat(rootfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0 || dst < 0)
        fail_errno(errno, NULL, "opening /%s for the container root", name);
    if (mount(fd_proc_path(src, sproc), fd_proc_path(dst, tproc), NULL, MS_BIND | MS_REC, NULL) < 0)
        fail_errno(errno, NULL, "bind mounting the image's /%s", name);
    close(src);
    close(dst);
}

/* Stand-in for a top-level entry of type TYPE (a d_type) in the skeleton. */
static void make_stand_in(int lowerdir, int rootfd, const char *name, unsigned char type) {
    if (type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(lowerdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            fail_errno(errno, NULL, "reading the image's /%s", name);
        type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    }
    if (type == DT_LNK) {
        /* /lib -> usr/lib on merged-/usr images: copied, never bound, so
           it resolves inside the container as in the image. */
        char target[4096];
        ssize_t n = readlinkat(lowerdir, name, target, sizeof target - 1);
        if (n < 0)
            fail_errno(errno, NULL, "reading the image's symlink /%s", name);
        target[n] = '\0';
        if (symlinkat(target, rootfd, name) < 0)
            fail_errno(errno, NULL, "copying the image's symlink /%s", name);
        return;
    }
    /* The stand-in's own mode and owner are hidden under the bind. */
    if (type == DT_DIR) {
        if (mkdirat(rootfd, name, 0755) < 0)
            fail_errno(errno, NULL, "creating the mount point /%s", name);
    } else {
        /* Files, and FIFOs or devices kept as entries: a bind needs a
           non-directory to land on. */
        int f = openat(rootfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0)
            fail_errno(errno, NULL, "creating the mount point /%s", name);
        close(f);
    }
    bind_entry(lowerdir, rootfd, name);
}

void mount_skeleton_root(const char *lower, const char *root) {
    /* Read-only first: an extracted image is the user's own directory, and
       its binds must not make it writable from inside.  One call here
       spares a statfs through FUSE per bind. */
    struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    if (mount_setattr(AT_FDCWD, lower, AT_RECURSIVE, &ro, sizeof ro) < 0)
        fail_errno(errno, "Linux 5.12+ has mount_setattr", "making the image mount read-only");
    int lowerdir = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat rst;
    if (lowerdir < 0 || fstat(lowerdir, &rst) < 0)
        fail_errno(errno, "the image server may have failed", "reading the image root");
    char options[64];
    snprintf(options, sizeof options, "mode=%o,size=1m", (unsigned)(rst.st_mode & 07777));
    if (mount("husk-root", root, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
        fail_errno(errno, NULL, "mounting the container root's tmpfs on %s", root);
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        fail_errno(errno, NULL, "opening %s", root);

    DIR *d = fdopendir(dup(lowerdir));
    if (!d)
        fail_errno(errno, NULL, "listing the image root");
    struct dirent *e;
    while ((errno = 0, e = readdir(d))) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        make_stand_in(lowerdir, rootfd, name, e->d_type);
    }
    if (errno)
        fail_errno(errno, NULL, "listing the image root");
    closedir(d);
    close(rootfd);
    close(lowerdir);
}
