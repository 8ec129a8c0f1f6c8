/* User and mount namespaces: one-id maps, or subordinate ids with --fakeroot. */
#ifndef HUSK_STARTER_USERNS_H
#define HUSK_STARTER_USERNS_H

#include "plan.h"

/* unshare(CLONE_NEWUSER|CLONE_NEWNS), map ids (one-id maps, or with
   fakeroot=1 and subuid=/subgid= through newuidmap/newgidmap),
   then give every mount PROPAGATION: MS_PRIVATE for a container of its
   own; MS_SLAVE for an image server, whose containers should still see
   what the host mounts later (an automounted home).  Fails with exit 255. */
void enter_namespaces(const struct plan *plan, unsigned long propagation);

#endif
