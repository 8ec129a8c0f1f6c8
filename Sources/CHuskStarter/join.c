/* Entering a running instance's namespaces (husk exec instance://NAME). */
#define _GNU_SOURCE
#include "join.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const struct {
    const char *name;
    int type;
} kinds[] = {
    /* user first: it gives the capabilities the others need */
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},  {"net", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS}, {"pid_for_children", CLONE_NEWPID},
};

void join_namespaces(const struct plan *plan) {
    int fds[sizeof kinds / sizeof kinds[0]];
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char theirs[64], ours[64];
        snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)plan->join, kinds[i].name);
        snprintf(ours, sizeof ours, "/proc/self/ns/%s", kinds[i].name);
        fds[i] = open(theirs, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0)
            fail_errno(errno, "the instance has stopped; husk instance list shows what runs",
                       "instance %s (pid %d)", plan->name, (int)plan->join);
        /* A namespace the instance shares with us (the host's network,
           say) is not joined: that would need privilege on the host. */
        struct stat a, b;
        if (fstat(fds[i], &a) == 0 && stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (fds[i] < 0)
            continue;
        if (setns(fds[i], kinds[i].type) < 0)
            fail_errno(errno, NULL, "entering the %s namespace of instance %s", kinds[i].name, plan->name);
        close(fds[i]);
    }
}
