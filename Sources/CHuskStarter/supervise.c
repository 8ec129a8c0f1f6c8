/* Process structure (DESIGN.md §3, trust boundary 5):
 *
 *   starter (supervisor) ─┬─ FUSE server (sandboxed; squashfs images only)
 *                         └─ supervisor of the command ── command ── ...
 *
 * The starter forwards signals and exits with the command's status.  The
 * FUSE server is its own process so that a crash on a damaged or crafted
 * image is one line and status 255, not a signal, and so that what a bug
 * in libsquashfuse could reach is a process that can only answer FUSE.
 * The command's supervisor is PID 1 of a new PID namespace with pid=1;
 * otherwise a child subreaper that kills the command's whole process tree
 * when the command ends or when the starter dies (kill -9 included), so
 * nothing keeps running on a root whose FUSE server is gone.
 *
 * Signals are taken synchronously from a signalfd so the single-threaded
 * loops never race with handlers. */
#define _GNU_SOURCE
#include "supervise.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "server.h"
#include "util.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static sigset_t saved_mask;

/* A joined image server's connection (server.c): the starter holds it while
   the container runs; the container never sees it. */
static int server_conn = -1, server_dirfd = -1;
static const char *server_prefix;

void supervise_server_connection(int conn, int dirfd, const char *prefix) {
    server_conn = conn;
    server_dirfd = dirfd;
    server_prefix = prefix;
}

int exit_code_of(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return HUSK_EXIT_FAILURE;
}

static void block_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&set, forwarded[i]);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, &saved_mask) < 0)
        fail_errno(errno, NULL, "blocking signals");
}

/* The starter's own signals: its launcher died (the parent-death signal)
   and the grace after that ran out. Blocked and read from the signalfd. */
#define LAUNCHER_DIED SIGRTMIN
#define GRACE_OVER SIGALRM

static int signal_fd(void) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&set, forwarded[i]);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, LAUNCHER_DIED);
    sigaddset(&set, GRACE_OVER);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        fail_errno(errno, NULL, "blocking signals");
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0)
        fail_errno(errno, NULL, "signalfd");
    return fd;
}

static void restore_signals(void) {
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

/* Passes SIG on to TARGET.  A signal the terminal sent to our process
   group (SI_KERNEL) already reached TARGET if it is in the group too: it
   is passed on only when TARGET left the group, so it arrives once. */
static void forward(int sfd_signo, int code, pid_t target) {
    if (code == SI_KERNEL && getpgid(target) == getpgrp())
        return;
    kill(target, sfd_signo);
}

/* ---- killing a process tree -------------------------------------------- */

struct proc {
    pid_t pid, ppid;
    int in_tree;
};

struct proc_list {
    struct proc *p;
    size_t n, cap;
};

static int by_pid(const void *a, const void *b) {
    pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
    return (x > y) - (x < y);
}

/* Every process and its parent, from /proc (PROCFD), sorted by pid. */
static int read_parents(int procfd, struct proc_list *l) {
    l->n = 0;
    int dfd = dup(procfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    rewinddir(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "%ld/stat", pid);
        int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces and ')' */
        char *rp = strrchr(buf, ')');
        long ppid = 0;
        if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1)
            continue;
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 1024;
            struct proc *p = realloc(l->p, cap * sizeof *p);
            if (!p)
                break; /* out of memory: kill what is known */
            l->p = p;
            l->cap = cap;
        }
        l->p[l->n++] = (struct proc){.pid = (pid_t)pid, .ppid = (pid_t)ppid};
    }
    closedir(d);
    qsort(l->p, l->n, sizeof *l->p, by_pid);
    return 0;
}

/* Marks the descendants of ROOT; one pass per generation. */
static void mark_tree(struct proc_list *l, pid_t root) {
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < l->n; i++) {
            struct proc *q = &l->p[i];
            if (q->in_tree || q->pid == root)
                continue;
            struct proc key = {.pid = q->ppid};
            struct proc *parent = bsearch(&key, l->p, l->n, sizeof *l->p, by_pid);
            if (q->ppid == root || (parent && parent->in_tree)) {
                q->in_tree = 1;
                changed = 1;
            }
        }
    }
}

/* SIGKILL to every descendant of this process, until none is left.  As a
   subreaper this process inherits the orphans of the tree, so killing all
   known descendants and waiting converges even for "cmd &" and double
   forks.  Without /proc only the direct children can be waited for. */
static void kill_descendants(int procfd) {
    pid_t self = getpid();
    struct proc_list l = {0};
    for (int round = 0; round < 1000; round++) {
        pid_t w;
        while ((w = waitpid(-1, NULL, WNOHANG)) > 0) {
        }
        /* No child at all: then no descendant either (each has a chain of
           parents up to a child of ours).  The usual case, and it spares a
           scan of every process on the node. */
        if (w < 0 && errno == ECHILD)
            break;
        if (procfd < 0 || read_parents(procfd, &l) < 0)
            break; /* blind: the server and init die with their parent anyway */
        {
            mark_tree(&l, self);
            for (size_t i = 0; i < l.n; i++)
                if (l.p[i].in_tree)
                    kill(l.p[i].pid, SIGKILL);
        }
        /* Wait for one to go (the rest are reaped at the top); ECHILD: done. */
        if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
            break;
    }
    free(l.p);
}

/* ---- the FUSE server ---------------------------------------------------- */

husk_sqfuse *open_image_or_fail(const struct plan *plan) {
    husk_sqfuse *fs = husk_sqfuse_open(plan->image, plan->offset);
    if (!fs) {
        if (errno == EINVAL)
            fail("image %s: not a squashfs image, wrong offset, or unsupported compression",
                 plan->image);
        fail_errno(errno, NULL, "image %s", plan->image);
    }
    return fs;
}

void mount_image_or_fail(husk_sqfuse *fs, const char *dir) {
    if (husk_sqfuse_mount(fs, dir, "husk") < 0)
        fail_errno(errno, "needs /dev/fuse usable by this user; or use --mode extract",
                   "mounting the image with FUSE");
}

pid_t start_fuse_server(husk_sqfuse *fs, const struct plan *plan) {
    pid_t parent = getpid();
    pid_t server = fork();
    if (server < 0)
        fail_errno(errno, NULL, "forking the FUSE server");
    if (server > 0) {
        /* Only the server holds the connection (if it dies, the kernel
           aborts it and the container's reads fail instead of hanging) and
           the image file (the starter stays dumpable, so that husk exec
           instance:// can join its namespaces). */
        husk_sqfuse_close_fd_in_child(fs);
        husk_sqfuse_close_image(fs);
        return server;
    }
    (void)prctl(PR_SET_NAME, "husk-fuse");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(HUSK_EXIT_FAILURE);
    serve_fuse(fs, plan);
}

_Noreturn void serve_fuse(husk_sqfuse *fs, const struct plan *plan) {
    int keep[] = {husk_sqfuse_fd(fs), husk_sqfuse_image_fd(fs)};
    close_fds_except(keep, 2);
    /* The signals the starter forwards are blocked here: a signal to the
       whole process group (Ctrl-C, mpirun or Slurm's scancel, which
       signal every process of a step) must reach the command, which may
       still read its image while it cleans up. The supervisor decides
       when the server ends (SIGKILL, after the container); an image
       server's ends when the last mount of the image goes. */
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&set, forwarded[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        _exit(HUSK_EXIT_FAILURE);
    confine_fuse_server(plan);
    for (;;) {
        struct pollfd p = {.fd = husk_sqfuse_fd(fs), .events = POLLIN};
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(HUSK_EXIT_FAILURE);
        }
        int r = husk_sqfuse_serve_one(fs);
        if (r == 0)
            _exit(0); /* unmounted */
        if (r < 0)
            _exit(HUSK_EXIT_FAILURE);
    }
}

/* ---- the starter and the command's supervisor --------------------------- */

/* Slurm's proctrack/linuxproc finds a job's processes by their parents:
   when scancel's SIGTERM kills a job script that did not exec husk, the
   starter is reparented away and Slurm's SIGKILL never comes. So the
   starter does what Slurm would: SIGTERM to the command, SIGKILL after the
   grace (the command got Slurm's own SIGTERM already; a second one does no
   harm). Armed late: unsharing the user namespace clears the signal. */
static void watch_launcher(int orphan_grace, pid_t launcher) {
    if (orphan_grace <= 0)
        return;
    if (prctl(PR_SET_PDEATHSIG, LAUNCHER_DIED) < 0)
        fail_errno(errno, NULL, "prctl(PR_SET_PDEATHSIG)");
    if (getppid() != launcher) /* gone already */
        kill(getpid(), LAUNCHER_DIED);
}

/* The starter's loop: forward signals to CHILD, exit with its status.  If
   SERVER ends first, the container cannot read its image any more. */
static _Noreturn void supervise_container(pid_t child, pid_t server, const char *name, int orphan_grace,
                                          pid_t launcher) {
    int sfd = signal_fd();
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    watch_launcher(orphan_grace, launcher);
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n != (ssize_t)sizeof si) {
            if (n < 0 && errno != EINTR)
                fail_errno(errno, NULL, "reading signals");
            continue;
        }
        if ((int)si.ssi_signo == LAUNCHER_DIED) {
            kill(child, SIGTERM);
            alarm((unsigned)orphan_grace);
            continue;
        }
        if ((int)si.ssi_signo == GRACE_OVER) {
            kill(child, SIGKILL); /* its SIGCHLD ends the loop below */
            continue;
        }
        if (si.ssi_signo != SIGCHLD) {
            forward((int)si.ssi_signo, si.ssi_code, child);
            continue;
        }
        int status;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
            if (w == child) {
                if (server_conn >= 0)
                    server_forget_if_gone(server_conn, server_dirfd, server_prefix);
                if (server > 0) {
                    kill(server, SIGKILL);
                    waitpid(server, NULL, 0);
                }
                kill_descendants(procfd); /* anything reparented here */
                _exit(exit_code_of(status));
            }
            if (w == server) {
                kill(child, SIGKILL);
                kill_descendants(procfd);
                /* SIGKILL comes from outside (the OOM killer, kill -9 of
                   the process group); anything else is the server failing
                   on what it read. */
                if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                    fail("the FUSE server of %s was killed (signal 9, from outside: the OOM killer or "
                         "kill -9): the container could not read its image any more", name);
                char why[64];
                if (WIFSIGNALED(status))
                    snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(status));
                else
                    snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(status));
                fail("the FUSE server of %s ended (%s): the image file is damaged or changed while "
                     "in use; check it with husk inspect, or copy or convert it again",
                     name, why);
            }
        }
    }
}

int fork_and_supervise(pid_t server, const char *name, int pid1, int orphan_grace, pid_t launcher) {
    block_signals();
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) < 0)
        fail_errno(errno, NULL, "pipe");
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0)
        fail_errno(errno, NULL, "fork");
    if (child > 0) {
        /* The starter keeps nothing but the pipe: bind sources, Husk's
           state directories and the caller's descriptors are the child's. */
        int keep[] = {alive[1], server_conn, server_dirfd};
        close_fds_except(keep, 3);
        supervise_container(child, server, name, orphan_grace, launcher);
    }
    close(alive[1]);
    if (server_conn >= 0) {
        close(server_conn);
        close(server_dirfd);
    }
    /* PID 1 dies with the starter, and the kernel kills its namespace; a
       subreaper watches the pipe instead and kills the tree itself.  The
       parent may have died before either was armed: getppid() is 0 in a
       new PID namespace, so ask the pipe (its write end closes when the
       parent goes). */
    if (pid1 && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        fail_errno(errno, NULL, "PR_SET_PDEATHSIG");
    struct pollfd p = {.fd = alive[0], .events = POLLIN};
    if (poll(&p, 1, 0) != 0 || (getppid() != 0 && getppid() != parent))
        _exit(HUSK_EXIT_FAILURE);
    return alive[0];
}

void supervise_command(int alive_fd, int procfd, enum pid1_mode mode) {
    if (mode == PID1_COMMAND) {
        close(alive_fd);
        restore_signals();
        return;
    }
    int pid1 = mode == PID1_INIT;
    int sfd = signal_fd();
    if (!pid1)
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t cmd = fork();
    if (cmd < 0)
        fail_errno(errno, NULL, "fork");
    if (cmd == 0) {
        close(sfd);
        close(alive_fd);
        if (procfd >= 0)
            close(procfd);
        restore_signals();
        return;
    }
    /* This process stays in the container's reach (same user, no
       capabilities): it keeps only what it needs, no bind source or
       state directory of the host. */
    int keep[] = {sfd, alive_fd, procfd};
    close_fds_except(keep, 3);
    (void)prctl(PR_SET_NAME, pid1 ? "husk-init" : "husk-reaper");

    for (;;) {
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = alive_fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fail_errno(errno, NULL, "poll");
        }
        if (p[1].revents) {
            /* The starter is gone (kill -9, or it failed): so is the image. */
            kill(cmd, SIGKILL);
            kill_descendants(procfd);
            _exit(HUSK_EXIT_FAILURE);
        }
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
            continue;
        if (si.ssi_signo != SIGCHLD) {
            forward((int)si.ssi_signo, si.ssi_code, cmd);
            continue;
        }
        int status;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
            if (w != cmd)
                continue;
            /* In a PID namespace the kernel ends the rest when init exits. */
            if (!pid1)
                kill_descendants(procfd);
            _exit(exit_code_of(status));
        }
    }
}
