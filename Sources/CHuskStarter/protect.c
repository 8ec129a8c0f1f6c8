/* Hiding Husk's own state from the container; see protect.h. */
#define _GNU_SOURCE
#include "protect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs.h"
#include "util.h"

#define MAX_DEPTH 128

/* A protected directory's ancestors on the host, itself first: up[0] is
   the directory, up[n-1] the root; name[i] is the name of up[i] in
   up[i+1] (from its path, which the walk up by ".." follows). */
struct chain {
    dev_t dev[MAX_DEPTH];
    ino_t ino[MAX_DEPTH];
    size_t n;
    char path[4096];
    char *name[MAX_DEPTH];
};

static int same(const struct stat *st, dev_t dev, ino_t ino) {
    return st->st_dev == dev && st->st_ino == ino;
}

/* The directory FD and each directory above it, by "..", up to the root:
   their devices and inodes into DEV and INO (at most MAX_DEPTH); the count. */
static size_t ancestors(int fd, dev_t *dev, ino_t *ino) {
    size_t n = 0;
    int cur = dup(fd);
    while (cur >= 0 && n < MAX_DEPTH) {
        struct stat st;
        if (fstat(cur, &st) < 0)
            break;
        dev[n] = st.st_dev;
        ino[n++] = st.st_ino;
        int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct stat ust;
        int top = up < 0 || fstat(up, &ust) < 0 || same(&ust, st.st_dev, st.st_ino);
        close(cur);
        cur = top ? -1 : up;
        if (top && up >= 0)
            close(up);
    }
    if (cur >= 0)
        close(cur);
    return n;
}

static int build_chain(int fd, struct chain *c) {
    if (fd_path(fd, c->path, sizeof c->path) < 0)
        return -1;
    /* Components of the path, last first, matching up[0], up[1], ... */
    size_t k = 0;
    for (char *slash; (slash = strrchr(c->path, '/')) && k < MAX_DEPTH;) {
        if (slash[1] != '\0')
            c->name[k++] = slash + 1;
        *slash = '\0';
        if (slash == c->path)
            break;
    }
    c->n = ancestors(fd, c->dev, c->ino);
    /* The root has no name: n directories, n-1 names. */
    return c->n == k + 1 ? 0 : -1;
}

/* The directory a file (FD, O_PATH) is in, or -1. */
static int open_parent(int fd) {
    char path[4096];
    if (fd_path(fd, path, sizeof path) < 0)
        return -1;
    char *slash = strrchr(path, '/');
    if (!slash)
        return -1;
    slash[slash == path ? 1 : 0] = '\0';
    return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* The chains of the protected directories, walked in open_protected:
   later, /tmp is covered by the staging tmpfs, and ".." from a directory
   in it would step onto that tmpfs instead. */
static struct chain *chains;

/* An --overlay directory shows everything below it at the container's
   root: it may neither be inside Husk's state nor hold any of it. */
static void check_overlay_dir(const struct plan *plan, int fd, const char *path) {
    static dev_t dev[MAX_DEPTH];
    static ino_t ino[MAX_DEPTH];
    size_t n = ancestors(fd, dev, ino);
    for (size_t j = 0; j < plan->nprotects; j++) {
        const struct protect_rec *p = &plan->protects[j];
        if (p->fd < 0)
            continue;
        for (size_t d = 0; d < n; d++)
            if (chains[j].dev[0] == dev[d] && chains[j].ino[0] == ino[d])
                fail("overlay %s is inside Husk's %s (%s), which no container may reach", path, p->what, p->path);
        for (size_t level = 1; level < chains[j].n; level++)
            if (chains[j].dev[level] == dev[0] && chains[j].ino[level] == ino[0])
                fail("overlay %s holds Husk's %s (%s), which no container may reach; use a directory "
                     "of its own", path, p->what, p->path);
    }
}

void open_protected(struct plan *plan) {
    chains = calloc(plan->nprotects ? plan->nprotects : 1, sizeof *chains);
    if (!chains)
        fail_errno(ENOMEM, NULL, "protecting Husk's state");
    for (size_t i = 0; i < plan->nprotects; i++) {
        struct protect_rec *p = &plan->protects[i];
        p->fd = open(p->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (p->fd < 0 && errno != ENOENT)
            fail_errno(errno, NULL, "opening Husk's %s %s", p->what, p->path);
        if (p->fd >= 0 && build_chain(p->fd, &chains[i]) < 0)
            fail("cannot trace Husk's %s %s up to the root directory", p->what, p->path);
    }
    if (plan->overlay_upper_fd >= 0)
        check_overlay_dir(plan, plan->overlay_upper_fd, plan->overlay_upper);
    for (size_t i = 0; i < plan->noverlay_lower; i++)
        check_overlay_dir(plan, plan->overlay_lower[i].fd, plan->overlay_lower[i].path);
    for (size_t i = 0; i < plan->nmounts; i++) {
        const struct mount_op *m = &plan->mounts[i];
        if (m->kind != MOUNT_BIND || m->src_fd < 0)
            continue;
        /* Walk up from the source (a file's: from its directory): does it
           pass through a protected one? */
        static dev_t dev[MAX_DEPTH];
        static ino_t ino[MAX_DEPTH];
        int start = m->src_is_dir ? dup(m->src_fd) : open_parent(m->src_fd);
        size_t n = start >= 0 ? ancestors(start, dev, ino) : 0;
        if (start >= 0)
            close(start);
        for (size_t d = 0; d < n; d++)
            for (size_t j = 0; j < plan->nprotects; j++) {
                const struct protect_rec *p = &plan->protects[j];
                if (p->fd >= 0 && chains[j].dev[0] == dev[d] && chains[j].ino[0] == ino[d])
                    fail("bind source %s is inside Husk's %s (%s), which no container may reach; "
                         "bind a copy of what you need instead",
                         m->src, p->what, p->path);
            }
    }
}

/* Opens PATH in the container root, or -1 unless it is the directory
   (DEV, INO) (not visible there, or something else is mounted over it). */
static int open_expected(int rootfd, const char *path, dev_t dev, ino_t ino) {
    int fd = open_in_root(rootfd, path, O_DIRECTORY);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !same(&st, dev, ino))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A bind of the directory on itself (with what is mounted below it). */
static void pin(int fd, const char *path) {
    char proc[32];
    fd_proc_path(fd, proc);
    if (mount(proc, proc, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail_errno(errno, NULL, "pinning %s over Husk's state", path);
}

/* Through bind M, the protected directory of chain C is visible at
   M->dst + the last J names: pin the directories in between, hide it. */
static void hide_through(int rootfd, const struct mount_op *m, const struct chain *c, size_t j,
                         const struct protect_rec *p) {
    char path[4096];
    size_t len = (size_t)snprintf(path, sizeof path, "%s", strcmp(m->dst, "/") == 0 ? "" : m->dst);
    for (size_t level = j; level-- > 0;) {
        len += (size_t)snprintf(path + len, sizeof path - len, "/%s", c->name[level]);
        if (len >= sizeof path)
            return;
        int fd = open_expected(rootfd, path, c->dev[level], c->ino[level]);
        if (fd < 0)
            return; /* not visible here */
        if (level > 0) {
            pin(fd, path);
        } else {
            char proc[32];
            if (mount("husk-hidden", fd_proc_path(fd, proc), "tmpfs",
                      MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0500,size=4k,nr_inodes=2") < 0)
                fail_errno(errno, NULL, "hiding Husk's %s at %s", p->what, path);
        }
        close(fd);
    }
}

void hide_protected(const struct plan *plan, int rootfd) {
    for (size_t i = 0; i < plan->nprotects; i++) {
        const struct protect_rec *p = &plan->protects[i];
        const struct chain *c = &chains[i];
        if (p->fd < 0)
            continue;
        for (size_t k = 0; k < plan->nmounts; k++) {
            const struct mount_op *m = &plan->mounts[k];
            struct stat st;
            if (m->kind != MOUNT_BIND || m->src_fd < 0 || !m->src_is_dir || fstat(m->src_fd, &st) < 0)
                continue;
            for (size_t j = 1; j < c->n; j++)
                if (same(&st, c->dev[j], c->ino[j]))
                    hide_through(rootfd, m, c, j, p);
        }
    }
}
