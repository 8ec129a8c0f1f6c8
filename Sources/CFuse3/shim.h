#ifndef HUSK_CFUSE3_SHIM_H
#define HUSK_CFUSE3_SHIM_H
#define FUSE_USE_VERSION 32
#include <fuse3/fuse_lowlevel.h>
#endif
