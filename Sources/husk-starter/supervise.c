/* Process structure: the FUSE-serving parent, the container child, and
   the tiny init of pid=1 mode.  Signals are taken synchronously from a
   signalfd so the single-threaded loops never race with handlers. */
#define _GNU_SOURCE
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static sigset_t saved_mask;

int exit_code_of(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return HUSK_EXIT_FAILURE;
}

static int block_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&set, forwarded[i]);
    sigaddset(&set, SIGCHLD);
    sigset_t old;
    if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
        fail_errno(errno, NULL, "blocking signals");
    static int saved;
    if (!saved) {
        saved_mask = old;
        saved = 1;
    }
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0)
        fail_errno(errno, NULL, "signalfd");
    return fd;
}

static void restore_signals(void) {
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

/* Returns the signal number read, 0 if nothing was ready. */
static int read_signal(int sfd) {
    struct signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof si);
    if (n != (ssize_t)sizeof si)
        return 0;
    return (int)si.ssi_signo;
}

/* The parent is a child subreaper: processes the command leaves behind
   (daemons, "cmd &") are reparented to it.  When the command exits they are
   killed, since the image they run from is no longer served.  They are
   found by their PPid in the host's /proc (opened before pivot_root). */
static void kill_leftovers(int procfd) {
    pid_t self = getpid();
    for (int rounds = 0; rounds < 1000; rounds++) {
        pid_t w = waitpid(-1, NULL, WNOHANG);
        if (w < 0)
            return; /* ECHILD: nothing left */
        if (w > 0)
            continue;
        int dfd = procfd >= 0 ? dup(procfd) : -1;
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (d) {
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
                if (rp && sscanf(rp + 1, " %*c %ld", &ppid) == 1 && ppid == self)
                    kill((pid_t)pid, SIGKILL);
            }
            closedir(d);
        } else {
            return; /* no /proc: cannot find them; do not wait forever */
        }
        waitpid(-1, NULL, 0);
    }
}

void fork_and_supervise(husk_sqfuse *fs, int keep_blocked) {
    int sfd = block_signals();
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) < 0)
        fail_errno(errno, NULL, "pipe");
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0)
        fail_errno(errno, NULL, "fork");
    if (child == 0) {
        close(alive[1]);
        close(sfd);
        if (procfd >= 0)
            close(procfd);
        husk_sqfuse_close_fd_in_child(fs);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
            fail_errno(errno, NULL, "PR_SET_PDEATHSIG");
        /* The parent may have died before PDEATHSIG was armed.  getppid()
           is 0 in a new PID namespace, so ask the pipe: its write end
           closes when the parent goes. */
        struct pollfd p = {.fd = alive[0], .events = POLLIN};
        if (poll(&p, 1, 0) != 0 || (getppid() != 0 && getppid() != parent))
            _exit(HUSK_EXIT_FAILURE);
        close(alive[0]);
        if (!keep_blocked)
            restore_signals();
        return;
    }

    close(alive[0]);
    int fusefd = husk_sqfuse_fd(fs);
    for (;;) {
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = fusefd, .events = POLLIN}};
        int n = poll(p, fusefd >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail_errno(errno, NULL, "poll");
        }
        if (p[0].revents & POLLIN) {
            int sig = read_signal(sfd);
            if (sig == SIGCHLD) {
                int status;
                pid_t w = waitpid(child, &status, WNOHANG);
                if (w == child) {
                    kill_leftovers(procfd);
                    _exit(exit_code_of(status));
                }
            } else if (sig > 0) {
                kill(child, sig);
            }
        }
        if (fusefd >= 0 && (p[1].revents & (POLLIN | POLLERR | POLLHUP))) {
            if (husk_sqfuse_serve_one(fs) <= 0)
                fusefd = -1; /* unmounted or aborted: just wait for the child */
        }
    }
}

void become_init(void) {
    int sfd = block_signals();
    pid_t cmd = fork();
    if (cmd < 0)
        fail_errno(errno, NULL, "fork");
    if (cmd == 0) {
        close(sfd);
        restore_signals();
        return;
    }
    (void)prctl(PR_SET_NAME, "husk-init");
    for (;;) {
        int sig = read_signal(sfd);
        if (sig == SIGCHLD) {
            int status;
            pid_t w;
            while ((w = waitpid(-1, &status, WNOHANG)) > 0)
                if (w == cmd)
                    _exit(exit_code_of(status));
        } else if (sig > 0) {
            kill(cmd, sig);
        }
    }
}
