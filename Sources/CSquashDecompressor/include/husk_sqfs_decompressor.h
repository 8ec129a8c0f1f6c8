#ifndef HUSK_SQFS_DECOMPRESSOR_H
#define HUSK_SQFS_DECOMPRESSOR_H
#include <sqfs/compressor.h>

/* Gives a libsquashfs decompressor for zstd images one decompression
 * context for its whole life, in place of the fresh one libsquashfs 1.2
 * sets up for every block (decompressor.c says why). Takes ownership of
 * `created`: returns the object to use in its place, or `created` itself
 * for other compressors, or NULL when out of memory (`created` is then
 * destroyed). Like libsquashfs's readers, the result is for one thread at
 * a time. */
sqfs_compressor_t *husk_sqfs_keep_decompression_context(sqfs_compressor_t *created,
                                                        const sqfs_compressor_config_t *config);

#endif
