#ifndef HUSK_CLIBISAL_SHIM_H
#define HUSK_CLIBISAL_SHIM_H
#include <isa-l/igzip_lib.h>
#endif
