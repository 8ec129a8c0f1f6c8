/* User and mount namespaces: a one-id map, or with --fakeroot and
   /etc/subuid ranges a full map written by newuidmap/newgidmap. */
#define _GNU_SOURCE
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* Runs HELPER (newuidmap or newgidmap) for TARGET: "0 OUTSIDE 1" and
   "1 START COUNT". Its own messages are discarded: on failure the caller
   prints one line and falls back. Returns 0 on success. */
static int run_id_helper(const char *helper, pid_t target, unsigned outside,
                         unsigned long start, unsigned long count) {
    char pid[24], own[24], first[24], n[24];
    snprintf(pid, sizeof pid, "%d", (int)target);
    snprintf(own, sizeof own, "%u", outside);
    snprintf(first, sizeof first, "%lu", start);
    snprintf(n, sizeof n, "%lu", count);
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execl(helper, helper, pid, "0", own, "1", "1", first, n, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Whether /proc/self/{uid,gid}_map has been written already. */
static int map_written(const char *path) {
    char buf[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    return n > 0;
}

static void unshare_or_fail(void) {
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
        int err = errno;
        if (err == EPERM || err == EINVAL || err == ENOSPC || err == EUSERS)
            fail("cannot create a user namespace (%s): unprivileged user namespaces are "
                 "disabled here (sysctl user.max_user_namespaces / "
                 "kernel.unprivileged_userns_clone); Husk needs them (as do --mode extract "
                 "and --fakeroot): ask your administrator to enable them",
                 strerror(err));
        fail_errno(err, NULL, "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
    }
}

/* unshare, with a helper process left outside the new namespace that maps
   this process's ids with the setuid tools once it is inside. Returns 1 when
   both maps were written. */
static int unshare_with_subordinate_ids(const struct plan *plan) {
    int go[2], done[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
        fail_errno(errno, NULL, "creating pipes for the id mapper");
    pid_t self = getpid();
    pid_t helper = fork();
    if (helper < 0)
        fail_errno(errno, NULL, "forking the id mapper");
    if (helper == 0) {
        char byte;
        close(go[1]);
        close(done[0]);
        if (read(go[0], &byte, 1) != 1)
            _exit(1); /* the starter failed before unsharing */
        char ok = run_id_helper(plan->newuidmap, self, (unsigned)plan->uid, plan->subuid_start,
                                plan->subuid_count) == 0 &&
                          run_id_helper(plan->newgidmap, self, (unsigned)plan->gid,
                                        plan->subgid_start, plan->subgid_count) == 0
                      ? 'y'
                      : 'n';
        (void)!write(done[1], &ok, 1);
        _exit(0);
    }
    close(go[0]);
    close(done[1]);
    unshare_or_fail();
    char result = 'n';
    if (write(go[1], "x", 1) != 1 || read(done[0], &result, 1) != 1)
        result = 'n';
    close(go[1]);
    close(done[0]);
    while (waitpid(helper, NULL, 0) < 0 && errno == EINTR) {
    }
    if (result != 'y')
        fprintf(stderr, "husk: warning: %s/%s could not map your subordinate ids "
                        "(/etc/subuid, /etc/subgid); --fakeroot maps only your own id\n",
                plan->newuidmap, plan->newgidmap);
    return result == 'y';
}

void enter_namespaces(const struct plan *plan, unsigned long propagation) {
    int mapped = 0;
    if (plan->fakeroot && plan->newuidmap && plan->newgidmap && plan->subuid_count &&
        plan->subgid_count)
        mapped = unshare_with_subordinate_ids(plan);
    else
        unshare_or_fail();

    if (!mapped) {
        char line[64];
        /* setgroups can only be denied before gid_map is written. */
        if (!map_written("/proc/self/gid_map") &&
            write_string_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
            fail_errno(errno, NULL, "writing /proc/self/setgroups");
        snprintf(line, sizeof line, "%u %u 1\n", (unsigned)plan->ctr_uid, (unsigned)plan->uid);
        if (!map_written("/proc/self/uid_map") && write_string_file("/proc/self/uid_map", line) < 0)
            fail_errno(errno, "uid= must be the invoking user's uid", "writing uid_map '%u %u 1'",
                       (unsigned)plan->ctr_uid, (unsigned)plan->uid);
        snprintf(line, sizeof line, "%u %u 1\n", (unsigned)plan->ctr_gid, (unsigned)plan->gid);
        if (!map_written("/proc/self/gid_map") && write_string_file("/proc/self/gid_map", line) < 0)
            fail_errno(errno, "gid= must be the invoking user's gid", "writing gid_map '%u %u 1'",
                       (unsigned)plan->ctr_gid, (unsigned)plan->gid);
    }
    if (mount(NULL, "/", NULL, MS_REC | propagation, NULL) < 0)
        fail_errno(errno, NULL, "making mounts %s", propagation == MS_SLAVE ? "slaves" : "private");
}
