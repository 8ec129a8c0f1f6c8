/* husk check: tries what husk-starter will do (user and mount namespaces,
 * id maps, tmpfs, overlayfs, a FUSE mount, no_new_privs, a seccomp filter)
 * in a forked child, so the checking process stays as it was. husk is
 * multithreaded and unshare(CLONE_NEWUSER) refuses multithreaded callers;
 * the child has one thread. It calls only async-signal-safe system calls:
 * everything it needs is formatted before the fork. */
#define _GNU_SOURCE
#include "CHuskShim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n == (ssize_t)strlen(text) ? 0 : (n < 0 ? errno : EIO);
    close(fd);
    return err;
}

/* The child: each step's errno (0: it worked), sent after every step so a
   step that hangs (killed by the alarm) still leaves the ones before. */
/* "fd=N," then FUSE_IDS, without snprintf (not async-signal-safe). */
static const char *fuse_options(char *buf, size_t size, int fd, const char *fuse_ids) {
    char digits[16];
    int n = 0;
    unsigned v = (unsigned)fd;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof digits);
    size_t len = 0;
    const char *prefix = "fd=";
    while (*prefix && len + 1 < size)
        buf[len++] = *prefix++;
    while (n > 0 && len + 1 < size)
        buf[len++] = digits[--n];
    if (len + 1 < size)
        buf[len++] = ',';
    while (*fuse_ids && len + 1 < size)
        buf[len++] = *fuse_ids++;
    buf[len] = '\0';
    return buf;
}

static void probe_child(int out, int try_fuse, const char *uid_map, const char *gid_map,
                        const char *fuse_ids) {
    struct husk_node_probe r;
    memset(&r, 0, sizeof r);
    r.userns = r.idmap = r.tmpfs = r.overlay = r.fuse_mount = r.no_new_privs = r.seccomp = -1;
    r.finished = 0;
#define REPORT() (void)!write(out, &r, sizeof r)
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGALRM, SIG_DFL);
    alarm(10);

    r.userns = unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno;
    REPORT();
    if (r.userns == 0) {
        int err = write_file("/proc/self/setgroups", "deny");
        if (err == ENOENT)
            err = 0;
        if (err == 0)
            err = write_file("/proc/self/uid_map", uid_map);
        if (err == 0)
            err = write_file("/proc/self/gid_map", gid_map);
        r.idmap = err;
        REPORT();
    }
    if (r.userns == 0) {
        /* Private mounts, then a tmpfs over /tmp seen only here. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
            r.tmpfs = errno;
        else
            r.tmpfs = 0;
        REPORT();
    }
    if (r.tmpfs == 0) {
        /* As husk-starter mounts its overlays (userxattr: Linux 5.11+). */
        if (mkdir("/tmp/l", 0700) < 0 || mkdir("/tmp/u", 0700) < 0 || mkdir("/tmp/w", 0700) < 0 ||
            mkdir("/tmp/o", 0700) < 0 ||
            mount("overlay", "/tmp/o", "overlay", MS_NOSUID | MS_NODEV,
                  "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w,userxattr") < 0)
            r.overlay = errno;
        else
            r.overlay = 0;
        REPORT();
        if (try_fuse) {
            /* Opened inside: the kernel takes a FUSE descriptor only from the
               namespace that mounts it. Mounted, never served: detached and
               its connection closed before exit, so nothing waits on it. */
            char options[128];
            int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
            if (fd < 0) {
                r.fuse_mount = errno;
            } else if (mkdir("/tmp/f", 0700) < 0 ||
                       mount("husk-check", "/tmp/f", "fuse", MS_NOSUID | MS_NODEV | MS_RDONLY,
                             fuse_options(options, sizeof options, fd, fuse_ids)) < 0) {
                r.fuse_mount = errno;
            } else {
                r.fuse_mount = 0;
                (void)umount2("/tmp/f", MNT_DETACH);
            }
            if (fd >= 0)
                close(fd);
            REPORT();
        }
    }
    r.no_new_privs = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : errno;
    REPORT();
    if (r.no_new_privs == 0) {
        struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog prog = {.len = 1, .filter = allow};
        r.seccomp = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0 ? 0 : errno;
    }
    r.finished = 1;
    REPORT();
#undef REPORT
    _exit(0);
}

int husk_probe_node(int try_fuse, struct husk_node_probe *result) {
    char uid_map[48], gid_map[48], fuse_ids[96];
    snprintf(uid_map, sizeof uid_map, "%u %u 1\n", (unsigned)getuid(), (unsigned)getuid());
    snprintf(gid_map, sizeof gid_map, "%u %u 1\n", (unsigned)getgid(), (unsigned)getgid());
    /* In the new namespace the user keeps their own ids. */
    snprintf(fuse_ids, sizeof fuse_ids, "rootmode=40000,user_id=%u,group_id=%u", (unsigned)getuid(),
             (unsigned)getgid());
    memset(result, 0, sizeof *result);
    result->userns = result->idmap = result->tmpfs = result->overlay = result->fuse_mount = -1;
    result->no_new_privs = result->seccomp = -1;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    pid_t child = fork();
    if (child < 0) {
        int err = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        errno = err;
        return -1;
    }
    if (child == 0) {
        close(pipefd[0]);
        probe_child(pipefd[1], try_fuse, uid_map, gid_map, fuse_ids);
    }
    close(pipefd[1]);
    /* The last complete report wins. */
    struct husk_node_probe report;
    size_t have = 0;
    for (;;) {
        ssize_t n = read(pipefd[0], (char *)&report + have, sizeof report - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        if (have == sizeof report) {
            *result = report;
            have = 0;
        }
    }
    close(pipefd[0]);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return 0;
}
