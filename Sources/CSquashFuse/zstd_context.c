/* squashfuse's zstd blocks decompressed with one kept context.
 *
 * squashfuse decompresses every zstd block with ZSTD_decompress, which
 * builds a whole decompression context each time: a 95 KB allocation and
 * three CPUID instructions. On a virtual machine each CPUID traps to the
 * hypervisor (5 us on the bench machine); a container's first start reads
 * about 45 blocks, reading /usr of the Debian image 1,450. squashfuse has no
 * hook for its decompressor, so the starter defines ZSTD_decompress itself,
 * exported on purpose: libsquashfuse_ll, opened later with dlopen, binds its
 * call to the program's definition before libzstd's (the executable comes
 * first in every lookup). This is zstd's own contract, "decompress one frame
 * into dst", with the context kept across calls as zstd.h recommends.
 * husk's own reads (SquashReader) keep theirs through libsquashfs's
 * interface instead (CSquashDecompressor). */
#include "squashfuse_headers.h"
#include <zstd_errors.h>

__attribute__((visibility("default")))
size_t ZSTD_decompress(void *dst, size_t dstCapacity, const void *src, size_t compressedSize) {
    /* Per thread, as a context serves one call at a time (the server has one
     * thread); initial-exec, the model for a program's own variables. */
    static __thread __attribute__((tls_model("initial-exec"))) ZSTD_DCtx *context;
    if (context == NULL && (context = ZSTD_createDCtx()) == NULL)
        return (size_t)-ZSTD_error_memory_allocation;
    return ZSTD_decompressDCtx(context, dst, dstCapacity, src, compressedSize);
}
