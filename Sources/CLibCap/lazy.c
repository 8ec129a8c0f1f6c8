/* libcap, opened when Husk first reads or writes a capability's name: every
 * libcap function Husk calls, as a trampoline (husk_lazy_library.h). A
 * function missing here fails the link, so the list cannot fall behind. */
#include "CLibCap.h"
#include "husk_lazy_library.h"

/* Read only while planning a container's start, before anything is written
   or started: missing, it is Husk failing to start the container, status
   255 as every such failure (DESIGN.md §3), not the shell's 127. */
static struct husk_lazy_library libcap = {"libcap.so.2", "libcap2", 255, NULL, NULL};

HUSK_LAZY(libcap, int, cap_from_name, (const char *name, cap_value_t *value), (name, value))
HUSK_LAZY(libcap, char *, cap_to_name, (cap_value_t value), (value))
HUSK_LAZY(libcap, int, cap_free, (void *object), (object))
