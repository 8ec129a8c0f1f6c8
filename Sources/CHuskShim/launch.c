#define _GNU_SOURCE
#include "CHuskShim.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int husk_memfd(const char *name) {
    int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
    if (fd >= 0 && fd < 3) {
        /* Never 0-2 (closed by the caller): those are the command's stdio. */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = high;
    }
    return fd;
}

int husk_keep_across_exec(int fd) {
    int flags = fcntl(fd, F_GETFD);
    return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* close-on-exec for [FIRST, LAST]: close_range (Linux 5.11), else one by one. */
static int cloexec_range(unsigned first, unsigned last) {
    if (first > last)
        return 0;
    if (syscall(SYS_close_range, first, last, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL)
        return -1;
    long max = sysconf(_SC_OPEN_MAX);
    for (unsigned fd = first; fd <= last && (long)fd < (max > 0 ? max : 65536); fd++) {
        int flags = fcntl((int)fd, F_GETFD);
        if (flags >= 0)
            fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
    }
    return 0;
}

int husk_cloexec_except(const int *keep, int count) {
    /* KEEP sorted into a copy (insertion sort: async-signal-safe, small). */
    int sorted[1024];
    if (count < 0 || count > 1024)
        return -1;
    for (int i = 0; i < count; i++) {
        int v = keep[i], j = i;
        for (; j > 0 && sorted[j - 1] > v; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = v;
    }
    unsigned next = 3;
    for (int i = 0; i < count; i++) {
        if (sorted[i] < 3 || (unsigned)sorted[i] < next)
            continue;
        if (cloexec_range(next, (unsigned)sorted[i] - 1) < 0)
            return -1;
        next = (unsigned)sorted[i] + 1;
    }
    return cloexec_range(next, UINT_MAX);
}

/* For `husk instance start`. Only async-signal-safe calls after fork. */
int husk_spawn_detached(const char *path, int planfd, int outfd, int errfd) {
    char arg[32];
    snprintf(arg, sizeof arg, "--plan-fd=%d", planfd);
    pid_t pid = fork();
    if (pid != 0)
        return (int)pid;
    setsid();
    /* Out of the way of 0-2 first, then into place; everything else is
       made close-on-exec, so only 0-2 and the plan reach the starter. */
    int out = fcntl(outfd, F_DUPFD_CLOEXEC, 3), err = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || err < 0 || null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
        husk_cloexec_except(&planfd, 1) < 0 || husk_keep_across_exec(planfd) < 0)
        _exit(255);
    char *const argv[] = {"husk-starter", arg, 0};
    execv(path, argv);
    _exit(255);
}

/* PATH with ARGV and ENVP in a session of its own: 0-2 on /dev/null, FD as
   descriptor 3 and no other, in DIRECTORY (or this one); no copy of this
   process made (posix_spawn). Its pid, or -1. */
static int spawn_quiet(const char *path, char *const argv[], char *const envp[], int fd, const char *directory) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&actions) != 0)
        return -1;
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -1;
    }
    int ok = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID) == 0 &&
             posix_spawn_file_actions_adddup2(&actions, fd, 3) == 0 &&
             posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDWR, 0) == 0 &&
             posix_spawn_file_actions_adddup2(&actions, 0, 1) == 0 &&
             posix_spawn_file_actions_adddup2(&actions, 0, 2) == 0 &&
             (!directory || posix_spawn_file_actions_addchdir_np(&actions, directory) == 0) &&
             husk_spawn_close_from(&actions, 4) == 0;
    pid_t pid = -1;
    if (ok && posix_spawn(&pid, path, &actions, &attr, argv, envp) != 0)
        pid = -1;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return ok ? (int)pid : -1;
}

int husk_spawn_quiet(const char *path, int planfd) {
    char *const argv[] = {"husk-starter", "--plan-fd=3", 0};
    char *const envp[] = {0};
    return spawn_quiet(path, argv, envp, planfd, 0);
}

/* From a child that leaves at once, so that the planner is nobody's child
   (the caller becomes husk-starter, whose supervisor must have no child
   but its own). */
int husk_spawn_planner(const char *program, const char *socket, int idle, const char *image, int lock) {
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%d", idle);
    char *const argv[] = {"husk-plan", "--serve-plans", (char *)socket, seconds, (char *)image, 0};
    pid_t middle = fork();
    if (middle == 0)
        _exit(spawn_quiet(program, argv, environ, lock, "/") > 0 ? 0 : 1);
    if (middle < 0)
        return -1;
    int status;
    while (waitpid(middle, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* For Container.run: the starter as a child with this process's 0-2, the
   plan and the descriptors in KEEP. Only async-signal-safe calls after fork
   (the caller may have threads). */
int husk_spawn_child(const char *path, int planfd, const int *keep, int nkeep) {
    char arg[32];
    snprintf(arg, sizeof arg, "--plan-fd=%d", planfd);
    int all[1025];
    if (nkeep < 0 || nkeep > 1024)
        return -1;
    all[0] = planfd;
    for (int i = 0; i < nkeep; i++)
        all[i + 1] = keep[i];
    pid_t pid = fork();
    if (pid != 0)
        return (int)pid;
    if (husk_cloexec_except(all, nkeep + 1) < 0)
        _exit(255);
    for (int i = 0; i <= nkeep; i++)
        if (husk_keep_across_exec(all[i]) < 0)
            _exit(255);
    char *const argv[] = {"husk-starter", arg, 0};
    execv(path, argv);
    _exit(255);
}
