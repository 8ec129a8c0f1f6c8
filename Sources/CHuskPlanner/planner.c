/* The warm planner's socket, its serving loop and its messages
   (husk_planner.h). The loop is C so that the Swift side only plans: it
   forks per request from a process that has run nothing but this loop. */
#define _GNU_SOURCE
#include "husk_planner.h"
#include "planner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int husk_planner_runtime(char *out, size_t size) {
    const char *xdg = getenv("XDG_RUNTIME_DIR"), *tmp = getenv("TMPDIR");
    int n = xdg && *xdg ? snprintf(out, size, "%s/husk", xdg)
                        : snprintf(out, size, "%s/husk-%u", tmp && *tmp ? tmp : "/tmp", (unsigned)getuid());
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* FNV-1a, 64 bits: names a context, it protects nothing (the planner
   checks every request's context itself). */
static void mix(uint64_t *h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        *h ^= p[i];
        *h *= 1099511628211ULL;
    }
}

static void mix_u64(uint64_t *h, uint64_t v) { mix(h, &v, sizeof v); }

int husk_planner_socket(char *out, size_t size, const char *runtime, const char *program) {
    uint64_t h = 14695981039346656037ULL;
    struct stat st;
    if (stat(program, &st) != 0)
        return -1;
    mix_u64(&h, st.st_dev), mix_u64(&h, st.st_ino), mix_u64(&h, (uint64_t)st.st_size);
    mix_u64(&h, (uint64_t)st.st_mtim.tv_sec), mix_u64(&h, (uint64_t)st.st_mtim.tv_nsec);
    mix_u64(&h, (uint64_t)st.st_ctim.tv_sec), mix_u64(&h, (uint64_t)st.st_ctim.tv_nsec);
    mix_u64(&h, getuid()), mix_u64(&h, geteuid()), mix_u64(&h, getgid()), mix_u64(&h, getegid());
    gid_t groups[NGROUPS_MAX];
    int ngroups = getgroups(NGROUPS_MAX, groups);
    if (ngroups < 0)
        return -1;
    mix(&h, groups, (size_t)ngroups * sizeof groups[0]);
    static const char *const namespaces[] = {"user", "mnt", "pid", "net", "uts", "ipc", "cgroup"};
    for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/ns/%s", namespaces[i]);
        mix_u64(&h, stat(path, &st) == 0 ? st.st_ino : 0);
    }
    int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        mix(&h, buf, (size_t)n);
    close(fd);
    if (n < 0)
        return -1;
    int written = snprintf(out, size, "%s/planner-%016llx", runtime, (unsigned long long)h);
    if (written < 0 || (size_t)written >= size || (size_t)written >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int address(struct sockaddr_un *sun, const char *path) {
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sun->sun_path, path);
    return 0;
}

int husk_planner_reachable(const char *path) {
    struct sockaddr_un sun;
    if (address(&sun, path) != 0)
        return 0;
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return 0;
    int ok = connect(s, (struct sockaddr *)&sun, sizeof sun) == 0;
    close(s);
    return ok;
}

int husk_planner_lock(const char *socket) {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s.lock", socket) >= (int)sizeof path)
        return -1;
    int lock = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0) {
        close(lock);
        return -1;
    }
    return lock;
}

int husk_planner_send(int conn, char kind, int status) {
    char buf[1 + sizeof(int32_t)];
    int32_t value = status;
    buf[0] = kind;
    memcpy(buf + 1, &value, sizeof value);
    return send(conn, buf, sizeof buf, MSG_NOSIGNAL) == (ssize_t)sizeof buf ? 0 : -1;
}

int husk_planner_send_message(int conn, char kind, const int *numbers, int count, const char *text, const int *fds,
                              int nfds) {
    char buf[HUSK_PLANNER_MESSAGE_MAX];
    size_t length = text ? strlen(text) + 1 : 0;
    if (count < 0 || count > HUSK_PLANNER_FDS_MAX || nfds < 1 || nfds > 3 ||
        1 + sizeof(int32_t) * (size_t)(count + 1) + length > sizeof buf)
        return -1;
    int32_t n = count;
    buf[0] = kind;
    memcpy(buf + 1, &n, sizeof n);
    for (int i = 0; i < count; i++) {
        int32_t number = numbers[i];
        memcpy(buf + 1 + sizeof(int32_t) * (size_t)(i + 1), &number, sizeof number);
    }
    size_t used = 1 + sizeof(int32_t) * (size_t)(count + 1);
    if (length)
        memcpy(buf + used, text, length);
    used += length;
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(3 * sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {buf, used};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                             .msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    return sendmsg(conn, &message, MSG_NOSIGNAL) == (ssize_t)used ? 0 : -1;
}

int husk_planner_send_plan(int conn, int planfd, const int *keep, int nkeep, const char *starter) {
    return husk_planner_send_message(conn, HUSK_PLANNER_PLAN, keep, nkeep, starter, &planfd, 1);
}

/* The request on CONN: the launcher's 0-2 into STDIO, its inherited
   descriptor numbers into FDS (up to MAX), their count into COUNT. */
static int husk_planner_receive(int conn, int stdio[3], int *fds, int max, int *count) {
    char buf[HUSK_PLANNER_MESSAGE_MAX];
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(3 * sizeof(int))];
    } control;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                             .msg_controllen = sizeof control.bytes};
    ssize_t n = recvmsg(conn, &message, MSG_CMSG_CLOEXEC);
    int got = 0;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&message) : 0;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t bytes = c->cmsg_len - CMSG_LEN(0);
        got = (int)(bytes / sizeof(int));
        if (got == 3)
            memcpy(stdio, CMSG_DATA(c), 3 * sizeof(int));
        else
            for (int i = 0; i < got; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                close(fd);
            }
    }
    int32_t number = -1;
    if (n >= (ssize_t)(1 + sizeof number))
        memcpy(&number, buf + 1, sizeof number);
    if (got != 3 || (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || buf[0] != HUSK_PLANNER_REQUEST ||
        number < 0 || number > max || n != (ssize_t)(1 + sizeof(int32_t) * (size_t)(number + 1))) {
        if (got == 3)
            close(stdio[0]), close(stdio[1]), close(stdio[2]);
        return -1;
    }
    for (int i = 0; i < number; i++) {
        int32_t fd;
        memcpy(&fd, buf + 1 + sizeof(int32_t) * (size_t)(i + 1), sizeof fd);
        fds[i] = fd;
    }
    *count = number;
    return 0;
}

/* A /proc file's bytes, NUL-terminated (their size is not known before
   reading); NULL if it cannot be read. *LENGTH gets their count. */
static char *proc_file(const char *path, size_t *length) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t size = 4096, used = 0;
    char *buf = malloc(size);
    ssize_t n = 0;
    while (buf && (n = read(fd, buf + used, size - used - 1)) > 0) {
        used += (size_t)n;
        if (size - used < 2) {
            char *bigger = realloc(buf, size * 2);
            if (!bigger) {
                free(buf);
                buf = 0;
                break;
            }
            buf = bigger, size *= 2;
        }
    }
    close(fd);
    if (!buf || n < 0) {
        free(buf);
        return 0;
    }
    buf[used] = '\0';
    if (length)
        *length = used;
    return buf;
}

static int same_file(const char *a, const char *b) {
    char *x = proc_file(a, 0), *y = proc_file(b, 0);
    int same = (!x && !y) || (x && y && strcmp(x, y) == 0);
    free(x), free(y);
    return same;
}

/* The line of STATUS starting with FIELD (through its newline). */
static int field(const char *status, const char *name, const char **start, size_t *length) {
    size_t n = strlen(name);
    for (const char *line = status; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : 0)
        if (strncmp(line, name, n) == 0) {
            const char *end = strchr(line, '\n');
            *start = line, *length = end ? (size_t)(end - line) : strlen(line);
            return 1;
        }
    return 0;
}

/* Whether process PEER (the launcher) has this process's context: ids,
   groups, capabilities, no_new_privs, seccomp, namespaces, root, cgroup,
   limits, security label and personality; what a plan depends on beyond
   the command line, environment, directory, umask and descriptors, which
   the child takes from the launcher. Its umask into *UMASK. */
static int same_context(pid_t peer, mode_t *umask_out) {
    static const char *const fields[] = {"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
                                         "CapAmb:", "NoNewPrivs:", "Seccomp:", "Seccomp_filters:"};
    static const char *const namespaces[] = {"user", "mnt", "pid", "net", "uts", "ipc", "cgroup", "time"};
    char path[64], mine[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)peer);
    char *theirs = proc_file(path, 0), *ours = proc_file("/proc/self/status", 0);
    int same = theirs && ours;
    for (size_t i = 0; same && i < sizeof fields / sizeof fields[0]; i++) {
        const char *a, *b;
        size_t m, n;
        same = field(theirs, fields[i], &a, &m) && field(ours, fields[i], &b, &n) && m == n && memcmp(a, b, m) == 0;
    }
    const char *mask;
    size_t length;
    if (same && field(theirs, "Umask:", &mask, &length))
        *umask_out = (mode_t)strtoul(mask + strlen("Umask:"), 0, 8);
    else
        same = 0;
    free(theirs), free(ours);
    for (size_t i = 0; same && i < sizeof namespaces / sizeof namespaces[0]; i++) {
        char a[64] = "", b[64] = "";
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)peer, namespaces[i]);
        snprintf(mine, sizeof mine, "/proc/self/ns/%s", namespaces[i]);
        same = readlink(path, a, sizeof a - 1) >= 0 && readlink(mine, b, sizeof b - 1) >= 0 && strcmp(a, b) == 0;
    }
    struct stat a, b;
    snprintf(path, sizeof path, "/proc/%d/root", (int)peer);
    same = same && stat(path, &a) == 0 && stat("/proc/self/root", &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
    static const char *const files[] = {"cgroup", "limits", "attr/current"};
    for (size_t i = 0; same && i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "/proc/%d/%s", (int)peer, files[i]);
        snprintf(mine, sizeof mine, "/proc/self/%s", files[i]);
        same = same_file(path, mine);
    }
    /* A process that is not dumpable (this one) cannot read its own file. */
    snprintf(path, sizeof path, "/proc/%d/personality", (int)peer);
    char *theirs_personality = same ? proc_file(path, 0) : 0;
    same = theirs_personality && strtoul(theirs_personality, 0, 16) == (unsigned long)personality(0xffffffff);
    free(theirs_personality);
    return same;
}

/* NUL-separated strings (cmdline, environ) as a NULL-terminated array
   pointing into BUF. */
static char **split(char *buf, size_t length, int *count) {
    int n = 0;
    for (size_t i = 0; i < length; i++)
        n += buf[i] == '\0';
    if (length && buf[length - 1] != '\0')
        n++;
    char **items = calloc((size_t)n + 1, sizeof *items);
    if (!items)
        return 0;
    int k = 0;
    for (size_t i = 0; i < length && k < n; i += strlen(buf + i) + 1)
        items[k++] = buf + i;
    *count = k;
    return items;
}

/* In the forked child: take the launcher's request and become the
   launcher for planning (its standard descriptors, directory, umask and
   environment), then CHILD plans; anything amiss sends FULL. */
static void __attribute__((noreturn)) plan_for(int conn, pid_t peer, husk_planner_child child) {
    int stdio[3], fds[HUSK_PLANNER_FDS_MAX], count = 0, argc = 0, envc = 0;
    mode_t mask = 022;
    char path[64];
    size_t argl = 0, envl = 0;
    if (husk_planner_receive(conn, stdio, fds, HUSK_PLANNER_FDS_MAX, &count) != 0)
        goto full;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)peer);
    char *arguments = same_context(peer, &mask) ? proc_file(path, &argl) : 0;
    snprintf(path, sizeof path, "/proc/%d/environ", (int)peer);
    char *environment = arguments ? proc_file(path, &envl) : 0;
    char **argv = environment ? split(arguments, argl, &argc) : 0;
    char **envp = argv ? split(environment, envl, &envc) : 0;
    snprintf(path, sizeof path, "/proc/%d/cwd", (int)peer);
    if (!envp || chdir(path) != 0 || clearenv() != 0)
        goto full;
    for (int i = 0; i < envc; i++)
        if (strchr(envp[i], '=') && putenv(envp[i]) != 0)
            goto full;
    umask(mask);
    for (int i = 0; i < 3; i++)
        if (dup2(stdio[i], i) < 0)
            goto full;
    for (int i = 0; i < 3; i++)
        if (stdio[i] > 2)
            close(stdio[i]);
    child(conn, argc, argv, count, fds);
    _exit(255);
full:
    husk_planner_send(conn, HUSK_PLANNER_FULL, 0);
    _exit(0);
}

#define PLANNING_MAX 64

/* The serving loop's state: what a forked child must not keep. */
struct serving {
    int listener, reaped, lock;
    sigset_t blocked; /* SIGCHLD and the stop signals, taken from REAPED */
    struct {
        pid_t pid;
        int conn;
    } planning[PLANNING_MAX]; /* the starts being planned, and their launchers */
    int count;
    /* A child forked ahead of the next request, so that a request pays
       neither the fork nor copying the pages that planning writes: it takes
       its copies while it waits, then gets the request's connection and the
       launcher's pid over SPARE_SOCK. 0: none. */
    pid_t spare;
    int spare_sock;
};

/* fork(), with the child keeping none of the planner's descriptors (its
   socket, lock, signals, the other launchers' connections). */
static pid_t fork_child(struct serving *s) {
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    close(s->listener), close(s->reaped), close(s->lock);
    for (int i = 0; i < s->count; i++)
        close(s->planning[i].conn);
    if (s->spare > 0)
        close(s->spare_sock);
    sigprocmask(SIG_UNBLOCK, &s->blocked, 0);
    return 0;
}

/* The spare's side: the request's connection and the launcher's pid, or
   the end of the spare when the planner closes its end (it left or was
   killed). */
static void __attribute__((noreturn)) spare_wait(int sock, husk_planner_child child) {
    int32_t peer = 0;
    int conn = -1;
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = {&peer, sizeof peer};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                             .msg_controllen = sizeof control.bytes};
    ssize_t n = recvmsg(sock, &message, MSG_CMSG_CLOEXEC);
    if (n <= 0)
        _exit(0);
    struct cmsghdr *c = n == (ssize_t)sizeof peer ? CMSG_FIRSTHDR(&message) : 0;
    /* Not what the planner sends: ended by a signal, so that the launcher
       it may have handed is told to run the start itself (FULL). */
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
        raise(SIGKILL);
    memcpy(&conn, CMSG_DATA(c), sizeof conn);
    close(sock);
    plan_for(conn, peer, child);
}

/* Forks a spare, unless there is one; none when fork fails (a request
   then forks its own child). */
static void spare_fork(struct serving *s, husk_planner_child child) {
    int pair[2];
    if (s->spare > 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        return;
    pid_t pid = fork_child(s);
    if (pid == 0) {
        close(pair[0]);
        prctl(PR_SET_NAME, "husk-spare", 0, 0, 0);
        husk_planner_own_pages();
        spare_wait(pair[1], child);
    }
    close(pair[1]);
    if (pid < 0) {
        close(pair[0]);
        return;
    }
    s->spare = pid, s->spare_sock = pair[0];
}

/* The spare is gone (it died, or was used): none until the next fork. */
static void spare_forget(struct serving *s) {
    if (s->spare > 0)
        close(s->spare_sock);
    s->spare = 0, s->spare_sock = -1;
}

/* Hands CONN (from launcher PEER) to the spare, which then plans it: the
   spare's pid, or -1 when there is none or it is gone. It is used up. */
static pid_t spare_hand(struct serving *s, int conn, pid_t peer) {
    pid_t pid = s->spare;
    if (pid <= 0)
        return -1;
    int32_t value = peer;
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {&value, sizeof value};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                             .msg_controllen = sizeof control.bytes};
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &conn, sizeof conn);
    int sent = sendmsg(s->spare_sock, &message, MSG_NOSIGNAL) == (ssize_t)sizeof value;
    spare_forget(s);
    return sent ? pid : -1;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Whether PATH still names the socket bound as MINE: removed or replaced
   (its directory cleaned up, another planner), this one stops. */
static int still_ours(const char *path, const struct stat *mine) {
    struct stat st;
    return stat(path, &st) == 0 && st.st_dev == mine->st_dev && st.st_ino == mine->st_ino;
}

int husk_planner_serve(const char *path, int idle, husk_planner_child child) {
    /* Not dumpable: a container of this user cannot reach it, its memory
       or its socket through /proc (nor can its children, forked). */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return -1;
    prctl(PR_SET_NAME, "husk-planner", 0, 0, 0);
    struct sockaddr_un sun;
    if (address(&sun, path) != 0)
        return -1;
    char lockpath[PATH_MAX];
    if (snprintf(lockpath, sizeof lockpath, "%s.lock", path) >= (int)sizeof lockpath) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* One planner per socket: the lock its starter took (descriptor 3),
       else its own; a second planner started by hand leaves. */
    int lock = fcntl(3, F_GETFD) >= 0 && flock(3, LOCK_EX | LOCK_NB) == 0 ? 3 : husk_planner_lock(path);
    if (lock < 0)
        return 1;
    (void)fcntl(lock, F_SETFD, FD_CLOEXEC);
    unlink(path);
    int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct stat mine;
    if (listener < 0 || bind(listener, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(listener, 64) != 0 ||
        stat(path, &mine) != 0) {
        int saved = errno;
        if (listener >= 0)
            close(listener);
        close(lock);
        errno = saved;
        return -1;
    }
    /* Children ending, and a request to stop (kill, husk's tests): taken
       in the loop, so that a stopped planner leaves no socket behind. */
    struct serving s = {.listener = listener, .lock = lock, .count = 0, .spare = 0, .spare_sock = -1};
    sigemptyset(&s.blocked);
    sigaddset(&s.blocked, SIGCHLD);
    sigaddset(&s.blocked, SIGTERM);
    sigaddset(&s.blocked, SIGINT);
    sigaddset(&s.blocked, SIGHUP);
    sigprocmask(SIG_BLOCK, &s.blocked, 0);
    s.reaped = signalfd(-1, &s.blocked, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s.reaped < 0) {
        close(listener), close(lock);
        return -1;
    }
    int stopping = 0;
    spare_fork(&s, child);
    double last = now();
    for (;;) {
        struct pollfd watch[2] = {{listener, POLLIN, 0}, {s.reaped, POLLIN, 0}};
        int ready = poll(watch, 2, 1000);
        if (ready < 0 && errno != EINTR)
            break;
        if (watch[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(s.reaped, &info, sizeof info) == (ssize_t)sizeof info)
                if (info.ssi_signo != SIGCHLD)
                    stopping = 1;
            int status;
            pid_t pid;
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (pid == s.spare) /* died waiting */
                    spare_forget(&s);
                for (int i = 0; i < s.count; i++) {
                    if (s.planning[i].pid != pid)
                        continue;
                    /* After a plan the launcher has gone on: this finds its socket closed. */
                    if (WIFEXITED(status))
                        husk_planner_send(s.planning[i].conn, HUSK_PLANNER_EXIT, WEXITSTATUS(status));
                    else
                        husk_planner_send(s.planning[i].conn, HUSK_PLANNER_FULL, 0);
                    close(s.planning[i].conn);
                    s.planning[i] = s.planning[--s.count];
                    break;
                }
            }
            last = now();
            /* The next spare is forked once a start's planning is over, not
               while it plans: on a node's few cores the two would compete. */
            if (!stopping)
                spare_fork(&s, child);
        }
        if ((watch[0].revents & POLLIN) && !stopping) {
            int conn = accept4(listener, 0, 0, SOCK_CLOEXEC);
            if (conn >= 0) {
                struct ucred peer;
                socklen_t length = sizeof peer;
                /* Only this user's processes: the socket's directory is
                   private too, but the kernel's word is the one that counts. */
                if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || peer.uid != getuid() ||
                    peer.pid <= 0) {
                    close(conn);
                } else if (s.count == PLANNING_MAX) {
                    husk_planner_send(conn, HUSK_PLANNER_FULL, 0);
                    close(conn);
                } else {
                    pid_t pid = spare_hand(&s, conn, peer.pid);
                    if (pid < 0 && (pid = fork_child(&s)) == 0)
                        plan_for(conn, peer.pid, child);
                    if (pid < 0) {
                        husk_planner_send(conn, HUSK_PLANNER_FULL, 0);
                        close(conn);
                    } else {
                        s.planning[s.count].pid = pid;
                        s.planning[s.count].conn = conn;
                        s.count++;
                    }
                }
                last = now();
            }
        }
        if (s.count == 0 && (stopping || !still_ours(path, &mine) || now() - last >= idle))
            break;
    }
    if (still_ours(path, &mine))
        unlink(path);
    unlink(lockpath);
    spare_forget(&s); /* its end of the pair closed: the spare leaves */
    close(listener), close(s.reaped), close(lock);
    return 0;
}
