/* This user's image server on this node: see server.h for the design. */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "CSquashFuse.h"
#include "supervise.h"
#include "userns.h"
#include "util.h"

/* Requests, one byte from the client; the answer to a join is one byte
   ('y' with the two namespace descriptors, or 'n'). */
enum { REQ_JOIN = 'J', REQ_STATUS = 'S', REQ_STOP = 'Q' };

/* How long a starter waits for the server's answer, and the server for a
   client's request: both are local and quick; this only bounds a stuck peer. */
#define ANSWER_SECONDS 10
#define REQUEST_SECONDS 2

struct server_paths {
    char sock[128];
    char lock[128];
    char mnt[128];
};

static void server_paths(const char *prefix, struct server_paths *p) {
    snprintf(p->sock, sizeof p->sock, "%s.sock", prefix);
    snprintf(p->lock, sizeof p->lock, "%s.lock", prefix);
    const char *slash = strrchr(prefix, '/');
    snprintf(p->mnt, sizeof p->mnt, "%.*s/mnt", (int)(slash - prefix), prefix);
}

static void set_timeout(int fd, int option, int seconds) {
    struct timeval tv = {.tv_sec = seconds};
    (void)setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

/* ---- the starter's side ---------------------------------------------------- */

/* A connection to the server at SOCK, or -1 (errno) when none listens. */
static int connect_to(const char *sock) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail_errno(errno, NULL, "creating a socket for the image server");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Whether FD is a namespace of TYPE; for a user namespace, also ours. */
static int is_namespace(int fd, int type) {
    if (ioctl(fd, NS_GET_NSTYPE) != type)
        return 0;
    if (type != CLONE_NEWUSER)
        return 1;
    uid_t owner;
    return ioctl(fd, NS_GET_OWNER_UID, &owner) == 0 && owner == getuid();
}

/* Receives 'y' and two descriptors on FD into NS; -1 otherwise. */
static int receive_namespaces(int fd, int ns[2]) {
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(2 * sizeof(int))];
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR(&m) : NULL;
    int got = c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
              c->cmsg_len == CMSG_LEN(2 * sizeof(int));
    if (got)
        memcpy(ns, CMSG_DATA(c), 2 * sizeof(int));
    if (got && byte == 'y' && !(m.msg_flags & MSG_CTRUNC))
        return 0;
    if (got) {
        close(ns[0]);
        close(ns[1]);
    }
    return -1;
}

/* Ask the server to let us join. Returns the connection with NS filled in;
   -1 when no server listens; -2 when one did but would not (it is ending). */
static int try_join(const struct server_paths *p, int ns[2]) {
    int fd = connect_to(p->sock);
    if (fd < 0)
        return -1;
    /* Only a server of our own: the directory is private, but say why. */
    struct ucred peer;
    socklen_t len = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || peer.uid != getuid())
        fail("%s: the image server socket belongs to another user; remove it", p->sock);
    set_timeout(fd, SO_RCVTIMEO, ANSWER_SECONDS);
    char req = REQ_JOIN;
    if (write_all(fd, &req, 1) < 0 || receive_namespaces(fd, ns) < 0) {
        close(fd);
        return -2;
    }
    if (!is_namespace(ns[0], CLONE_NEWUSER) || !is_namespace(ns[1], CLONE_NEWNS))
        fail("%s: the image server sent something other than its namespaces; "
             "stop it (husk server stop) and run again", p->sock);
    set_timeout(fd, SO_RCVTIMEO, 0);
    return fd;
}

static int lock_server(const struct server_paths *p) {
    int fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        fail_errno(errno, NULL, "opening %s", p->lock);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            fail_errno(errno, NULL, "locking %s", p->lock);
    return fd;
}

static _Noreturn void keeper_main(const struct plan *plan, const struct server_paths *p, int ready);

/* Starts the server (under the lock) and waits until it listens with the
   image mounted.  It is a grandchild in a session of its own: no terminal's
   signals reach it, and it outlives this container. */
static void start_server(const struct plan *plan, const struct server_paths *p) {
    if (mkdir(p->mnt, 0700) < 0 && errno != EEXIST)
        fail_errno(errno, NULL, "creating %s", p->mnt);
    struct stat st;
    if (lstat(p->mnt, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
        fail("%s: not a directory of yours; remove it", p->mnt);
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        fail_errno(errno, NULL, "pipe");
    pid_t child = fork();
    if (child < 0)
        fail_errno(errno, NULL, "forking the image server");
    if (child == 0) {
        close(ready[0]);
        if (setsid() < 0)
            _exit(HUSK_EXIT_FAILURE);
        pid_t keeper = fork();
        if (keeper == 0)
            keeper_main(plan, p, ready[1]);
        _exit(keeper < 0 ? HUSK_EXIT_FAILURE : 0);
    }
    close(ready[1]);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
    char ok = 0;
    ssize_t n;
    do
        n = read(ready[0], &ok, 1);
    while (n < 0 && errno == EINTR);
    close(ready[0]);
    if (n != 1 || ok != 'y')
        _exit(HUSK_EXIT_FAILURE); /* the server said why, in one line */
}

/* Into the server's user namespace (full capabilities there, as after
   unshare) and a copy of its mount namespace that is ours to change. */
static void enter_server(int ns[2]) {
    if (setns(ns[0], CLONE_NEWUSER) < 0)
        fail_errno(errno, NULL, "entering the image server's user namespace");
    if (setns(ns[1], CLONE_NEWNS) < 0)
        fail_errno(errno, NULL, "entering the image server's mount namespace");
    close(ns[0]);
    close(ns[1]);
    if (unshare(CLONE_NEWNS) < 0)
        fail_errno(errno, NULL, "unshare(CLONE_NEWNS)");
    /* Nothing this container mounts may reach the server or its other
       containers; what the host mounts still comes in. */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        fail_errno(errno, NULL, "making mounts slaves");
}

int server_join(const struct plan *plan, char *root, size_t rootlen) {
    struct server_paths p;
    server_paths(plan->server, &p);
    snprintf(root, rootlen, "%s", p.mnt);
    int ns[2];
    for (int attempt = 0; attempt < 3; attempt++) {
        int conn = try_join(&p, ns);
        if (conn < 0) {
            /* None, or one that is ending: under the lock, look again and
               start one (a dead server's socket refuses connections). */
            int lock = lock_server(&p);
            conn = try_join(&p, ns);
            if (conn == -1) {
                if (unlink(p.sock) < 0 && errno != ENOENT)
                    fail_errno(errno, NULL, "removing the dead image server's socket %s", p.sock);
                start_server(plan, &p);
                conn = try_join(&p, ns);
            }
            close(lock);
        }
        if (conn >= 0) {
            enter_server(ns);
            return conn;
        }
    }
    fail("the image server for %s (%s) did not let this container join; stop it "
         "(husk server stop) or run with HUSK_IDLE=0", plan->name, p.sock);
}

_Noreturn void server_prestart(const struct plan *plan) {
    /* husk waits for this process: it leaves at once, and its child does
       the work, out of the container's way (husk becomes the starter, whose
       supervisor must have no children but its own). */
    pid_t child = fork();
    if (child != 0)
        _exit(child < 0 ? HUSK_EXIT_FAILURE : 0);
    struct server_paths p;
    server_paths(plan->server, &p);
    int fd = connect_to(p.sock);
    if (fd >= 0)
        _exit(0); /* one runs already */
    /* Not created: the directory is gone, and the starter will say why. */
    int lock = open(p.lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    /* Held: a starter is starting one; the container's starter waits for it. */
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
        _exit(0);
    fd = connect_to(p.sock);
    if (fd < 0) {
        if (unlink(p.sock) < 0 && errno != ENOENT)
            _exit(HUSK_EXIT_FAILURE);
        start_server(plan, &p);
    }
    _exit(0);
}

int server_directory(const struct plan *plan) {
    char dir[128];
    const char *slash = strrchr(plan->server, '/');
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - plan->server), plan->server);
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        fail_errno(errno, NULL, "opening %s", dir);
    return fd;
}

void server_forget_if_gone(int conn, int dirfd, const char *prefix) {
    struct pollfd pf = {.fd = conn, .events = POLLIN};
    if (poll(&pf, 1, 0) != 1)
        return; /* still there (it never writes to a joined container) */
    /* The container's root hides the directory: reach it by descriptor. */
    const char *key = strrchr(prefix, '/') + 1;
    char lock_name[80], sock[128];
    snprintf(lock_name, sizeof lock_name, "%s.lock", key);
    int lock = openat(dirfd, lock_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
        if (lock >= 0)
            close(lock);
        return; /* a starter is at work: it will find the socket dead */
    }
    snprintf(sock, sizeof sock, "/proc/self/fd/%d/%s.sock", dirfd, key);
    int fd = connect_to(sock);
    if (fd >= 0) {
        close(fd); /* a new server listens there */
    } else if (errno == ECONNREFUSED) {
        char sock_name[80];
        snprintf(sock_name, sizeof sock_name, "%s.sock", key);
        unlinkat(dirfd, sock_name, 0);
    }
    close(lock);
}

/* ---- the holder: creates the namespaces and mounts the image --------------- */

static int send_namespaces(int fd, int user, int mnt) {
    char byte = 'y';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(2 * sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    int fds[2] = {user, mnt};
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    ssize_t n;
    do
        n = sendmsg(fd, &m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

/* A short-lived child of the keeper: makes the namespaces, mounts the image
   on MNT, starts the FUSE server, hands the namespaces to the keeper over
   TO_KEEPER and exits (the keeper's descriptors keep them). */
static _Noreturn void mount_image(const struct plan *plan, const char *mnt, int to_keeper) {
    enter_namespaces(plan, MS_SLAVE);
    husk_sqfuse *fs = open_image_or_fail(plan);
    mount_image_or_fail(fs, mnt);
    pid_t server = fork();
    if (server < 0)
        fail_errno(errno, NULL, "forking the FUSE server");
    if (server == 0) {
        (void)prctl(PR_SET_NAME, "husk-fuse");
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int i = 0; i < 3 && null >= 0; i++)
            dup2(null, i);
        /* Out of the namespace it serves: it ends when the image's last
           mount goes (the keeper's namespace and every container's copy),
           as the kernel then aborts the connection. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            umount2(mnt, MNT_DETACH) < 0)
            _exit(HUSK_EXIT_FAILURE);
        serve_fuse(fs, plan);
    }
    husk_sqfuse_close_fd_in_child(fs);
    husk_sqfuse_close_image(fs);
    int user = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
    int mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (user < 0 || mntns < 0 || send_namespaces(to_keeper, user, mntns) < 0)
        fail_errno(errno, NULL, "handing the image server its namespaces");
    _exit(0);
}

/* ---- the keeper ------------------------------------------------------------ */

struct keeper {
    const struct plan *plan;
    const struct server_paths *paths;
    int listen_fd;          /* -1 once stopping */
    dev_t sock_dev;         /* the socket file we bound: never remove another's */
    ino_t sock_ino;
    int ns[2];
    struct pollfd *fds;     /* [0] signals, [1] listen, then one per container */
    size_t nfds, cap;
    time_t started, idle_since;
};

/* Removes our socket if it is still ours: new starters then start a new
   server. NB: a starter holding the lock may be joining us right now. */
static int retire_socket(struct keeper *k, int wait) {
    if (k->listen_fd < 0)
        return 0;
    /* Not created: a lock file that is gone went with its directory. */
    int lock = open(k->paths->lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (lock < 0 && errno != ENOENT)
        return -1;
    if (lock >= 0 && flock(lock, wait ? LOCK_EX : LOCK_EX | LOCK_NB) < 0) {
        close(lock);
        return -1;
    }
    struct pollfd pending = {.fd = k->listen_fd, .events = POLLIN};
    if (!wait && poll(&pending, 1, 0) == 1) {
        if (lock >= 0)
            close(lock);
        return -1; /* someone is knocking: not idle after all */
    }
    struct stat st;
    if (lstat(k->paths->sock, &st) == 0 && st.st_dev == k->sock_dev && st.st_ino == k->sock_ino)
        unlink(k->paths->sock);
    close(k->listen_fd);
    k->listen_fd = -1;
    k->fds[1].fd = -1;
    if (lock >= 0)
        close(lock);
    return 0;
}

static _Noreturn void keeper_exit(struct keeper *k) {
    retire_socket(k, 1);
    /* The FUSE server ends when the image's last mount goes: with no
       container left, once these are closed. It is this process's child:
       reap it (for up to 2 s) rather than leave a zombie to init. */
    close(k->ns[0]);
    close(k->ns[1]);
    for (int i = 0; i < 200; i++) {
        pid_t w = waitpid(-1, NULL, WNOHANG);
        if (w < 0 && errno == ECHILD)
            break;
        if (w == 0)
            usleep(10000);
    }
    _exit(0);
}

static int containers(const struct keeper *k) {
    return (int)k->nfds - 2;
}

/* Only this user's processes that are not in any container (in the host's
   user namespace, as a starter is before it joins): a container's process
   that found the socket must not get a namespace without its confinement. */
static int peer_allowed(int fd) {
    struct ucred peer;
    socklen_t len = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || peer.uid != getuid())
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)peer.pid);
    struct stat theirs, ours;
    return stat(path, &theirs) == 0 && stat("/proc/self/ns/user", &ours) == 0 &&
           theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev;
}

/* The FUSE server: this process's child since the holder exited (0 if gone). */
static int fuse_server_pid(void) {
    char path[64], buf[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return atoi(buf);
}

static void answer_status(const struct keeper *k, int fd) {
    char buf[512];
    int n = snprintf(buf, sizeof buf, "pid %d\nfuse %d\ncontainers %d\nidle %d\nstarted %lld\nimage %s\n",
                     (int)getpid(), fuse_server_pid(), containers(k), k->plan->idle, (long long)k->started,
                     k->plan->image);
    (void)write_all(fd, buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void add_container(struct keeper *k, int fd) {
    if (k->nfds == k->cap) {
        k->cap *= 2;
        k->fds = realloc(k->fds, k->cap * sizeof *k->fds);
        if (!k->fds)
            keeper_exit(k);
    }
    k->fds[k->nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
}

static void accept_clients(struct keeper *k) {
    for (;;) {
        int fd = accept4(k->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: no more for now */
        char req = 0;
        set_timeout(fd, SO_RCVTIMEO, REQUEST_SECONDS);
        if (!peer_allowed(fd) || read(fd, &req, 1) != 1) {
            close(fd);
            continue;
        }
        if (req == REQ_JOIN && send_namespaces(fd, k->ns[0], k->ns[1]) == 0) {
            add_container(k, fd); /* its end closes when the container ends */
            continue;
        }
        if (req == REQ_STATUS)
            answer_status(k, fd);
        if (req == REQ_STOP) {
            (void)write_all(fd, "y", 1);
            retire_socket(k, 1); /* no new containers; running ones go on */
        }
        close(fd);
    }
}

static _Noreturn void keeper_loop(struct keeper *k, int sfd) {
    k->idle_since = time(NULL);
    for (;;) {
        int timeout = -1;
        if (containers(k) == 0) {
            if (k->listen_fd < 0)
                keeper_exit(k); /* stopped, and the last container has ended */
            time_t idle = time(NULL) - k->idle_since;
            timeout = idle >= k->plan->idle ? 0 : (int)(k->plan->idle - idle) * 1000;
        }
        int n = poll(k->fds, k->nfds, timeout);
        if (n < 0 && errno != EINTR)
            keeper_exit(k);
        if (n == 0) {
            /* Idle: go, unless a starter holds the lock or knocks (then
               look again shortly). */
            if (retire_socket(k, 0) == 0)
                keeper_exit(k);
            k->idle_since = time(NULL) - k->plan->idle + 1;
            continue;
        }
        if (k->fds[0].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo != SIGCHLD)
                keeper_exit(k); /* SIGTERM etc.: husk server stop --all, Slurm's job end */
            int status;
            pid_t w;
            while ((w = waitpid(-1, &status, WNOHANG)) > 0)
                /* The FUSE server (reparented here) ended: nothing can be
                   served any more; let new containers start a new one. */
                keeper_exit(k);
        }
        if (k->listen_fd >= 0 && k->fds[1].revents)
            accept_clients(k);
        for (size_t i = 2; i < k->nfds;) {
            if (!k->fds[i].revents) {
                i++;
                continue;
            }
            close(k->fds[i].fd); /* EOF: that container ended */
            k->fds[i] = k->fds[--k->nfds];
            if (containers(k) == 0)
                k->idle_since = time(NULL);
        }
    }
}

static _Noreturn void keeper_main(const struct plan *plan, const struct server_paths *p, int ready) {
    (void)prctl(PR_SET_NAME, "husk-server");
    /* It holds the namespaces: no container process may reach them through
       /proc/PID/ns or /proc/PID/fd. */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* The FUSE server is reparented here when the holder exits. */
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
    int keep[] = {ready};
    close_fds_except(keep, 1);
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) { /* one descriptor per container */
        nofile.rlim_cur = nofile.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }
    sigset_t set;
    sigemptyset(&set);
    int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigaddset(&set, handled[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        fail_errno(errno, NULL, "blocking signals");
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0)
        fail_errno(errno, NULL, "signalfd");

    struct keeper k = {.plan = plan, .paths = p, .started = time(NULL), .cap = 16, .ns = {-1, -1}};
    k.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", p->sock);
    struct stat st;
    if (k.listen_fd < 0 || bind(k.listen_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(k.listen_fd, SOMAXCONN) < 0 || lstat(p->sock, &st) < 0)
        fail_errno(errno, NULL, "listening on %s", p->sock);
    k.sock_dev = st.st_dev;
    k.sock_ino = st.st_ino;

    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        fail_errno(errno, NULL, "socketpair");
    pid_t holder = fork();
    if (holder < 0)
        fail_errno(errno, NULL, "forking the image server");
    if (holder == 0) {
        /* Dumpable again: a process writes its own uid_map through /proc. */
        (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        close(pair[0]);
        close(k.listen_fd);
        close(ready);
        mount_image(plan, p->mnt, pair[1]);
    }
    close(pair[1]);
    int got = receive_namespaces(pair[0], k.ns);
    while (waitpid(holder, NULL, 0) < 0 && errno == EINTR) {
    }
    close(pair[0]);
    if (got < 0) {
        unlink(p->sock); /* it said why */
        _exit(HUSK_EXIT_FAILURE);
    }

    k.fds = calloc(k.cap, sizeof *k.fds);
    if (!k.fds)
        keeper_exit(&k);
    k.fds[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
    k.fds[1] = (struct pollfd){.fd = k.listen_fd, .events = POLLIN};
    k.nfds = 2;
    (void)write_all(ready, "y", 1);
    close(ready);
    /* From here on it outlives the container that started it: it must not
       hold that container's terminal or output (srun waits for its EOF). */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int i = 0; i < 3 && null >= 0; i++)
        dup2(null, i);
    if (null > 2)
        close(null);
    if (chdir("/") < 0) {
    }
    keeper_loop(&k, sfd);
}
