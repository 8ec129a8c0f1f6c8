/* Process structure: the starter (supervisor), the FUSE server, and the
   command's supervisor (init with pid=1, else a subreaper). */
#ifndef HUSK_STARTER_SUPERVISE_H
#define HUSK_STARTER_SUPERVISE_H

#include <sys/types.h>

#include "CSquashFuse.h"
#include "plan.h"

/* husk_sqfuse_open and husk_sqfuse_mount, failing with one line. */
husk_sqfuse *open_image_or_fail(const struct plan *plan);
void mount_image_or_fail(husk_sqfuse *fs, const char *dir);

/* Fork the FUSE server for FS (mounted already): a child that serves it
   until the connection ends, confined (confine_fuse_server), and dies with
   the starter.  The starter's copy of the connection is closed.  Returns
   the server's pid. */
pid_t start_fuse_server(husk_sqfuse *fs, const struct plan *plan);

/* The FUSE server's body: keep only the connection and the image, block the
   forwarded signals, confine, and answer requests until the file system is
   unmounted (exit 0) or the connection fails (exit 255). */
_Noreturn void serve_fuse(husk_sqfuse *fs, const struct plan *plan);

/* Fork.  The parent (the starter) forwards SIGINT, SIGTERM, SIGHUP,
   SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the child and exits with the
   child's status (128+N when killed by signal N), after killing whatever
   is left below it; if SERVER (0: none) ends first it says so in one line,
   kills the container and exits 255.  It never returns.  The child returns
   with those signals blocked and the read end of a pipe that reaches EOF
   when the starter dies; with PID1 it also dies with SIGKILL then. NAME is
   the image's, for messages. With ORPHAN_GRACE (seconds, 0: never), the
   death of LAUNCHER (the process that started husk) ends the container as
   Slurm would: SIGTERM, then SIGKILL after ORPHAN_GRACE seconds. */
int fork_and_supervise(pid_t server, const char *name, int pid1, int orphan_grace, pid_t launcher);

/* Who is PID 1 of a new PID namespace: nobody (no namespace), Husk's
   init, or the command itself (--no-init). */
enum pid1_mode { PID1_NONE, PID1_INIT, PID1_COMMAND };

/* In the child, after the root is built and privileges dropped: fork the
   command and return in it (signals restored).  This process stays as the
   command's supervisor: PID 1 of the new namespace with PID1_INIT, otherwise
   a child subreaper that kills every descendant (found in PROCFD, a /proc)
   when the command ends or ALIVE_FD says the starter died.  It forwards
   signals and exits with the command's status.  With PID1_COMMAND it
   returns at once: this process, PID 1, becomes the command; the kernel
   kills it when the starter dies (PR_SET_PDEATHSIG) and the rest of the
   namespace when it ends, and the starter forwards signals to it. */
void supervise_command(int alive_fd, int procfd, enum pid1_mode pid1);

/* Before fork_and_supervise: the starter keeps CONN, its image server's
   connection (server.c, path prefix PREFIX, directory DIRFD), while the
   container runs. */
void supervise_server_connection(int conn, int dirfd, const char *prefix);

/* Exit status for a wait status: the exit code, or 128+N for signal N. */
int exit_code_of(int status);

#endif
