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

/* For `husk instance start`: the starter in its own session, stdin
   /dev/null, stdout/stderr to the instance's logs, the plan as fd 3. Only
   async-signal-safe calls after fork. */
int husk_spawn_detached(const char *path, int planfd, int outfd, int errfd) {
    pid_t pid = fork();
    if (pid != 0)
        return (int)pid;
    setsid();
    int plan = fcntl(planfd, F_DUPFD, 10), out = fcntl(outfd, F_DUPFD, 10), err = fcntl(errfd, F_DUPFD, 10);
    int null = open("/dev/null", O_RDONLY);
    if (plan < 0 || out < 0 || err < 0 || null < 0)
        _exit(255);
    dup2(null, 0);
    dup2(out, 1);
    dup2(err, 2);
    dup2(plan, 3);
    char *const argv[] = {"husk-starter", 0};
    execv(path, argv);
    _exit(255);
}
