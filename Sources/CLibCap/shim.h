#ifndef HUSK_CLIBCAP_SHIM_H
#define HUSK_CLIBCAP_SHIM_H
#include <sys/capability.h>
#endif
