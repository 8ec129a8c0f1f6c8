/* libsquashfuse_ll, libfuse3 and libzstd, opened by a starter that mounts an image (or
 * an image server), never by one that joins a server or runs a directory:
 * every function CSquashFuse calls, as a trampoline (husk_lazy_library.h).
 * All are found at once, before the FUSE server's seccomp filter, so that
 * no dlsym runs in the confined process. A function missing from the lists
 * fails the link. */
#include "squashfuse_headers.h"
#include "husk_lazy_library.h"

/* The starter's status for a failure before the command (util.h). */
static struct husk_lazy_library fuse3 = {"libfuse3.so.3", "libfuse3-3", 255, NULL, NULL};
static struct husk_lazy_library squashfuse = {"libsquashfuse_ll.so.0", "libsquashfuse0", 255, NULL, NULL};
static struct husk_lazy_library zstd = {"libzstd.so.1", "libzstd1", 255, NULL, NULL};

/* F(RET, NAME, PARAMS, ARGS) for a function returning RET, V(NAME, PARAMS, ARGS) for void. */
#define FUSE3_FUNCTIONS(F, V)                                                                          \
    F(int, fuse_reply_err, (fuse_req_t req, int err), (req, err))                                      \
    F(int, fuse_reply_entry, (fuse_req_t req, const struct fuse_entry_param *e), (req, e))             \
    F(int, fuse_reply_buf, (fuse_req_t req, const char *buf, size_t size), (req, buf, size))           \
    F(void *, fuse_req_userdata, (fuse_req_t req), (req))                                              \
    F(int, fuse_session_exited, (struct fuse_session *se), (se))                                       \
    F(int, fuse_session_fd, (struct fuse_session *se), (se))                                           \
    F(int, fuse_session_receive_buf, (struct fuse_session *se, struct fuse_buf *buf), (se, buf))       \
    V(fuse_session_process_buf, (struct fuse_session *se, const struct fuse_buf *buf), (se, buf))      \
    V(fuse_opt_free_args, (struct fuse_args *args), (args))

#define SQUASHFUSE_FUNCTIONS(F, V)                                                                     \
    F(sqfs_ll *, sqfs_ll_open, (const char *path, size_t offset), (path, offset))                      \
    F(sqfs_err, sqfs_ll_mount,                                                                         \
      (sqfs_ll_chan *ch, const char *mountpoint, struct fuse_args *args, struct fuse_lowlevel_ops *ops, \
       size_t ops_size, void *userdata),                                                               \
      (ch, mountpoint, args, ops, ops_size, userdata))                                                 \
    F(sqfs_err, sqfs_ll_inode, (sqfs_ll *ll, sqfs_inode *inode, fuse_ino_t i), (ll, inode, i))         \
    F(sqfs_err, sqfs_ll_iget, (fuse_req_t req, sqfs_ll_i *lli, fuse_ino_t i), (req, lli, i))           \
    F(sqfs_err, sqfs_dir_lookup,                                                                       \
      (sqfs *fs, sqfs_inode *inode, const char *name, size_t namelen, sqfs_dir_entry *entry,           \
       bool *found),                                                                                   \
      (fs, inode, name, namelen, entry, found))                                                        \
    F(sqfs_err, sqfs_read_range, (sqfs *fs, sqfs_inode *inode, sqfs_off_t start, sqfs_off_t *size,     \
                                  void *buf), (fs, inode, start, size, buf))                           \
    V(sqfs_dentry_init, (sqfs_dir_entry *entry, char *namebuf), (entry, namebuf))                      \
    V(sqfs_ll_op_getattr, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi)) \
    V(sqfs_ll_op_opendir, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi)) \
    V(sqfs_ll_op_releasedir, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi),              \
      (req, ino, fi))                                                                                  \
    V(sqfs_ll_op_open, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))    \
    V(sqfs_ll_op_release, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi)) \
    V(sqfs_ll_op_create,                                                                               \
      (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi),   \
      (req, parent, name, mode, fi))                                                                   \
    V(sqfs_ll_op_readdir,                                                                              \
      (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi),             \
      (req, ino, size, off, fi))                                                                       \
    V(sqfs_ll_op_read, (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi), \
      (req, ino, size, off, fi))                                                                       \
    V(sqfs_ll_op_lookup, (fuse_req_t req, fuse_ino_t parent, const char *name), (req, parent, name))   \
    V(sqfs_ll_op_readlink, (fuse_req_t req, fuse_ino_t ino), (req, ino))                               \
    V(sqfs_ll_op_listxattr, (fuse_req_t req, fuse_ino_t ino, size_t size), (req, ino, size))           \
    V(sqfs_ll_op_getxattr, (fuse_req_t req, fuse_ino_t ino, const char *name, size_t size),            \
      (req, ino, name, size))                                                                          \
    V(sqfs_ll_op_forget, (fuse_req_t req, fuse_ino_t ino, unsigned long nlookup), (req, ino, nlookup)) \
    V(stfs_ll_op_statfs, (fuse_req_t req, fuse_ino_t ino), (req, ino))

/* What zstd_context.c calls. */
#define ZSTD_FUNCTIONS(F)                                                                              \
    F(ZSTD_DCtx *, ZSTD_createDCtx, (void), ())                                                        \
    F(size_t, ZSTD_decompressDCtx,                                                                     \
      (ZSTD_DCtx *dctx, void *dst, size_t dstCapacity, const void *src, size_t srcSize),               \
      (dctx, dst, dstCapacity, src, srcSize))

#define FUSE3_TRAMPOLINE(ret, name, params, args) HUSK_LAZY(fuse3, ret, name, params, args)
#define FUSE3_TRAMPOLINE_VOID(name, params, args) HUSK_LAZY_VOID(fuse3, name, params, args)
#define SQUASHFUSE_TRAMPOLINE(ret, name, params, args) HUSK_LAZY(squashfuse, ret, name, params, args)
#define SQUASHFUSE_TRAMPOLINE_VOID(name, params, args) HUSK_LAZY_VOID(squashfuse, name, params, args)
FUSE3_FUNCTIONS(FUSE3_TRAMPOLINE, FUSE3_TRAMPOLINE_VOID)
SQUASHFUSE_FUNCTIONS(SQUASHFUSE_TRAMPOLINE, SQUASHFUSE_TRAMPOLINE_VOID)
#define ZSTD_TRAMPOLINE(ret, name, params, args) HUSK_LAZY(zstd, ret, name, params, args)
ZSTD_FUNCTIONS(ZSTD_TRAMPOLINE)

#define FUSE3_NOW(ret, name, params, args) HUSK_LAZY_NOW(fuse3, ret, name, params);
#define FUSE3_NOW_VOID(name, params, args) HUSK_LAZY_NOW(fuse3, void, name, params);
#define SQUASHFUSE_NOW(ret, name, params, args) HUSK_LAZY_NOW(squashfuse, ret, name, params);
#define SQUASHFUSE_NOW_VOID(name, params, args) HUSK_LAZY_NOW(squashfuse, void, name, params);
#define ZSTD_NOW(ret, name, params, args) HUSK_LAZY_NOW(zstd, ret, name, params);

void husk_sqfuse_load_libraries(void) {
    /* squashfuse first: it brings libfuse3 and libzstd (its dependencies) with it. */
    SQUASHFUSE_FUNCTIONS(SQUASHFUSE_NOW, SQUASHFUSE_NOW_VOID)
    FUSE3_FUNCTIONS(FUSE3_NOW, FUSE3_NOW_VOID)
    ZSTD_FUNCTIONS(ZSTD_NOW)
}
