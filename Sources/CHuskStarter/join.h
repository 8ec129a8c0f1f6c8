/* Entering a running instance's namespaces (husk exec instance://NAME). */
#ifndef HUSK_STARTER_JOIN_H
#define HUSK_STARTER_JOIN_H

#include "plan.h"

/* setns into the user, mount, network, IPC, UTS and PID (for children)
   namespaces of plan->join that differ from ours; the mount namespace
   brings the instance's root and /. Fails with exit 255. */
void join_namespaces(const struct plan *plan);

#endif
