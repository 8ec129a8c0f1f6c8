/* Process structure: the FUSE-serving parent, the container child, and
   the tiny init of pid=1 mode. */
#ifndef HUSK_STARTER_SUPERVISE_H
#define HUSK_STARTER_SUPERVISE_H

#include "CSquashFuse.h"

/* Fork.  The parent serves FS (may be NULL), forwards SIGINT, SIGTERM,
   SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the child and exits
   with the child's status (128+N when killed by signal N); it never
   returns.  Processes the child leaves behind are reparented to the parent
   (subreaper) and killed when the child exits.  The child returns, set to die with SIGKILL if the parent dies.
   With KEEP_BLOCKED the child keeps those signals blocked (for init). */
void fork_and_supervise(husk_sqfuse *fs, int keep_blocked);

/* pid=1 mode, called in the child (PID 1 of the new namespace) with the
   signals still blocked: fork the command process and return in it; this
   process stays as init: reaps zombies, forwards signals, exits with the
   command's status. */
void become_init(void);

/* Exit status for a wait status: the exit code, or 128+N for signal N. */
int exit_code_of(int status);

#endif
