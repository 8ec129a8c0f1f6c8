/* User and mount namespaces with a one-id map. */
#define _GNU_SOURCE
#include "userns.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "util.h"

void enter_namespaces(const struct plan *plan) {
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
    char line[64];
    if (write_string_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
        fail_errno(errno, NULL, "writing /proc/self/setgroups");
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)plan->ctr_uid, (unsigned)plan->uid);
    if (write_string_file("/proc/self/uid_map", line) < 0)
        fail_errno(errno, "uid= must be the invoking user's uid", "writing uid_map '%u %u 1'",
                   (unsigned)plan->ctr_uid, (unsigned)plan->uid);
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)plan->ctr_gid, (unsigned)plan->gid);
    if (write_string_file("/proc/self/gid_map", line) < 0)
        fail_errno(errno, "gid= must be the invoking user's gid", "writing gid_map '%u %u 1'",
                   (unsigned)plan->ctr_gid, (unsigned)plan->gid);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail_errno(errno, NULL, "making mounts private");
}
