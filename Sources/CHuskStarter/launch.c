/* The last steps before the command: privileges, then exec. */
#define _GNU_SOURCE
#include "launch.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void apply_rlimits(const struct plan *plan) {
    for (size_t i = 0; i < plan->nrlimits; i++) {
        const struct rlimit_rec *r = &plan->rlimits[i];
        struct rlimit limit = {.rlim_cur = (rlim_t)r->soft, .rlim_max = (rlim_t)r->hard};
        if (setrlimit(r->resource, &limit) < 0) {
            struct rlimit current;
            getrlimit(r->resource, &current);
            if (errno == EPERM)
                fail("--rlimit %s: the hard limit cannot be raised above the current %llu "
                     "without privilege on the host (Operation not permitted)",
                     r->name, (unsigned long long)current.rlim_max);
            fail_errno(errno, "the soft limit must not exceed the hard one", "--rlimit %s", r->name);
        }
    }
}

void drop_privileges(const struct plan *plan) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail_errno(errno, NULL, "PR_SET_NO_NEW_PRIVS");
    /* Kept: nothing, or with fakeroot the plan's set (all without caps=).
       For uid 0 the bounding set is what survives execve. */
    unsigned long long keep = plan->fakeroot ? (plan->have_caps ? plan->caps : ~0ULL) : 0;
    if (keep == ~0ULL)
        return;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fail_errno(errno, NULL, "clearing ambient capabilities");
    /* Up to the kernel's last capability: EINVAL past it. */
    for (int cap = 0; cap < 64; cap++) {
        if (keep & (1ULL << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL)
                break;
            fail_errno(errno, NULL, "dropping capability %d from the bounding set", cap);
        }
    }
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) < 0)
        fail_errno(errno, NULL, "reading capabilities");
    for (int i = 0; i < 2; i++) {
        __u32 part = (__u32)(keep >> (32 * i));
        data[i].effective &= part;
        data[i].permitted &= part;
        data[i].inheritable &= part;
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        fail_errno(errno, NULL, "dropping capabilities");
}

static int install_filter(const unsigned char *program, size_t len) {
    struct sock_fprog prog = {
        .len = (unsigned short)(len / sizeof(struct sock_filter)),
        .filter = (struct sock_filter *)program,
    };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* The last step before execve: from here on the filter applies to this
   process and everything it starts (no_new_privs is already set). */
static void install_seccomp(const struct plan *plan) {
    if (plan->seccomp && install_filter(plan->seccomp, plan->seccomp_len) < 0)
        fail_errno(errno, "the kernel must support seccomp filters; --security seccomp=unconfined runs without",
                   "installing the seccomp filter");
}

void confine_fuse_server(const struct plan *plan) {
    /* Not dumpable: it holds the image file and /dev/fuse open, and a
       process of the container (same user, same user namespace, no more
       capabilities than it has) could otherwise reopen them through
       /proc/PID/fd, e.g. to rewrite a cached image. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        _exit(HUSK_EXIT_FAILURE);
    struct plan none = *plan;
    none.fakeroot = 0; /* drop every capability */
    drop_privileges(&none);
    if (plan->server_seccomp && install_filter(plan->server_seccomp, plan->server_seccomp_len) < 0)
        _exit(HUSK_EXIT_FAILURE);
}

_Noreturn void exec_command(const struct plan *plan) {
    /* Only 0-2 and the descriptors the caller passed (keep_fd) reach the
       command: whatever the starter, libfuse or libsquashfuse opened, and
       anything husk left open, is closed here. */
    close_fds_except(plan->keep_fds, plan->nkeep_fds);
    install_seccomp(plan);
    const char *cmd = plan->argv[0];
    char *const *argv = plan->argv;
    char *const *envp = plan->env;
    if (strchr(cmd, '/')) {
        execve(cmd, argv, envp);
        int err = errno;
        if (err == ENOENT || err == ENOTDIR) {
            say("%s: not found in %s", cmd, plan->name);
            _exit(127);
        }
        say("%s: not executable in %s (%s)", cmd, plan->name, strerror(err));
        _exit(126);
    }
    const char *path = plan_getenv(plan, "PATH");
    if (!path)
        path = DEFAULT_PATH;
    int denied = 0;
    const char *p = path;
    char full[4096];
    for (;;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0) /* empty element: current directory, as execvp */
            snprintf(full, sizeof full, "%s", cmd);
        else
            snprintf(full, sizeof full, "%.*s/%s", (int)n, p, cmd);
        execve(full, argv, envp);
        int err = errno;
        if (err == EACCES || err == ENOEXEC || err == EPERM) {
            if (!denied)
                denied = err;
        } else if (err != ENOENT && err != ENOTDIR && err != ELOOP && err != ENAMETOOLONG) {
            say("%s: not executable in %s (%s)", cmd, plan->name, strerror(err));
            _exit(126);
        }
        if (!e)
            break;
        p = e + 1;
    }
    if (denied) {
        say("%s: not executable in %s (%s)", cmd, plan->name, strerror(denied));
        _exit(126);
    }
    say("%s: not found in %s", cmd, plan->name);
    _exit(127);
}
