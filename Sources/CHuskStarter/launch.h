/* The last steps before the command: privileges, then exec. */
#ifndef HUSK_STARTER_LAUNCH_H
#define HUSK_STARTER_LAUNCH_H

#include "plan.h"

/* setrlimit for each rlimit= record; raising a hard limit is refused by
   the kernel (no CAP_SYS_RESOURCE on the host) and reported as such. */
void apply_rlimits(const struct plan *plan);

/* PR_SET_NO_NEW_PRIVS; drop every capability (bounding, ambient,
   effective/permitted/inheritable) but, with fakeroot, the caps= set. */
void drop_privileges(const struct plan *plan);

/* In the FUSE server: no capabilities, no new privileges, and the plan's
   server filter (server_seccomp) if it has one: it may then only answer
   FUSE requests from the image it holds open. */
void confine_fuse_server(const struct plan *plan);

/* execve the command with exactly the plan's environment; PATH search in
   the container.  Never returns: 127 not found, 126 not executable. */
_Noreturn void exec_command(const struct plan *plan);

#endif
