/* A zstd decompressor for libsquashfs readers that keeps its context.
 *
 * libsquashfs 1.2 decompresses a zstd block with ZSTD_decompress, which
 * builds a whole decompression context for every call: a 95 KB allocation
 * and three CPUID instructions. On a virtual machine each CPUID traps to the
 * hypervisor (5 us on the bench machine), and a container's start reads
 * about 70 metadata blocks, an extraction thousands of data blocks. This
 * object wraps the one libsquashfs created, forwards everything else to it,
 * and decompresses with one ZSTD_DCtx. Results and errors are libsquashfs's
 * own: the size written, SQFS_ERROR_ARG_INVALID for an output buffer of 2 GiB or more, and
 * SQFS_ERROR_COMPRESSOR for a damaged block. */
#include "husk_sqfs_decompressor.h"

#include <stdlib.h>
#include <zstd.h>
#include <sqfs/error.h>

typedef struct {
    sqfs_compressor_t base;  /* first: libsquashfs calls through it */
    sqfs_compressor_t *created;
    ZSTD_DCtx *context;
} kept_context;

static void kept_context_destroy(sqfs_object_t *object) {
    kept_context *self = (kept_context *)object;
    ZSTD_freeDCtx(self->context);
    sqfs_destroy(self->created);
    free(self);
}

static void kept_context_configuration(const sqfs_compressor_t *base, sqfs_compressor_config_t *config) {
    const kept_context *self = (const kept_context *)base;
    self->created->get_configuration(self->created, config);
}

static int kept_context_write_options(sqfs_compressor_t *base, sqfs_file_t *file) {
    kept_context *self = (kept_context *)base;
    return self->created->write_options(self->created, file);
}

static int kept_context_read_options(sqfs_compressor_t *base, sqfs_file_t *file) {
    kept_context *self = (kept_context *)base;
    return self->created->read_options(self->created, file);
}

static sqfs_s32 kept_context_decompress(sqfs_compressor_t *base, const sqfs_u8 *in, sqfs_u32 size,
                                        sqfs_u8 *out, sqfs_u32 outsize) {
    kept_context *self = (kept_context *)base;
    if (outsize >= 0x7FFFFFFF) return SQFS_ERROR_ARG_INVALID;
    size_t written = ZSTD_decompressDCtx(self->context, out, outsize, in, size);
    return ZSTD_isError(written) ? SQFS_ERROR_COMPRESSOR : (sqfs_s32)written;
}

sqfs_compressor_t *husk_sqfs_keep_decompression_context(sqfs_compressor_t *created,
                                                        const sqfs_compressor_config_t *config) {
    if (config->id != SQFS_COMP_ZSTD || !(config->flags & SQFS_COMP_FLAG_UNCOMPRESS)) return created;
    kept_context *self = calloc(1, sizeof(*self));
    ZSTD_DCtx *context = ZSTD_createDCtx();
    if (!self || !context) {
        free(self);
        ZSTD_freeDCtx(context);
        sqfs_destroy(created);
        return NULL;
    }
    self->base.base.destroy = kept_context_destroy;
    self->base.base.copy = NULL;  /* sqfs_copy then fails; readers never copy */
    self->base.get_configuration = kept_context_configuration;
    self->base.write_options = kept_context_write_options;
    self->base.read_options = kept_context_read_options;
    self->base.do_block = kept_context_decompress;
    self->created = created;
    self->context = context;
    return &self->base;
}
