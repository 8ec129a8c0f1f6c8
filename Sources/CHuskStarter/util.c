/* Error reporting and small file-system helpers shared by the starter. */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static void vsay(const char *prefix_fmt_tail, const char *fmt, va_list ap) {
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "husk: ");
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof buf - 2)
        len = sizeof buf - 2;
    if (prefix_fmt_tail) {
        size_t t = strlen(prefix_fmt_tail);
        if (len + t > sizeof buf - 2)
            t = sizeof buf - 2 - len;
        memcpy(buf + len, prefix_fmt_tail, t);
        len += t;
    }
    /* Keep the message one line even if a value holds a newline. */
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n')
            buf[i] = ' ';
    buf[len++] = '\n';
    (void)write_all(2, buf, len);
}

void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(NULL, fmt, ap);
    va_end(ap);
}

_Noreturn void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(NULL, fmt, ap);
    va_end(ap);
    _exit(HUSK_EXIT_FAILURE);
}

_Noreturn void fail_errno(int err, const char *hint, const char *fmt, ...) {
    char tail[1024];
    if (hint)
        snprintf(tail, sizeof tail, ": %s (%s)", strerror(err), hint);
    else
        snprintf(tail, sizeof tail, ": %s", strerror(err));
    va_list ap;
    va_start(ap, fmt);
    vsay(tail, fmt, ap);
    va_end(ap);
    _exit(HUSK_EXIT_FAILURE);
}

int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int write_string_file(const char *path, const char *str) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, str, strlen(str));
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int mkdir_p(const char *path, mode_t mode) {
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -1;
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

int open_in_root(int rootfd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(O_PATH | O_CLOEXEC | flags);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const char *rel = path;
    while (*rel == '/')
        rel++;
    if (*rel == '\0')
        rel = ".";
    long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
    return (int)fd;
}

const char *fd_proc_path(int fd, char *buf) {
    snprintf(buf, 32, "/proc/self/fd/%d", fd);
    return buf;
}

int fd_path(int fd, char *buf, size_t size) {
    char proc[32];
    ssize_t n = readlink(fd_proc_path(fd, proc), buf, size - 1);
    if (n < 0)
        return -1;
    if ((size_t)n >= size - 1) {
        errno = ENAMETOOLONG;
        return -1;
    }
    buf[n] = '\0';
    return 0;
}

void clean_path(char *path) {
    /* Split on '/', keep a stack of component starts in the output. */
    char out[4096];
    size_t olen = 0;
    size_t starts[512];
    size_t depth = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - p);
        if (n == 1 && p[0] == '.') {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (depth > 0)
                olen = starts[--depth];
        } else if (olen + n + 2 < sizeof out && depth < 512) {
            starts[depth++] = olen;
            out[olen++] = '/';
            memcpy(out + olen, p, n);
            olen += n;
        }
        p = e;
    }
    if (olen == 0)
        out[olen++] = '/';
    out[olen] = '\0';
    memcpy(path, out, olen + 1);
}

int path_has_prefix(const char *path, const char *prefix) {
    if (strcmp(prefix, "/") == 0)
        return 1;
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The old way, for kernels before 5.12: remount the bind mount at PATH with
   EXTRA added to the flags it has now. Inside a user namespace, flags of
   mounts from the host are locked, so nosuid/nodev/noexec/atime must be
   carried over or the kernel says EPERM; statfs reads them. */
static int remount_bind(const char *path, unsigned long extra) {
    struct statvfs sv;
    if (statvfs(path, &sv) < 0)
        return -1;
    unsigned long flags = MS_REMOUNT | MS_BIND | extra;
    if (sv.f_flag & ST_RDONLY)
        flags |= MS_RDONLY;
    if (sv.f_flag & ST_NOSUID)
        flags |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        flags |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NODIRATIME)
        flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_NOATIME)
        flags |= MS_NOATIME;
    else if (sv.f_flag & ST_RELATIME)
        flags |= MS_RELATIME;
    else
        flags |= MS_STRICTATIME;
    return mount(NULL, path, NULL, flags, NULL);
}

int add_mount_flags(const char *path, unsigned long extra, int recursive) {
    struct mount_attr attr = {0};
    if (extra & MS_RDONLY)
        attr.attr_set |= MOUNT_ATTR_RDONLY;
    if (extra & MS_NOSUID)
        attr.attr_set |= MOUNT_ATTR_NOSUID;
    if (extra & MS_NODEV)
        attr.attr_set |= MOUNT_ATTR_NODEV;
    if (mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr) == 0)
        return 0;
    /* Without mount_setattr a remount reaches only the top mount. */
    return errno == ENOSYS ? remount_bind(path, extra) : -1;
}

static int int_compare(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void close_range_or_loop(unsigned first, unsigned last) {
    if (first > last || syscall(SYS_close_range, first, last, 0) == 0)
        return;
    struct rlimit lim;
    unsigned max = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 1u << 20 ? (unsigned)lim.rlim_cur : 1u << 20;
    for (unsigned fd = first; fd <= last && fd < max; fd++)
        close((int)fd);
}

void close_fds_except(int *keep, size_t n) {
    qsort(keep, n, sizeof *keep, int_compare);
    unsigned next = 3;
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < next)
            continue;
        close_range_or_loop(next, (unsigned)keep[i] - 1);
        next = (unsigned)keep[i] + 1;
    }
    close_range_or_loop(next, ~0U);
}
