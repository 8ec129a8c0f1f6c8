/*
 * The starter: performs a launch plan computed by husk-plan (see plan.c for
 * the format, DESIGN.md §3 for the flow).  Single-threaded C; the plan is on
 * the descriptor argv[1] names (--plan-fd=N), else fd 3.  Run as the program
 * husk-starter (Sources/husk-starter), or in place by the launcher (husk)
 * with a plan from the warm planner, which spares a start an exec.
 *
 *   1-3  user + mount namespace, one-id maps, private mounts   (userns.c)
 *   4    open bind sources and the image before /tmp is hidden (rootfs.c)
 *   5    private tmpfs over /tmp for staging                   (rootfs.c)
 *   6    squashfs over FUSE, served by a confined child        (supervise.c)
 *        (or 1-6: join this user's image server for the image  (server.c))
 *   7    fork: the starter supervises, the child goes on       (supervise.c)
 *   8-11 overlay root, files, binds, read-only, pivot_root     (rootfs.c)
 *   12   no_new_privs, capabilities                            (launch.c)
 *   13   fork: init (pid=1) or subreaper, and the command      (supervise.c)
 *   14   close what the caller did not pass, seccomp, exec     (launch.c)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "CSquashFuse.h"
#include "husk_starter.h"
#include "launch.h"
#include "plan.h"
#include "protect.h"
#include "join.h"
#include "namespaces.h"
#include "rootfs.h"
#include "server.h"
#include "supervise.h"
#include "userns.h"
#include "util.h"

/* The plan's descriptor: "--plan-fd=N" (husk picks one the caller's own
   descriptors do not use), else 3 (plans written by hand in tests). */
static int plan_fd(int argc, char **argv) {
    if (argc < 2)
        return 3;
    const char *prefix = "--plan-fd=";
    char *end;
    long fd = argc == 2 && strncmp(argv[1], prefix, strlen(prefix)) == 0
                  ? strtol(argv[1] + strlen(prefix), &end, 10) : -1;
    if (fd < 0 || fd > 0x7fffffff || *end != '\0')
        fail("husk-starter is started by husk (usage: husk-starter [--plan-fd=N])");
    return (int)fd;
}

/* A debug build links the Swift runtime, whose crash handler would fork a
   backtracer that reads the image through the very FUSE server that
   crashed (and hangs): fatal signals keep their default action here. */
static void default_fatal_signals(void) {
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGQUIT, SIGSYS};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
}

/* The signals the supervisor forwards arrive through a signalfd, which an
   ignored signal never reaches: a job started with & in a script ignores
   SIGINT, and its container must still get the job's Ctrl-C and kill -INT.
   These were always at their default here when husk was the Swift
   program, which catches them; the launcher and the library leave them
   as the caller had them. */
static void default_forwarded_signals(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

void husk_starter_main(int argc, char **argv) {
    default_fatal_signals();
    default_forwarded_signals();
    pid_t launcher = getppid();
    struct plan plan;
    plan_read(plan_fd(argc, argv), &plan);
    mode_t saved_umask = umask(0);
    /* After umask(0): a server started early makes its socket and files as
       one a container's starter starts does. */
    if (plan.prestart)
        server_prestart(&plan);
    if (plan.have_umask)
        saved_umask = plan.umask; /* --no-umask */

    if (plan.join) {
        /* husk exec instance://NAME: the instance built everything already. */
        join_namespaces(&plan);
        int alive = fork_and_supervise(0, plan.name, 0, plan.orphan_grace, launcher);
        if (plan.cwd && chdir(plan.cwd) < 0)
            (void)chdir("/");
        int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        apply_rlimits(&plan);
        drop_privileges(&plan);
        supervise_command(alive, procfd, PID1_NONE);
        umask(saved_umask);
        exec_command(&plan);
    }

    /* With an image server the image is mounted already, in the server's
       namespaces: it is used from there like an extracted directory. */
    int server_conn = -1, server_dirfd = -1;
    char server_root[128];
    if (plan.server) {
        server_dirfd = server_directory(&plan);
        server_conn = server_join(&plan, server_root, sizeof server_root);
        plan.rootfs = server_root;
        plan.image = NULL;
    } else {
        enter_namespaces(&plan, MS_PRIVATE);
    }
    enter_extra_namespaces(&plan);
    open_bind_sources(&plan);
    open_protected(&plan);

    husk_sqfuse *fs = NULL;
    int rootfs_fd = -1;
    if (plan.image) {
        fs = open_image_or_fail(&plan);
    } else {
        rootfs_fd = open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfs_fd < 0)
            fail_errno(errno, NULL, "root directory %s", plan.rootfs);
    }

    mount_staging(&plan);
    pid_t server = 0;
    if (fs) {
        mount_image_or_fail(fs, LOWER_DIR);
        /* Before the PID namespace: its first child would be its init. */
        server = start_fuse_server(fs, &plan);
    } else {
        mount_lower_dir(rootfs_fd, plan.rootfs);
        close(rootfs_fd);
    }
    if (server_conn >= 0)
        supervise_server_connection(server_conn, server_dirfd, plan.server);

    if (plan.pid1 && unshare(CLONE_NEWPID) < 0)
        fail_errno(errno, NULL, "unshare(CLONE_NEWPID)");

    int alive = fork_and_supervise(server, plan.name, plan.pid1, plan.orphan_grace, launcher);
    /* Child from here on; the starter supervises and never returns. */

    /* The host's /proc, kept across pivot_root: the subreaper finds the
       command's descendants there (with pid=1 the kernel does it). */
    int procfd = plan.pid1 ? -1 : open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    build_root(&plan);
    apply_rlimits(&plan);
    drop_privileges(&plan);
    supervise_command(alive, procfd, plan.pid1 ? (plan.no_init ? PID1_COMMAND : PID1_INIT) : PID1_NONE);
    umask(saved_umask);
    exec_command(&plan);
}
