/* The descriptors the caller passed to husk, recorded before main: only
   those may reach the container's command (DESIGN.md §3, trust boundary 4).
   An inherited descriptor is one open at start without FD_CLOEXEC (it
   survived the exec of husk); anything the runtime opens before main is
   close-on-exec, and everything husk opens later comes after this list. */
#define _GNU_SOURCE
#include "CHuskShim.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INHERITED 1024

static int inherited[MAX_INHERITED];
static int inherited_count;

__attribute__((constructor)) static void record_inherited_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return; /* no /proc: nothing is passed on */
    int own = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) && inherited_count < MAX_INHERITED) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || e->d_name[0] == '\0' || fd < 3 || fd == own)
            continue;
        int flags = fcntl((int)fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC))
            inherited[inherited_count++] = (int)fd;
    }
    closedir(d);
}

int husk_inherited_fd_count(void) { return inherited_count; }

int husk_inherited_fd(int index) {
    return index >= 0 && index < inherited_count ? inherited[index] : -1;
}

int husk_cloexec_all_but_inherited(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) /* no /proc: nothing was recorded as inherited either */
        return inherited_count == 0 ? (int)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) : -1;
    int own = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || e->d_name[0] == '\0' || fd < 3 || fd == own)
            continue;
        int passed = 0;
        for (int i = 0; i < inherited_count && !passed; i++)
            passed = inherited[i] == fd;
        int flags = fcntl((int)fd, F_GETFD);
        if (!passed && flags >= 0 && !(flags & FD_CLOEXEC))
            (void)fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(d);
    return 0;
}
