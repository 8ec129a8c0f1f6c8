/* ISA-L, opened when Husk first inflates a gzip layer: every ISA-L function
 * Husk calls, as a trampoline (husk_lazy_library.h). A function missing here
 * fails the link, so the list cannot fall behind. */
#include "CLibISAL.h"
#include "CHuskShim.h"
#include "husk_lazy_library.h"

/* Missing mid-conversion: the output being written goes first (CHuskShim). */
static struct husk_lazy_library isal = {"libisal.so.2", "libisal2", 127, husk_cleanup_now, NULL};

HUSK_LAZY_VOID(isal, isal_inflate_init, (struct inflate_state *state), (state))
HUSK_LAZY(isal, int, isal_inflate, (struct inflate_state *state), (state))
