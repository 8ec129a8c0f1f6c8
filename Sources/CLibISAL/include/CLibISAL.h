#ifndef HUSK_CLIBISAL_H
#define HUSK_CLIBISAL_H
/* Intel ISA-L's inflate for gzip layers (DESIGN.md §7). Opened on the first
   gzip layer (lazy.c): only conversion uses it, and a container start
   would otherwise load it for nothing. */
#include <isa-l/igzip_lib.h>
#endif
