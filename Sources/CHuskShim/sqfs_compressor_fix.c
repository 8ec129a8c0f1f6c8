#include "CHuskShim.h"
#include <sqfs/compressor.h>

/* libsquashfs 1.2's lz4 compressor returns the compressed size even when it
 * exceeds the input, where the documented contract (kept by its gzip, xz and
 * zstd compressors) is to return 0 so the block is stored raw. A 12-byte id
 * table then becomes a 13-byte "compressed" block that unsquashfs rejects.
 * All lz4 compressor instances share one do_block function, so one saved
 * pointer serves every copy the block processor makes. */
static sqfs_s32 (*original_do_block)(sqfs_compressor_t *, const sqfs_u8 *, sqfs_u32, sqfs_u8 *, sqfs_u32);

static sqfs_s32 store_incompressible_raw(sqfs_compressor_t *cmp, const sqfs_u8 *in, sqfs_u32 size,
                                         sqfs_u8 *out, sqfs_u32 outsize) {
    sqfs_s32 ret = original_do_block(cmp, in, size, out, outsize);
    return (ret > 0 && (sqfs_u32)ret >= size) ? 0 : ret;
}

void husk_sqfs_store_incompressible_blocks_raw(void *compressor) {
    sqfs_compressor_t *cmp = compressor;
    if (cmp->do_block == store_incompressible_raw) return;
    original_do_block = cmp->do_block;
    cmp->do_block = store_incompressible_raw;
}
