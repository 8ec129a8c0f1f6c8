/*
 * husk-starter: performs a launch plan computed by husk (see plan.c for the
 * format, DESIGN.md §3 for the flow).  Single-threaded C; started with the
 * plan on fd 3.
 *
 *   1-3  user + mount namespace, one-id maps, private mounts   (userns.c)
 *   4    open bind sources and the image before /tmp is hidden (rootfs.c)
 *   5    private tmpfs over /tmp for staging                   (rootfs.c)
 *   6    squashfs over FUSE in-process, fork; parent serves    (supervise.c)
 *   7-11 overlay root, files, binds, read-only, pivot_root     (rootfs.c)
 *   12   no_new_privs, capabilities                            (launch.c)
 *   13   exec                                                  (launch.c)
 *   14   pid=1: new PID namespace, init                        (supervise.c)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "CSquashFuse.h"
#include "launch.h"
#include "plan.h"
#include "join.h"
#include "namespaces.h"
#include "rootfs.h"
#include "supervise.h"
#include "userns.h"
#include "util.h"

int main(void) {
    struct plan plan;
    plan_read(3, &plan);
    mode_t saved_umask = umask(0);

    if (plan.join) {
        /* husk exec instance://NAME: the instance built everything already. */
        join_namespaces(&plan);
        fork_and_supervise(NULL, 0);
        if (plan.cwd && chdir(plan.cwd) < 0)
            (void)chdir("/");
        apply_rlimits(&plan);
        drop_privileges(&plan);
        umask(saved_umask);
        exec_command(&plan);
    }

    enter_namespaces(&plan);
    enter_extra_namespaces(&plan);
    open_bind_sources(&plan);

    husk_sqfuse *fs = NULL;
    int rootfs_fd = -1;
    if (plan.image) {
        fs = husk_sqfuse_open(plan.image, plan.offset);
        if (!fs) {
            if (errno == EINVAL)
                fail("image %s: not a squashfs image, wrong offset, or unsupported compression",
                     plan.image);
            fail_errno(errno, NULL, "image %s", plan.image);
        }
    } else {
        rootfs_fd = open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfs_fd < 0)
            fail_errno(errno, NULL, "root directory %s", plan.rootfs);
    }

    mount_staging(&plan);
    if (fs) {
        if (husk_sqfuse_mount(fs, LOWER_DIR, "husk") < 0)
            fail_errno(errno, "needs /dev/fuse usable by this user; or use --mode extract",
                       "mounting the image with FUSE");
    } else {
        mount_lower_dir(rootfs_fd, plan.rootfs);
        close(rootfs_fd);
    }

    if (plan.pid1 && unshare(CLONE_NEWPID) < 0)
        fail_errno(errno, NULL, "unshare(CLONE_NEWPID)");

    fork_and_supervise(fs, plan.pid1);
    /* Child from here on; the parent serves FUSE and never returns. */

    build_root(&plan);
    apply_rlimits(&plan);
    drop_privileges(&plan);
    if (plan.pid1)
        become_init();
    umask(saved_umask);
    exec_command(&plan);
}

/* SwiftPM links every executable with swiftc, which adds swiftrt.o: its
   constructor registers the image's Swift metadata with the Swift runtime,
   and with --static-swift-stdlib that reference alone links the whole
   runtime (and libstdc++) into this C program, whose start-up then costs
   about 1 ms more.  The starter has no Swift metadata: these no-ops stand in
   for the two runtime functions swiftrt.o refers to. */
void swift_addNewDSOImage(const void *sections);
void swift_addNewDSOImage(const void *sections) { (void)sections; }
int _swift_backtrace_isThunkFunction(const char *name);
int _swift_backtrace_isThunkFunction(const char *name) { (void)name; return 0; }
