/* What the planner's files share and the launcher does not need. */
#ifndef HUSK_PLANNER_INTERNAL_H
#define HUSK_PLANNER_INTERNAL_H

/* In a child forked ahead of a request (a spare, planner.c): copies now
   every resident page of its writable private mappings, which it shares
   with the planner until one of them writes it. The planning code then
   writes its own pages and takes no copy-on-write fault on the request's
   path. Costs the spare the planner's dirty memory (about 1.5 MB). */
void husk_planner_own_pages(void);

#endif
