/* User and mount namespaces with a one-id map. */
#ifndef HUSK_STARTER_USERNS_H
#define HUSK_STARTER_USERNS_H

#include "plan.h"

/* unshare(CLONE_NEWUSER|CLONE_NEWNS), write setgroups/uid_map/gid_map,
   make every mount private.  Fails with exit 255. */
void enter_namespaces(const struct plan *plan);

#endif
