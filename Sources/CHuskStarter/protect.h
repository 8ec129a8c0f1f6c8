/* Husk's own state on the host (protect= records), kept out of reach of
   the container whatever binds are active (DESIGN.md §3, trust boundary 3). */
#ifndef HUSK_STARTER_PROTECT_H
#define HUSK_STARTER_PROTECT_H

#include "plan.h"

/* Step 4, with the bind sources open: open each protected directory, and
   refuse (exit 255) a bind whose source lies inside one. */
void open_protected(struct plan *plan);

/* After the mounts, in the container root ROOTFD (at ROOT_DIR): wherever a
   bind shows a protected directory, cover it with an empty read-only
   tmpfs, and make each directory between the bind and it a mount point
   of its own, so that none of them can be renamed away and replaced from
   inside (rename(2) refuses mount points with EBUSY). */
void hide_protected(const struct plan *plan, int rootfd);

#endif
