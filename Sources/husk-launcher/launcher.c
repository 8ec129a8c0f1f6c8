/* husk: the program users run. For a container start (husk run, exec,
   shell) it asks the user's warm planner (husk_planner.h) to plan it and
   runs the starter with that plan, in place (the starter's code is linked
   in: a start spares an exec); the planner plans from this process's
   own command line, environment, working directory and descriptors, and
   refuses any start whose context differs from its own. Everything else,
   and any start the planner does not take, goes to husk-plan, the Swift
   program, unchanged: its behaviour is the reference, this only saves
   loading it (README, "Where a start's time goes").

   Trust (DESIGN.md §3): the socket is in the user's private runtime
   directory and its peer must be this user (SO_PEERCRED); the planner is
   not dumpable, so no container of the user can reach it through /proc. */
#define _GNU_SOURCE
#include "husk_planner.h"
#include "husk_starter.h"

#include <dirent.h>
#include <errno.h>
#include <linux/close_range.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* The descriptors (3 and up) open without close-on-exec at start: the
   caller's, which alone reach the container's command (as husk-plan's
   CHuskShim records them). Before anything of this program is opened. */
static int inherited[HUSK_PLANNER_FDS_MAX];
static int inherited_count;

static void record_inherited(void) {
    /* Without /proc none is recorded, as in husk-plan. */
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int own = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) && inherited_count < HUSK_PLANNER_FDS_MAX) {
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

/* husk-plan beside this program, else in ../libexec/husk/. */
static int find_program(char *out, size_t size) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *dir = dirname(self);
    if (snprintf(out, size, "%s/husk-plan", dir) < (int)size && access(out, X_OK) == 0)
        return 0;
    char *parent = dirname(dir);
    if (snprintf(out, size, "%s/libexec/husk/husk-plan", parent) < (int)size && access(out, X_OK) == 0)
        return 0;
    return -1;
}

static char program[PATH_MAX];

/* husk-plan with the same arguments and environment. */
static void __attribute__((noreturn)) run_full(char **argv) {
    if (!program[0]) {
        fprintf(stderr, "husk: husk-plan not found beside this program or in ../libexec/husk/; reinstall husk\n");
        _exit(255);
    }
    execv(program, argv);
    fprintf(stderr, "husk: %s: cannot run (%s); reinstall husk\n", program, strerror(errno));
    _exit(255);
}

static int starts_container(int argc, char **argv) {
    if (argc < 3)
        return 0;
    if (strcmp(argv[1], "exec") != 0 && strcmp(argv[1], "run") != 0 && strcmp(argv[1], "shell") != 0)
        return 0;
    /* HUSK_IDLE=0: every start as it was before image servers and planners. */
    const char *idle = getenv("HUSK_IDLE");
    return !(idle && strcmp(idle, "0") == 0);
}

/* Connected to this user's planner for this context, or -1. */
static int connect_planner(void) {
    char runtime[PATH_MAX], path[PATH_MAX];
    struct stat st;
    if (husk_planner_runtime(runtime, sizeof runtime) != 0 || stat(runtime, &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != getuid() || (st.st_mode & 077) != 0 ||
        husk_planner_socket(path, sizeof path, runtime, program) != 0)
        return -1;
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path); /* husk_planner_socket checked its length */
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct ucred peer;
    socklen_t length = sizeof peer;
    if (connect(s, (struct sockaddr *)&sun, sizeof sun) != 0 ||
        getsockopt(s, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || peer.uid != getuid()) {
        close(s);
        return -1;
    }
    return s;
}

static int send_request(int s) {
    static const int stdio[3] = {0, 1, 2};
    return husk_planner_send_message(s, HUSK_PLANNER_REQUEST, inherited, inherited_count, 0, stdio, 3);
}

static int ascending(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Closes every descriptor from 3 up but the NKEEP in KEEP (any order),
   as the exec of a program would have with all others close-on-exec. */
static int close_all_but(int *keep, int nkeep) {
    qsort(keep, (size_t)nkeep, sizeof *keep, ascending);
    unsigned int from = 3;
    for (int i = 0; i < nkeep; i++) {
        if (keep[i] < (int)from)
            continue;
        if ((unsigned int)keep[i] > from && syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0U) != 0)
            return -1;
        from = (unsigned int)keep[i] + 1;
    }
    return syscall(SYS_close_range, from, ~0U, 0U) != 0 ? -1 : 0;
}

/* Whether STARTER is the husk-starter beside the husk-plan this program
   found (PROGRAM, an absolute path): the same installation, the same build. */
static int installed_starter(const char *starter) {
    const char *slash = strrchr(program, '/');
    size_t dir = slash ? (size_t)(slash - program) : 0;
    return slash && strncmp(starter, program, dir) == 0 && strcmp(starter + dir, "/husk-starter") == 0;
}

/* Runs the starter with the plan, keeping only the caller's descriptors
   the plan names and the plan itself: in place when STARTER is the one
   installed with husk-plan (same build as this program), else by exec. */
static void __attribute__((noreturn)) start(int planfd, const int32_t *keep, int nkeep, const char *starter) {
    int failed = 0;
    for (int i = -1; i < nkeep && !failed; i++) {
        int fd = i < 0 ? planfd : keep[i];
        int flags = fcntl(fd, F_GETFD);
        failed = flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0;
    }
    char arg[32];
    snprintf(arg, sizeof arg, "--plan-fd=%d", planfd);
    char *argv[] = {"husk-starter", arg, 0};
    if (!failed && installed_starter(starter)) {
        int kept[HUSK_PLANNER_FDS_MAX + 1];
        kept[0] = planfd;
        for (int i = 0; i < nkeep; i++)
            kept[i + 1] = keep[i];
        failed = close_all_but(kept, nkeep + 1) != 0;
        if (!failed) {
            /* Named as when it was exec'd: ps, pgrep -x and Slurm's view. */
            prctl(PR_SET_NAME, "husk-starter", 0, 0, 0);
            husk_starter_main(2, argv);
        }
    }
    if (!failed)
        failed = syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0;
    for (int i = -1; i < nkeep && !failed; i++) {
        int fd = i < 0 ? planfd : keep[i];
        failed = fcntl(fd, F_SETFD, 0) != 0;
    }
    if (failed) {
        fprintf(stderr, "husk: cannot pass the launch plan on (%s)\n", strerror(errno));
        _exit(255);
    }
    execv(starter, argv);
    fprintf(stderr, "husk: %s: cannot execute (%s)\n", starter, strerror(errno));
    _exit(255);
}

int main(int argc, char **argv) {
    record_inherited();
    if (find_program(program, sizeof program) != 0)
        program[0] = '\0';
    if (!program[0] || !starts_container(argc, argv))
        run_full(argv);
    int s = connect_planner();
    if (s < 0 || send_request(s) != 0)
        run_full(argv);
    char buf[HUSK_PLANNER_MESSAGE_MAX + 1];
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = {buf, HUSK_PLANNER_MESSAGE_MAX};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                             .msg_controllen = sizeof control.bytes};
    ssize_t n;
    while ((n = recvmsg(s, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    int planfd = -1;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&message) : 0;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&planfd, CMSG_DATA(c), sizeof planfd);
    int32_t number = -1;
    if (n >= (ssize_t)(1 + sizeof number))
        memcpy(&number, buf + 1, sizeof number);
    if (n > 0 && buf[0] == HUSK_PLANNER_EXIT && n == (ssize_t)(1 + sizeof number))
        _exit(number & 0xff); /* the reason is on our stderr already */
    if (n > 0 && buf[0] == HUSK_PLANNER_PLAN && planfd >= 0 && number >= 0 && number <= HUSK_PLANNER_FDS_MAX &&
        !(message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        size_t used = 1 + sizeof(int32_t) * (size_t)(number + 1);
        if ((size_t)n > used) {
            buf[n] = '\0';
            int32_t keep[HUSK_PLANNER_FDS_MAX];
            memcpy(keep, buf + 1 + sizeof(int32_t), sizeof(int32_t) * (size_t)number);
            const char *starter = buf + used;
            if (starter[0] == '/' && strlen(starter) == (size_t)n - used - 1) {
                close(s);
                start(planfd, keep, number, starter);
            }
        }
    }
    if (planfd >= 0)
        close(planfd);
    close(s);
    run_full(argv);
}
