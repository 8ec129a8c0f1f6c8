/* User and mount namespaces: one-id maps, or subordinate ids with --fakeroot. */
#ifndef HUSK_STARTER_USERNS_H
#define HUSK_STARTER_USERNS_H

#include "plan.h"

/* unshare(CLONE_NEWUSER|CLONE_NEWNS), map ids (one-id maps, or with
   fakeroot=1 and subuid=/subgid= through newuidmap/newgidmap),
   make every mount private.  Fails with exit 255. */
void enter_namespaces(const struct plan *plan);

#endif
