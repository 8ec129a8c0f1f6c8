#ifndef HUSK_CLIBSECCOMP_SHIM_H
#define HUSK_CLIBSECCOMP_SHIM_H
#include <seccomp.h>
#endif
