#define _GNU_SOURCE
#include "CHuskShim.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int husk_memfd(const char *name) {
    return (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
}

int husk_pass_as_fd3(int fd) {
    if (fd == 3) {
        int flags = fcntl(3, F_GETFD);
        return flags < 0 ? -1 : fcntl(3, F_SETFD, flags & ~FD_CLOEXEC);
    }
    if (dup2(fd, 3) < 0) return -1;  /* dup2 clears FD_CLOEXEC on the copy */
    close(fd);
    return 0;
}
