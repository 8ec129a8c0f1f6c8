/* The descriptors the caller passed to husk, recorded before main: only
   those may reach the container's command (DESIGN.md §3, trust boundary 4).
   An inherited descriptor is one open at start without FD_CLOEXEC (it
   survived the exec of husk); anything the runtime opens before main is
   close-on-exec, and everything husk opens later comes after this list. */
#define _GNU_SOURCE
#include "CHuskShim.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INHERITED 1024

static int inherited[MAX_INHERITED];
static int inherited_count;

/* Calls VISIT with each open descriptor from 3 up (not the listing's own);
   -1 without /proc. */
static int for_each_open_fd(void (*visit)(int fd)) {
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int own = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || e->d_name[0] == '\0' || fd < 3 || fd == own)
            continue;
        visit((int)fd);
    }
    closedir(d);
    return 0;
}

static void record_if_inherited(int fd) {
    int flags = fcntl(fd, F_GETFD);
    if (inherited_count < MAX_INHERITED && flags >= 0 && !(flags & FD_CLOEXEC))
        inherited[inherited_count++] = fd;
}

/* No /proc: nothing is passed on. */
__attribute__((constructor)) static void record_inherited_fds(void) { (void)for_each_open_fd(record_if_inherited); }

int husk_inherited_fd_count(void) { return inherited_count; }

int husk_inherited_fd(int index) {
    return index >= 0 && index < inherited_count ? inherited[index] : -1;
}

static void cloexec_unless_inherited(int fd) {
    for (int i = 0; i < inherited_count; i++)
        if (inherited[i] == fd)
            return;
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC))
        (void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

int husk_cloexec_all_but_inherited(void) {
    if (for_each_open_fd(cloexec_unless_inherited) == 0)
        return 0;
    /* No /proc: nothing was recorded as inherited either. */
    return inherited_count == 0 ? (int)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) : -1;
}
