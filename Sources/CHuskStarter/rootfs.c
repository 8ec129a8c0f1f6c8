/* Staging on a private /tmp, the container root (overlays, skeleton), files, binds and pivot_root. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "protect.h"
#include "skeleton.h"
#include "util.h"

#define MAX_COMPONENTS 256

/* ---- path components -------------------------------------------------- */

struct comps {
    char buf[4096];
    char *c[MAX_COMPONENTS];
    size_t n;
};

static void split_path(const char *path, struct comps *out, const char *what) {
    size_t len = strlen(path);
    if (len >= sizeof out->buf)
        fail_errno(ENAMETOOLONG, NULL, "%s %s", what, path);
    memcpy(out->buf, path, len + 1);
    out->n = 0;
    for (char *tok = strtok(out->buf, "/"); tok; tok = strtok(NULL, "/")) {
        if (out->n == MAX_COMPONENTS)
            fail_errno(ENAMETOOLONG, NULL, "%s %s", what, path);
        out->c[out->n++] = tok;
    }
}

/* "/c0/c1/.../c(k-1)" into BUF. */
static const char *prefix_path(const struct comps *cs, size_t k, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k; i++)
        len += (size_t)snprintf(buf + len, size - len, "/%s", cs->c[i]);
    if (len == 0)
        snprintf(buf, size, "/");
    return buf;
}

/* The path of FD relative to BASE ("" for BASE itself), into OUT. */
static void rel_path_of(int fd, const char *base, char *out, size_t size, const char *what,
                        const char *dst) {
    char abs[4096];
    if (fd_path(fd, abs, sizeof abs) < 0)
        fail_errno(errno, NULL, "resolving %s %s", what, dst);
    if (!path_has_prefix(abs, base))
        fail("%s %s: resolves outside the container root (%s)", what, dst, abs);
    snprintf(out, size, "%s", abs + strlen(base));
}

static int is_kernel_fs_path(const char *p) {
    return path_has_prefix(p, "/proc") || path_has_prefix(p, "/dev") || path_has_prefix(p, "/sys");
}

/* ---- where new entries may be made -------------------------------------- */

/* The mounts Husk made itself (overlays, the skeleton root, tmpfs), by
   mount id: new mount points may be created on them.  Anywhere else (a
   directory bound from the host, the image) a new entry is made only where
   the path, as written, leads: never where an image's symlink points, or
   an image with "/etc -> /tmp" would make Husk create files in the host's
   /tmp. */
#define MAX_OWN_MOUNTS 64
static uint64_t own_mounts[MAX_OWN_MOUNTS];
static size_t nown_mounts;

static uint64_t mount_id(int fd) {
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
        return 0;
    return stx.stx_mnt_id;
}

/* Call after mounting on the directory FD refers to (reopened). */
static void note_own_mount(int rootfd, const char *path) {
    int fd = open_in_root(rootfd, path, 0);
    if (fd < 0)
        fail_errno(errno, NULL, "opening %s in the container root", path);
    uint64_t id = mount_id(fd);
    close(fd);
    if (id && nown_mounts < MAX_OWN_MOUNTS)
        own_mounts[nown_mounts++] = id;
}

/* May an entry be created in DIRFD, reached by the lexical path LEXICAL
   (in the container root)?  Fails with exit 255 when not. */
static void check_creation(int dirfd, const char *lexical, const char *what, const char *dst) {
    uint64_t id = mount_id(dirfd);
    for (size_t i = 0; i < nown_mounts; i++)
        if (id && own_mounts[i] == id)
            return;
    char rel[4096];
    rel_path_of(dirfd, ROOT_DIR, rel, sizeof rel, what, dst);
    if (strcmp(rel[0] ? rel : "/", lexical) != 0)
        fail("%s %s: the image's symlinks lead it to %s, a directory that is not the image's "
             "(bound from the host); refusing to create anything there",
             what, dst, rel[0] ? rel : "/");
}

/* ---- step 4 and 5 ------------------------------------------------------ */

/* An --overlay directory: it must exist and be a directory (the upper and
   work directories husk created and checked; the read-only layers). Not
   through a symlink planted since husk checked it. */
static int open_overlay_dir(const char *path, const char *what) {
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        fail_errno(errno, NULL, "%s %s", what, path);
    return fd;
}

void open_bind_sources(struct plan *plan) {
    if (plan->overlay_upper) {
        plan->overlay_upper_fd = open_overlay_dir(plan->overlay_upper, "overlay directory");
        plan->overlay_work_fd = open_overlay_dir(plan->overlay_work, "overlay work directory");
    }
    for (size_t i = 0; i < plan->noverlay_lower; i++)
        plan->overlay_lower[i].fd = open_overlay_dir(plan->overlay_lower[i].path, "read-only overlay");
    for (size_t i = 0; i < plan->nmounts; i++) {
        struct mount_op *m = &plan->mounts[i];
        if (m->kind != MOUNT_BIND)
            continue;
        int fd = open(m->src, O_PATH | O_CLOEXEC);
        if (fd < 0) {
            if (m->flags & BIND_OPT)
                continue;
            fail_errno(errno, NULL, "bind source %s", m->src);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
            fail_errno(errno, NULL, "bind source %s", m->src);
        m->src_fd = fd;
        m->src_is_dir = S_ISDIR(st.st_mode);
    }
}

void mount_staging(const struct plan *plan) {
    const char *opts = plan->writable_tmpfs ? "mode=0755,size=1g" : "mode=0755,size=16m";
    if (mount("husk", STAGE_DIR, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        fail_errno(errno, "a private tmpfs over /tmp holds the container's mount points",
                   "mounting the staging tmpfs on " STAGE_DIR);
    const char *dirs[] = {LOWER_DIR, UPPER_DIR, WORK_DIR, ROOT_DIR};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (mkdir(dirs[i], 0755) < 0)
            fail_errno(errno, NULL, "creating %s", dirs[i]);
}

void mount_lower_dir(int dirfd, const char *path) {
    char proc[32];
    if (mount(fd_proc_path(dirfd, proc), LOWER_DIR, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail_errno(errno, NULL, "bind mounting the root directory %s", path);
    /* Read-only from the start: an extracted image is the user's own
       directory, and nothing Husk does may write into it. */
    struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    if (mount_setattr(AT_FDCWD, LOWER_DIR, AT_RECURSIVE, &ro, sizeof ro) < 0 && errno != ENOSYS)
        fail_errno(errno, NULL, "making the root directory %s read-only", path);
}

/* ---- phase A: mount points and files in the upper layer ---------------- */

enum entry_kind { ENTRY_DIR, ENTRY_FILE, ENTRY_CONTENT };

/* Open (creating as a directory with MODE if missing) COMP under DIRFD. */
static int upper_mkdir_open(int dirfd, const char *comp, mode_t mode, const char *what,
                            const char *dst) {
    if (mkdirat(dirfd, comp, mode) < 0 && errno != EEXIST)
        fail_errno(errno, NULL, "creating %s %s in the overlay", what, dst);
    int fd = openat(dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        fail_errno(errno, NULL, "creating %s %s in the overlay", what, dst);
    return fd;
}

static void write_content(int dirfd, const char *name, const struct file_rec *f) {
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, f->mode);
    if (fd < 0)
        fail_errno(errno, NULL, "writing %s", f->dst);
    if (write_all(fd, f->content, f->len) < 0 || fchmod(fd, f->mode) < 0)
        fail_errno(errno, NULL, "writing %s", f->dst);
    close(fd);
}

/* Opens the deepest part of CS that exists in the image (symlinks resolved
   inside it, as at run time); *HAVE is the number of components found. */
static int open_existing_prefix(int lowerfd, const struct comps *cs, size_t *have,
                                const char *what, const char *dst) {
    char prefix[4096];
    int cur = open_in_root(lowerfd, "/", 0);
    if (cur < 0)
        fail_errno(errno, NULL, "opening the image root");
    for (*have = 0; *have < cs->n; (*have)++) {
        int fd = open_in_root(lowerfd, prefix_path(cs, *have + 1, prefix, sizeof prefix), 0);
        if (fd < 0) {
            if (errno == ENOENT)
                break;
            fail_errno(errno, NULL, "%s %s", what, dst);
        }
        close(cur);
        cur = fd;
    }
    return cur;
}

/* Make DST exist in the merged view by creating it (and copies of the
   image directories leading to it) in the upper layer, before the overlay
   is mounted.  Image files belong to ids that are unmapped in our user
   namespace, so nothing can be created through the overlay in directories
   that come only from the image; directories we create in the upper layer
   are ours and merge with the image's.  Symlinks are resolved inside the
   image (RESOLVE_IN_ROOT), as they would be at run time.  With SKELETON,
   entries new directly in / are left to phase B, on the skeleton root. */
static void prepare_upper(int lowerfd, int skeleton, const char *dst, enum entry_kind kind,
                          const struct file_rec *file, const char *what) {
    struct comps cs;
    char prefix[4096], rel[4096];
    split_path(dst, &cs, what);
    size_t have;
    int cur = open_existing_prefix(lowerfd, &cs, &have, what, dst);
    if (have == cs.n && kind != ENTRY_CONTENT) {
        close(cur);
        return; /* mount point exists in the image */
    }
    rel_path_of(cur, LOWER_DIR, rel, sizeof rel, what, dst);
    if (skeleton && have < cs.n && rel[0] == '\0') {
        close(cur);
        return; /* made on the skeleton root in phase B */
    }
    struct stat st;
    if (fstat(cur, &st) < 0)
        fail_errno(errno, NULL, "%s %s", what, dst);
    close(cur);

    /* The directory (resolved, inside the image) that gets new entries,
       and the names to create in it. */
    struct comps dir, rest;
    char final[256] = "";
    if (have == cs.n) { /* file= over an existing image file */
        if (S_ISDIR(st.st_mode))
            fail_errno(EISDIR, NULL, "writing %s", dst);
        char *slash = strrchr(rel, '/');
        if (!slash)
            fail_errno(EINVAL, NULL, "writing %s", dst);
        snprintf(final, sizeof final, "%s", slash + 1);
        *slash = '\0';
        rest.n = 0;
    } else {
        if (!S_ISDIR(st.st_mode))
            fail_errno(ENOTDIR, NULL, "%s %s", what, dst);
        rest.n = 0;
        for (size_t i = have; i < cs.n; i++)
            rest.c[rest.n++] = cs.c[i];
    }
    split_path(rel, &dir, what);

    /* Copy the image directories down to DIR into the upper layer. */
    int ufd = open(UPPER_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ufd < 0)
        fail_errno(errno, NULL, "opening " UPPER_DIR);
    for (size_t i = 0; i < dir.n; i++) {
        int lfd = open_in_root(lowerfd, prefix_path(&dir, i + 1, prefix, sizeof prefix), 0);
        struct stat ds;
        if (lfd < 0 || fstat(lfd, &ds) < 0)
            fail_errno(errno, NULL, "%s %s", what, dst);
        close(lfd);
        int nfd = upper_mkdir_open(ufd, dir.c[i], ds.st_mode & 07777, what, dst);
        close(ufd);
        ufd = nfd;
    }

    /* New entries below it. */
    for (size_t i = 0; i + 1 < rest.n; i++) {
        int nfd = upper_mkdir_open(ufd, rest.c[i], 0755, what, dst);
        close(ufd);
        ufd = nfd;
    }
    const char *name = rest.n ? rest.c[rest.n - 1] : final;
    switch (kind) {
    case ENTRY_DIR:
        if (mkdirat(ufd, name, 0755) < 0 && errno != EEXIST)
            fail_errno(errno, NULL, "creating %s %s in the overlay", what, dst);
        break;
    case ENTRY_FILE: {
        int fd = openat(ufd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
            fail_errno(errno, NULL, "creating %s %s in the overlay", what, dst);
        close(fd);
        break;
    }
    case ENTRY_CONTENT:
        write_content(ufd, name, file);
        break;
    }
    close(ufd);
}

/* ---- where the overlay goes ------------------------------------------- */

/* Overlayfs slows every lookup and read below it (reading all of /usr takes
   1.25x as long through FUSE, 1.35x from an extracted directory), so it
   covers only the image directories that must get new entries: the deepest
   existing directory above each missing mount point or file (/etc for an
   image converted without resolv.conf; /home for $HOME, which is bound
   rather than overlaid when /home is empty in the image, as it mostly is:
   mount_overlay_dirs).  The rest of the image is the bare mount,
   and files that replace existing ones (passwd, group) are bound over them.
   New entries directly in / (/lustre, a working directory in /scratch) go
   on a skeleton root (skeleton.h).  --writable-tmpfs, or a directory whose
   name overlayfs options cannot carry, puts the overlay on the whole root. */
#define MAX_OVERLAYS 16

struct overlay_dirs {
    char path[MAX_OVERLAYS][4096]; /* resolved, relative to LOWER_DIR; none nested */
    size_t n;
    int skeleton_root; /* some new entries go directly in / */
    int whole_root;
};

static void add_overlay_dir(struct overlay_dirs *o, const char *rel) {
    if (!rel[0]) {
        o->skeleton_root = 1;
        return;
    }
    if (strpbrk(rel, ",:\\")) {
        o->whole_root = 1;
        return;
    }
    for (size_t i = 0; i < o->n; i++)
        if (path_has_prefix(rel, o->path[i]))
            return; /* below an overlay already */
    /* An overlay on REL covers those below it: the upper layer mirrors
       every directory from the root down to each new entry. */
    size_t kept = 0;
    for (size_t i = 0; i < o->n; i++)
        if (!path_has_prefix(o->path[i], rel)) {
            if (kept != i)
                memcpy(o->path[kept], o->path[i], sizeof o->path[i]);
            kept++;
        }
    o->n = kept;
    if (o->n == MAX_OVERLAYS) {
        o->whole_root = 1;
        return;
    }
    snprintf(o->path[o->n++], sizeof o->path[0], "%s", rel);
}

/* When the image lacks DST: 1, and the (resolved) directory it would be
   created in, relative to the image root, into REL ("" for the root). */
static int missing_in_image(int lowerfd, const char *dst, char *rel, size_t size, const char *what) {
    struct comps cs;
    size_t have;
    split_path(dst, &cs, what);
    int fd = open_existing_prefix(lowerfd, &cs, &have, what, dst);
    if (have < cs.n)
        rel_path_of(fd, LOWER_DIR, rel, size, what, dst);
    close(fd);
    return have < cs.n;
}

/* Notes the directory DST would be created in, if the image lacks it. */
static void note_new_entry(int lowerfd, const char *dst, struct overlay_dirs *o, const char *what) {
    char rel[4096];
    if (missing_in_image(lowerfd, dst, rel, sizeof rel, what))
        add_overlay_dir(o, rel);
}

/* True when DST is missing and would be created directly in /: on the
   skeleton root, phase B makes it. */
static int new_in_root(int lowerfd, const char *dst, const char *what) {
    char rel[4096];
    return missing_in_image(lowerfd, dst, rel, sizeof rel, what) && rel[0] == '\0';
}

static int in_image(int lowerfd, const char *dst) {
    int fd = open_in_root(lowerfd, dst, 0);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

static int under_earlier_mount(const struct plan *plan, size_t i, const char *dst);

/* The whole root is an overlay: --writable-tmpfs, --overlay (a writable
   directory or read-only layers). */
static int whole_root_overlay(const struct plan *plan) {
    return plan->writable_tmpfs || plan->overlay_upper || plan->noverlay_lower > 0;
}

static void find_overlay_dirs(const struct plan *plan, int lowerfd, struct overlay_dirs *o) {
    o->n = 0;
    o->skeleton_root = 0;
    o->whole_root = whole_root_overlay(plan);
    for (size_t i = 0; i < plan->nfiles && !o->whole_root; i++)
        note_new_entry(lowerfd, plan->files[i].dst, o, "file");
    for (size_t i = 0; i < plan->ndirs && !o->whole_root; i++)
        note_new_entry(lowerfd, plan->dirs[i], o, "working directory");
    for (size_t i = 0; i < plan->nmounts && !o->whole_root; i++) {
        const struct mount_op *m = &plan->mounts[i];
        if ((m->kind == MOUNT_BIND && m->src_fd < 0) || under_earlier_mount(plan, i, m->dst))
            continue;
        note_new_entry(lowerfd, m->dst, o, m->kind == MOUNT_BIND ? "bind destination" : "mount point");
    }
}

/* True when the image directory REL (relative to LOWER_DIR) has no entries. */
static int image_dir_is_empty(const char *rel) {
    char path[4096 + sizeof LOWER_DIR];
    snprintf(path, sizeof path, LOWER_DIR "%s", rel);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* Read-only overlays on the container root's directories O names; their
   upper layers were filled in phase A. An image directory with nothing in
   it (/home, in most images) gets its upper layer bound instead, read-only:
   that is all the overlay would show, and the bind costs the image's FUSE
   server no round trip (overlayfs asks its lower layer for a statfs). */
static void mount_overlay_dirs(int rootfd, const struct overlay_dirs *o) {
    for (size_t i = 0; i < o->n; i++) {
        char work[64], options[2 * 4096 + 128], tproc[32];
        if (image_dir_is_empty(o->path[i])) {
            char upper[4096 + sizeof UPPER_DIR], target[4096 + sizeof ROOT_DIR];
            snprintf(upper, sizeof upper, UPPER_DIR "%s", o->path[i]);
            snprintf(target, sizeof target, ROOT_DIR "%s", o->path[i]);
            int fd = open_in_root(rootfd, o->path[i], 0);
            if (fd < 0)
                fail_errno(errno, NULL, "opening %s in the container root", o->path[i]);
            if (mount(upper, fd_proc_path(fd, tproc), NULL, MS_BIND, NULL) < 0 ||
                add_mount_flags(target, MS_RDONLY | MS_NOSUID | MS_NODEV, 0) < 0)
                fail_errno(errno, NULL, "binding the new entries of %s", o->path[i]);
            close(fd);
            note_own_mount(rootfd, o->path[i]);
            continue;
        }
        snprintf(work, sizeof work, WORK_DIR "/%zu", i);
        if (mkdir(work, 0755) < 0)
            fail_errno(errno, NULL, "creating %s", work);
        snprintf(options, sizeof options, "lowerdir=" LOWER_DIR "%s,upperdir=" UPPER_DIR "%s,workdir=%s,userxattr",
                 o->path[i], o->path[i], work);
        int fd = open_in_root(rootfd, o->path[i], 0);
        if (fd < 0)
            fail_errno(errno, NULL, "opening %s in the container root", o->path[i]);
        if (mount("overlay", fd_proc_path(fd, tproc), "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, options) < 0)
            fail_errno(errno, "overlayfs in a user namespace (Linux 5.11+) makes the missing mount points",
                       "mounting an overlay on %s", o->path[i]);
        close(fd);
        note_own_mount(rootfd, o->path[i]);
    }
}

/* ---- phase B: mounts in the merged root -------------------------------- */

/* Open DST inside ROOTFD, creating missing parts (directories, and a file
   as the last part unless WANT_DIR) unless NO_CREATE. */
static int ensure_in_root(int rootfd, const char *dst, int want_dir, int no_create,
                          const char *what) {
    struct comps cs;
    char prefix[4096];
    split_path(dst, &cs, what);
    int cur = open_in_root(rootfd, "/", 0);
    if (cur < 0)
        fail_errno(errno, NULL, "opening the container root");
    for (size_t i = 0; i < cs.n; i++) {
        prefix_path(&cs, i + 1, prefix, sizeof prefix);
        int fd = open_in_root(rootfd, prefix, 0);
        if (fd < 0 && errno == ENOENT) {
            if (no_create)
                fail("%s %s: does not exist in the image, and without an overlay (overlayfs "
                     "unavailable here) no mount point can be created",
                     what, dst);
            char parent[4096];
            check_creation(cur, prefix_path(&cs, i, parent, sizeof parent), what, dst);
            int last = i + 1 == cs.n;
            if (!last || want_dir) {
                if (mkdirat(cur, cs.c[i], 0755) < 0 && errno != EEXIST)
                    fail_errno(errno, NULL, "creating %s %s", what, dst);
            } else {
                int f = openat(cur, cs.c[i], O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0)
                    fail_errno(errno, NULL, "creating %s %s", what, dst);
                close(f);
            }
            fd = open_in_root(rootfd, prefix, 0);
        }
        if (fd < 0)
            fail_errno(errno, NULL, "%s %s", what, dst);
        close(cur);
        cur = fd;
    }
    return cur;
}

/* DST's parent inside the root (created if missing), then the link; an
   existing DST is left as it is. */
static void make_symlink(int rootfd, const struct symlink_rec *l, int no_create) {
    char parent[4096];
    const char *slash = strrchr(l->dst, '/');
    size_t n = (size_t)(slash - l->dst);
    snprintf(parent, sizeof parent, "%.*s", (int)(n ? n : 1), n ? l->dst : "/");
    int dirfd = ensure_in_root(rootfd, parent, 1, no_create, "symlink");
    check_creation(dirfd, parent, "symlink", l->dst);
    if (symlinkat(l->target, dirfd, slash + 1) < 0 && errno != EEXIST)
        fail_errno(errno, NULL, "creating the symlink %s -> %s", l->dst, l->target);
    close(dirfd);
}

static void do_mount(int rootfd, const struct mount_op *m, int no_create) {
    if (m->kind == MOUNT_BIND && m->src_fd < 0)
        return; /* optional, missing */
    const char *what = m->kind == MOUNT_BIND ? "bind destination" : "mount point";
    int want_dir = m->kind != MOUNT_BIND || m->src_is_dir;
    int tfd = ensure_in_root(rootfd, m->dst, want_dir, no_create, what);
    char rel[4096], target[4096], sproc[32], tproc[32];
    rel_path_of(tfd, ROOT_DIR, rel, sizeof rel, what, m->dst);
    if ((m->flags & BIND_USER) && is_kernel_fs_path(rel[0] ? rel : "/"))
        fail("bind destination %s: refusing to mount over /proc, /dev or /sys", m->dst);
    snprintf(target, sizeof target, ROOT_DIR "%s", rel);
    fd_proc_path(tfd, tproc);

    switch (m->kind) {
    case MOUNT_BIND: {
        unsigned long fl = MS_BIND | ((m->flags & BIND_REC) ? MS_REC : 0);
        if (mount(fd_proc_path(m->src_fd, sproc), tproc, NULL, fl, NULL) < 0)
            fail_errno(errno, NULL, "bind mounting %s on %s", m->src, m->dst);
        unsigned long extra = 0;
        if (m->flags & BIND_RO)
            extra |= MS_RDONLY;
        if (!(m->flags & BIND_DEV))
            extra |= MS_NOSUID | MS_NODEV;
        /* Recursive binds: the submounts (cgroup under /sys, say) too. */
        if (extra && add_mount_flags(target, extra, m->flags & BIND_REC) < 0)
            fail_errno(errno, NULL, "remounting %s %s", m->dst,
                       (m->flags & BIND_RO) ? "read-only" : "nosuid,nodev");
        break;
    }
    case MOUNT_TMPFS: {
        char options[32];
        snprintf(options, sizeof options, "mode=%o", m->tmpfs_mode ? m->tmpfs_mode : 01777);
        if (mount("tmpfs", tproc, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
            fail_errno(errno, NULL, "mounting a tmpfs on %s", m->dst);
        note_own_mount(rootfd, rel[0] ? rel : "/");
        break;
    }
    case MOUNT_PROC:
        if (mount("proc", tproc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            fail_errno(errno, "a new /proc needs a fully visible /proc on the host",
                       "mounting a new /proc");
        break;
    }
    close(tfd);
}

/* A file= record over an existing image file outside any overlay (or with
   no overlay at all) is staged on the tmpfs and bound over it. */
static void bind_file_fallback(int rootfd, const struct file_rec *f, size_t index, int no_create) {
    char staged[64], tproc[32], target[4096], rel[4096];
    snprintf(staged, sizeof staged, STAGE_DIR "/file-%zu", index);
    int dfd = open(STAGE_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        fail_errno(errno, NULL, "opening " STAGE_DIR);
    write_content(dfd, staged + strlen(STAGE_DIR) + 1, f);
    close(dfd);
    int tfd = ensure_in_root(rootfd, f->dst, 0, no_create, "file");
    rel_path_of(tfd, ROOT_DIR, rel, sizeof rel, "file", f->dst);
    snprintf(target, sizeof target, ROOT_DIR "%s", rel);
    if (mount(staged, fd_proc_path(tfd, tproc), NULL, MS_BIND, NULL) < 0)
        fail_errno(errno, NULL, "bind mounting the contents of %s", f->dst);
    if (add_mount_flags(target, MS_RDONLY | MS_NOSUID | MS_NODEV, 0) < 0)
        fail_errno(errno, NULL, "remounting %s read-only", f->dst);
    close(tfd);
}

static int under_earlier_mount(const struct plan *plan, size_t i, const char *dst) {
    for (size_t j = 0; j < i; j++) {
        const struct mount_op *m = &plan->mounts[j];
        if (m->kind == MOUNT_BIND && m->src_fd < 0)
            continue;
        if (path_has_prefix(dst, m->dst) && strcmp(dst, m->dst) != 0)
            return 1;
    }
    return 0;
}

/* The whole-root overlay's options.  Without --overlay: the staging upper
   layer over the image.  With read-only layers: they go between.  With a
   writable --overlay: its directory is the upper layer, and the staging
   layer (mount points, files) becomes the topmost lower one, so nothing of
   Husk's own lands in the user's directory.  Host directories are named by
   their descriptors (opened before /tmp was shadowed; no ',' or ':' in a
   path can break the option string). */
static void whole_root_options(const struct plan *plan, char *out, size_t size) {
    char fdpath[32];
    size_t len = (size_t)snprintf(out, size, "lowerdir=");
    if (plan->overlay_upper)
        len += (size_t)snprintf(out + len, size - len, UPPER_DIR ":");
    for (size_t i = 0; i < plan->noverlay_lower; i++)
        len += (size_t)snprintf(out + len, size - len, "%s:", fd_proc_path(plan->overlay_lower[i].fd, fdpath));
    len += (size_t)snprintf(out + len, size - len, LOWER_DIR);
    if (plan->overlay_upper) {
        len += (size_t)snprintf(out + len, size - len, ",upperdir=%s", fd_proc_path(plan->overlay_upper_fd, fdpath));
        len += (size_t)snprintf(out + len, size - len, ",workdir=%s", fd_proc_path(plan->overlay_work_fd, fdpath));
    } else {
        len += (size_t)snprintf(out + len, size - len, ",upperdir=" UPPER_DIR ",workdir=" WORK_DIR);
    }
    if ((size_t)snprintf(out + len, size - len, ",userxattr") >= size - len)
        fail("overlay options too long");
}

void build_root(const struct plan *plan) {
    int lowerfd = open(LOWER_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (lowerfd < 0)
        fail_errno(errno, NULL, "opening " LOWER_DIR);

    /* The merged root directory takes the upper root's mode. */
    struct stat rst;
    if (fstat(lowerfd, &rst) < 0)
        fail_errno(errno, "the image server may have failed", "reading the image root");
    (void)chmod(UPPER_DIR, rst.st_mode & 07777);

    static struct overlay_dirs overlays;
    find_overlay_dirs(plan, lowerfd, &overlays);
    int whole_root = overlays.whole_root;
    int skeleton = !whole_root && overlays.skeleton_root;

    /* Phase A (before the overlay exists): files and missing mount points. */
    for (size_t i = 0; i < plan->nfiles; i++)
        if (whole_root || !in_image(lowerfd, plan->files[i].dst))
            prepare_upper(lowerfd, skeleton, plan->files[i].dst, ENTRY_CONTENT, &plan->files[i], "file");
    for (size_t i = 0; i < plan->ndirs; i++)
        prepare_upper(lowerfd, skeleton, plan->dirs[i], ENTRY_DIR, NULL, "working directory");
    for (size_t i = 0; i < plan->nmounts; i++) {
        const struct mount_op *m = &plan->mounts[i];
        if (m->kind == MOUNT_BIND && m->src_fd < 0)
            continue;
        if (under_earlier_mount(plan, i, m->dst))
            continue; /* created inside that mount in phase B */
        const char *what = m->kind == MOUNT_BIND ? "bind destination" : "mount point";
        int dir = m->kind != MOUNT_BIND || m->src_is_dir;
        prepare_upper(lowerfd, skeleton, m->dst, dir ? ENTRY_DIR : ENTRY_FILE, NULL, what);
    }

    int fallback = 0;
    char options[64 + 32 * (MAX_OVERLAY_LOWER + 2)];
    whole_root_options(plan, options, sizeof options);
    if (skeleton) {
        mount_skeleton_root(LOWER_DIR, ROOT_DIR);
    } else if (!whole_root) {
        if (mount(LOWER_DIR, ROOT_DIR, NULL, MS_BIND | MS_REC, NULL) < 0)
            fail_errno(errno, NULL, "bind mounting the image on " ROOT_DIR);
    } else if (mount("overlay", ROOT_DIR, "overlay", MS_NOSUID | MS_NODEV, options) < 0) {
        int err = errno;
        if (plan->overlay_upper || plan->noverlay_lower > 0)
            fail_errno(err, "--overlay needs overlayfs in a user namespace (Linux 5.11+) and, for a writable "
                       "overlay, a directory on a filesystem overlayfs can write to (a local disk, not NFS)",
                       "mounting the overlay root with %s", plan->overlay_upper ? plan->overlay_upper
                                                                                : plan->overlay_lower[0].path);
        if (plan->writable_tmpfs)
            fail_errno(err, "--writable-tmpfs needs overlayfs in a user namespace (Linux 5.11+)",
                       "mounting the overlay root");
        fallback = 1;
        if (mount(LOWER_DIR, ROOT_DIR, NULL, MS_BIND | MS_REC, NULL) < 0)
            fail_errno(errno, NULL, "bind mounting the image on " ROOT_DIR);
    }

    int rootfd = open(ROOT_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        fail_errno(errno, NULL, "opening " ROOT_DIR);
    nown_mounts = 0;
    if (skeleton || (whole_root && !fallback))
        note_own_mount(rootfd, "/");
    if (!whole_root)
        mount_overlay_dirs(rootfd, &overlays);
    for (size_t i = 0; i < plan->nfiles; i++) {
        const char *dst = plan->files[i].dst;
        /* A writable --overlay keeps its changes: a file it holds from an
           earlier run (an /etc/passwd someone edited) would hide the one
           staged below it, so files are bound over instead. */
        if (fallback || plan->overlay_upper || (!whole_root && in_image(lowerfd, dst)))
            bind_file_fallback(rootfd, &plan->files[i], i, 1);
        else if (skeleton && new_in_root(lowerfd, dst, "file"))
            bind_file_fallback(rootfd, &plan->files[i], i, 0);
    }
    for (size_t i = 0; i < plan->ndirs && skeleton; i++)
        if (new_in_root(lowerfd, plan->dirs[i], "working directory"))
            close(ensure_in_root(rootfd, plan->dirs[i], 1, 0, "working directory"));
    for (size_t i = 0; i < plan->nmounts; i++)
        do_mount(rootfd, &plan->mounts[i], fallback);
    for (size_t i = 0; i < plan->nsymlinks; i++)
        make_symlink(rootfd, &plan->symlinks[i], fallback);
    hide_protected(plan, rootfd);
    close(rootfd);
    close(lowerfd);

    if ((!plan->writable_tmpfs && !plan->overlay_upper) || fallback)
        if (add_mount_flags(ROOT_DIR, MS_RDONLY, 0) < 0)
            fail_errno(errno, NULL, "making the container root read-only");

    /* pivot_root(".", "."): the old root ends up stacked on the new one and
       is detached right away; no directory for it is needed. */
    if (chdir(ROOT_DIR) < 0)
        fail_errno(errno, NULL, "chdir " ROOT_DIR);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        fail_errno(errno, NULL, "pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
        fail_errno(errno, NULL, "detaching the host root");
    if (chdir("/") < 0)
        fail_errno(errno, NULL, "chdir /");
    if (plan->cwd && chdir(plan->cwd) < 0) {
        /* e.g. a WorkingDir owned by an id the user namespace cannot map */
        fprintf(stderr, "husk: warning: cannot enter the working directory %s (%s); using /\n",
                plan->cwd, strerror(errno));
        (void)chdir("/");
    }
}
