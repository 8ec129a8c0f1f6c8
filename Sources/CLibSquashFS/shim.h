#ifndef HUSK_CLIBSQUASHFS_SHIM_H
#define HUSK_CLIBSQUASHFS_SHIM_H
/* libsquashfs (squashfs-tools-ng) plus small inline accessors for what Swift
 * cannot reach directly: function pointers inside objects and the flexible
 * array member at the end of sqfs_inode_generic_t. */
#include <stdlib.h>
#include <string.h>
#include <sqfs/predef.h>
#include <sqfs/error.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <sqfs/compressor.h>
#include <sqfs/block.h>
#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/dir.h>
#include <sqfs/dir_writer.h>
#include <sqfs/dir_reader.h>
#include <sqfs/data_reader.h>
#include <sqfs/meta_writer.h>
#include <sqfs/xattr.h>
#include <sqfs/xattr_writer.h>
#include <sqfs/xattr_reader.h>

static inline void husk_sqfs_destroy(void *obj) { sqfs_destroy(obj); }

static inline sqfs_u64 husk_sqfs_file_size(const sqfs_file_t *file) {
    return file->get_size(file);
}

static inline int husk_sqfs_file_read_at(sqfs_file_t *file, sqfs_u64 offset,
                                         void *buffer, size_t size) {
    return file->read_at(file, offset, buffer, size);
}

static inline int husk_sqfs_file_write_at(sqfs_file_t *file, sqfs_u64 offset,
                                          const void *data, size_t size) {
    return file->write_at(file, offset, data, size);
}

static inline int husk_sqfs_compressor_write_options(sqfs_compressor_t *cmp, sqfs_file_t *file) {
    return cmp->write_options(cmp, file);
}

static inline int husk_sqfs_compressor_read_options(sqfs_compressor_t *cmp, sqfs_file_t *file) {
    return cmp->read_options(cmp, file);
}

static inline void husk_sqfs_compressor_get_config(const sqfs_compressor_t *cmp,
                                                   sqfs_compressor_config_t *cfg) {
    cmp->get_configuration(cmp, cfg);
}

/* A symlink, device, FIFO or socket inode; `target` (symlinks only) is copied
 * into the flexible array. Free with free(). */
static inline sqfs_inode_generic_t *husk_sqfs_inode_alloc(size_t extra) {
    sqfs_inode_generic_t *inode = calloc(1, sizeof(*inode) + extra);
    if (inode) inode->payload_bytes_available = (sqfs_u32)extra;
    return inode;
}

static inline void husk_sqfs_inode_set_symlink_target(sqfs_inode_generic_t *inode,
                                                      const char *target, size_t len) {
    memcpy(inode->extra, target, len);
    inode->data.slink.target_size = (sqfs_u32)len;
    inode->payload_bytes_used = (sqfs_u32)len;
}

static inline const char *husk_sqfs_inode_symlink_target(const sqfs_inode_generic_t *inode) {
    return (const char *)inode->extra;
}

static inline sqfs_u32 husk_sqfs_inode_nlink(const sqfs_inode_generic_t *inode) {
    switch (inode->base.type) {
    case SQFS_INODE_DIR: return inode->data.dir.nlink;
    case SQFS_INODE_EXT_DIR: return inode->data.dir_ext.nlink;
    case SQFS_INODE_EXT_FILE: return inode->data.file_ext.nlink;
    case SQFS_INODE_FILE: return 1;
    case SQFS_INODE_SLINK: case SQFS_INODE_EXT_SLINK: return inode->data.slink.nlink;
    case SQFS_INODE_BDEV: case SQFS_INODE_CDEV: case SQFS_INODE_EXT_BDEV: case SQFS_INODE_EXT_CDEV:
        return inode->data.dev.nlink;
    default: return inode->data.ipc.nlink;
    }
}

/* Set the link count of any inode; regular files become extended inodes when
 * they have more than one name (the basic file inode has no nlink field). */
static inline void husk_sqfs_inode_set_nlink(sqfs_inode_generic_t *inode, sqfs_u32 nlink) {
    switch (inode->base.type) {
    case SQFS_INODE_DIR: inode->data.dir.nlink = nlink; break;
    case SQFS_INODE_EXT_DIR: inode->data.dir_ext.nlink = nlink; break;
    case SQFS_INODE_FILE:
        if (nlink > 1) { sqfs_inode_make_extended(inode); inode->data.file_ext.nlink = nlink; }
        break;
    case SQFS_INODE_EXT_FILE: inode->data.file_ext.nlink = nlink; break;
    case SQFS_INODE_SLINK: case SQFS_INODE_EXT_SLINK: inode->data.slink.nlink = nlink; break;
    case SQFS_INODE_BDEV: case SQFS_INODE_CDEV: case SQFS_INODE_EXT_BDEV: case SQFS_INODE_EXT_CDEV:
        inode->data.dev.nlink = nlink; break;
    default: inode->data.ipc.nlink = nlink; break;
    }
}

static inline const char *husk_sqfs_tree_node_name(const sqfs_tree_node_t *node) {
    return (const char *)node->name;
}

static inline sqfs_u32 husk_sqfs_inode_symlink_size(const sqfs_inode_generic_t *inode) {
    return inode->data.slink.target_size;
}

static inline void husk_sqfs_inode_set_devno(sqfs_inode_generic_t *inode, sqfs_u32 devno) {
    inode->data.dev.devno = devno;
}
/* A read-only view of `size` bytes at `offset` of another libsquashfs file:
 * a squashfs inside a bigger file (the partition of a SIF file). Offsets the
 * readers use are relative to the start of the squashfs, and nothing outside
 * the range can be read, whatever a damaged superblock points to. Takes
 * ownership of `inner`; destroy with sqfs_destroy. */
typedef struct {
    sqfs_file_t base;
    sqfs_file_t *inner;
    sqfs_u64 offset;
    sqfs_u64 size;
} husk_sqfs_range_file_t;

static inline void husk_sqfs_range_destroy(sqfs_object_t *obj) {
    husk_sqfs_range_file_t *range = (husk_sqfs_range_file_t *)obj;
    sqfs_destroy(range->inner);
    free(range);
}

static inline int husk_sqfs_range_read_at(sqfs_file_t *file, sqfs_u64 offset, void *buffer, size_t size) {
    husk_sqfs_range_file_t *range = (husk_sqfs_range_file_t *)file;
    if (offset > range->size || size > range->size - offset)
        return SQFS_ERROR_OUT_OF_BOUNDS;
    return range->inner->read_at(range->inner, range->offset + offset, buffer, size);
}

static inline int husk_sqfs_range_write_at(sqfs_file_t *file, sqfs_u64 offset, const void *data, size_t size) {
    (void)file; (void)offset; (void)data; (void)size;
    return SQFS_ERROR_IO;
}

static inline sqfs_u64 husk_sqfs_range_get_size(const sqfs_file_t *file) {
    return ((const husk_sqfs_range_file_t *)file)->size;
}

static inline int husk_sqfs_range_truncate(sqfs_file_t *file, sqfs_u64 size) {
    (void)file; (void)size;
    return SQFS_ERROR_IO;
}

/* NULL (and `inner` destroyed) when out of memory or the range does not lie
 * within `inner`. */
static inline sqfs_file_t *husk_sqfs_range_file(sqfs_file_t *inner, sqfs_u64 offset, sqfs_u64 size) {
    sqfs_u64 total = inner->get_size(inner);
    husk_sqfs_range_file_t *range = calloc(1, sizeof(*range));
    if (!range || offset > total || size > total - offset) {
        free(range);
        sqfs_destroy(inner);
        return NULL;
    }
    range->base.base.destroy = husk_sqfs_range_destroy;
    range->base.base.copy = NULL;
    range->base.read_at = husk_sqfs_range_read_at;
    range->base.write_at = husk_sqfs_range_write_at;
    range->base.get_size = husk_sqfs_range_get_size;
    range->base.truncate = husk_sqfs_range_truncate;
    range->inner = inner;
    range->offset = offset;
    range->size = size;
    return &range->base;
}

/* The name of a directory entry (dir_reader), `size + 1` bytes, not NUL-terminated. */
static inline const char *husk_sqfs_dir_entry_name(const sqfs_dir_entry_t *entry) {
    return (const char *)entry->name;
}
#endif
