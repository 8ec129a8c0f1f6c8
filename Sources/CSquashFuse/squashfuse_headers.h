/* The squashfuse headers as CSquashFuse's two files include them (see
 * CSquashFuse.c). SQFS_CONFIG_H makes <squashfuse/common.h> skip the
 * installed config.h (it defines PACKAGE_* and _POSIX_C_SOURCE-era macros);
 * the installed headers depend on it only for FUSE_USE_VERSION (the target
 * defines 32; defaulted here too) and HAVE_LINUX_TYPES_LE16. */
#ifndef HUSK_SQUASHFUSE_HEADERS_H
#define HUSK_SQUASHFUSE_HEADERS_H
#define _GNU_SOURCE
#define SQFS_CONFIG_H
/* From the installed config.h: <linux/types.h> defines __le16 etc. */
#define HAVE_LINUX_TYPES_LE16 1
#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 32
#endif

#include <squashfuse/dir.h>
#include <squashfuse/file.h>
#include <squashfuse/ll.h>
/* zstd.h marks its functions default-visibility; lazy.c's trampolines of
 * the same names are hidden, and zstd_context.c says which one is exported. */
#define ZSTDLIB_VISIBLE
#include <zstd.h>

/* Opens libsquashfuse_ll, libfuse3 and libzstd and finds every function CSquashFuse
 * calls (lazy.c); a missing one ends the starter in one line. */
void husk_sqfuse_load_libraries(void);
#endif
