#ifndef HUSK_CLIBCAP_H
#define HUSK_CLIBCAP_H
/* libcap's capability names (--add-caps, --drop-caps, seccomp profiles).
   Opened on first use (lazy.c): a start without those options needs none. */
#include <sys/capability.h>
#endif
