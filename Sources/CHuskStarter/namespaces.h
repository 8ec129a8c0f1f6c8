/* Namespaces beyond user and mount, asked for with --net, --ipc, --uts. */
#ifndef HUSK_STARTER_NAMESPACES_H
#define HUSK_STARTER_NAMESPACES_H

#include "plan.h"

/* Inside the new user namespace: unshare the network (and bring its
   loopback up), IPC and UTS namespaces the plan asks for, and set the host
   name. Fails with exit 255. */
void enter_extra_namespaces(const struct plan *plan);

#endif
