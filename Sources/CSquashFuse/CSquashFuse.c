/*
 * CSquashFuse: see include/CSquashFuse.h.  With lazy.c, the only files that
 * include the squashfuse headers (squashfuse_headers.h).
 */
#include "squashfuse_headers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "CSquashFuse.h"

struct husk_sqfuse {
    sqfs_ll *ll;
    sqfs_ll_chan chan;
    struct fuse_buf buf;
    int fd;
};

/* How long the kernel may remember that a name is not in the image. The
   image never changes, so as long as it likes: a program's searches
   (Python's sys.path, the dynamic loader's library paths) then cost one
   request per name for the life of the mount, which an image server keeps
   for every container of the image. */
#define NEGATIVE_ENTRY_SECONDS 1e9

/* squashfuse answers a missing name with ENOENT, which the kernel does not
   remember; a negative entry (inode 0) it does. Names that exist are
   answered by squashfuse's own lookup. */
static void husk_sqfuse_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    sqfs_ll_i lli;
    if (sqfs_ll_iget(req, &lli, parent) != SQFS_OK)
        return; /* answered already */
    sqfs_name buf;
    sqfs_dir_entry entry;
    bool found = true;
    sqfs_dentry_init(&entry, buf);
    if (sqfs_dir_lookup(&lli.ll->fs, &lli.inode, name, strlen(name), &entry, &found) == SQFS_OK && !found) {
        struct fuse_entry_param none;
        memset(&none, 0, sizeof none);
        none.entry_timeout = NEGATIVE_ENTRY_SECONDS;
        fuse_reply_entry(req, &none);
        return;
    }
    sqfs_ll_op_lookup(req, parent, name);
}

/* Whether the kernel takes "no open" (Linux 3.16+): then a file's open and
   release are not requests at all, and its page cache is kept across opens
   (the image never changes); "no opendir" (5.1+) the same for directories.
   Set once, at FUSE_INIT. */
static int no_open;
static int no_opendir;

static void husk_sqfuse_init(void *userdata, struct fuse_conn_info *conn) {
    (void)userdata;
    if (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) {
        conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
        no_open = 1;
    }
    if (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) {
        conn->want |= FUSE_CAP_NO_OPENDIR_SUPPORT;
        no_opendir = 1;
    }
    /* Symlinks' targets kept in the page cache (Linux 4.20+): otherwise
       every path through one (/bin, /lib, /lib64 -> usr/...: every exec and
       every library the loader opens) is a readlink request. */
    if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
        conn->want |= FUSE_CAP_CACHE_SYMLINKS;
}

static void husk_sqfuse_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    if (no_open && !(fi->flags & (O_WRONLY | O_RDWR)))
        fuse_reply_err(req, ENOSYS); /* the kernel stops asking */
    else
        sqfs_ll_op_open(req, ino, fi);
}

/* Without an open there is no inode in fi->fh: look it up per read (the
   metadata is in squashfuse's cache). */
static void husk_sqfuse_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    if (fi->fh) {
        sqfs_ll_op_read(req, ino, size, off, fi);
        return;
    }
    sqfs_ll *ll = fuse_req_userdata(req);
    sqfs_inode inode;
    if (sqfs_ll_inode(ll, &inode, ino) != SQFS_OK) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    char *buf = malloc(size ? size : 1);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    sqfs_off_t got = (sqfs_off_t)size;
    if (sqfs_read_range(&ll->fs, &inode, (sqfs_off_t)off, &got, buf) != SQFS_OK)
        fuse_reply_err(req, EIO);
    else
        fuse_reply_buf(req, buf, (size_t)got);
    free(buf);
}

/* Directories too: with "no opendir" (Linux 5.1+) opendir and releasedir
   are not requests either, and the kernel keeps every directory's entries
   (KEEP_CACHE | CACHE_DIR), so a repeat walk of a tree (find, tar, Python's
   and the loader's listings) costs no request at all. Before 5.1, opendir
   asks for the same caching (Linux 4.20+). squashfuse's readdir reads its
   directory from fi->fh, which its opendir sets; without an opendir it is
   made for the one request. */
static void husk_sqfuse_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    if (no_opendir) {
        fuse_reply_err(req, ENOSYS); /* the kernel stops asking */
        return;
    }
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
    sqfs_ll_op_opendir(req, ino, fi); /* replies with fi, leaving these bits alone */
}

static void husk_sqfuse_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    if (fi->fh) {
        sqfs_ll_op_readdir(req, ino, size, off, fi);
        return;
    }
    sqfs_ll_i lli;
    if (sqfs_ll_iget(req, &lli, ino) != SQFS_OK)
        return; /* answered already */
    if (!S_ISDIR(lli.inode.base.mode)) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    fi->fh = (uint64_t)(intptr_t)&lli;
    sqfs_ll_op_readdir(req, ino, size, off, fi);
    fi->fh = 0;
}

/* An image without extended attributes (Husk's converter writes an xattr
   table only when a layer has some) answers getxattr and listxattr with
   ENOSYS, and the kernel stops asking for the connection's life. Otherwise
   every exec asks for the file's security.capability, and every lookup
   through the read-only overlays the starter puts on image directories that
   lack a bind destination (/home, /etc...) asks for the overlay's
   metacopy attribute: a round trip each, answered "no such attribute".
   Callers then see EOPNOTSUPP instead of ENODATA. */
static int image_has_xattrs(fuse_req_t req) {
    const sqfs_ll *ll = fuse_req_userdata(req);
    return ll->fs.xattr_info.xattr_ids != 0;
}

static void husk_sqfuse_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
    if (!image_has_xattrs(req)) {
        fuse_reply_err(req, ENOSYS);
        return;
    }
    sqfs_ll_op_getxattr(req, ino, name, size);
}

static void husk_sqfuse_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
    if (!image_has_xattrs(req)) {
        fuse_reply_err(req, ENOSYS);
        return;
    }
    sqfs_ll_op_listxattr(req, ino, size);
}

static const struct fuse_lowlevel_ops husk_sqfuse_ops = {
    .init = husk_sqfuse_init,
    .getattr = sqfs_ll_op_getattr,
    .opendir = husk_sqfuse_opendir,
    .releasedir = sqfs_ll_op_releasedir,
    .readdir = husk_sqfuse_readdir,
    .lookup = husk_sqfuse_lookup,
    .open = husk_sqfuse_op_open,
    .create = sqfs_ll_op_create,
    .release = sqfs_ll_op_release,
    .read = husk_sqfuse_read,
    .readlink = sqfs_ll_op_readlink,
    .listxattr = husk_sqfuse_listxattr,
    .getxattr = husk_sqfuse_getxattr,
    .forget = sqfs_ll_op_forget,
    .statfs = stfs_ll_op_statfs,
};

/* Run F with stderr pointed at /dev/null: squashfuse and libfuse print
   their own multi-line diagnostics; the caller reports one line. */
static int quiet_stderr_begin(void) {
    int saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 2);
        close(null);
    }
    return saved;
}

static void quiet_stderr_end(int saved) {
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
}

husk_sqfuse *husk_sqfuse_open(const char *path, uint64_t offset) {
    /* Every libfuse and squashfuse function, found before the FUSE server
       confines itself (lazy.c). */
    husk_sqfuse_load_libraries();
    /* Check readability first so the caller gets a real errno. */
    int probe = open(path, O_RDONLY | O_CLOEXEC);
    if (probe < 0)
        return NULL;
    close(probe);

    husk_sqfuse *fs = calloc(1, sizeof *fs);
    if (!fs) {
        errno = ENOMEM;
        return NULL;
    }
    fs->fd = -1;
    int saved = quiet_stderr_begin();
    fs->ll = sqfs_ll_open(path, (size_t)offset);
    quiet_stderr_end(saved);
    if (!fs->ll) {
        free(fs);
        errno = EINVAL;
        return NULL;
    }
    return fs;
}

int husk_sqfuse_mount(husk_sqfuse *fs, const char *mountpoint, const char *fsname) {
    char fsopt[256];
    char *argv[] = {"husk-starter", "-o", NULL, "-o", "ro,default_permissions", NULL};
    snprintf(fsopt, sizeof fsopt, "fsname=%s,subtype=squashfuse", fsname ? fsname : "husk");
    argv[2] = fsopt;
    struct fuse_args args = FUSE_ARGS_INIT(5, argv);

    int saved = quiet_stderr_begin();
    errno = 0;
    sqfs_err err = sqfs_ll_mount(&fs->chan, mountpoint, &args,
                                 (struct fuse_lowlevel_ops *)&husk_sqfuse_ops,
                                 sizeof husk_sqfuse_ops, fs->ll);
    int saved_errno = errno;
    quiet_stderr_end(saved);
    /* fuse_opt may have allocated a copy of argv. */
    fuse_opt_free_args(&args);
    if (err != SQFS_OK || !fs->chan.session) {
        errno = saved_errno ? saved_errno : EIO;
        return -1;
    }
    fs->fd = fuse_session_fd(fs->chan.session);
    return 0;
}

int husk_sqfuse_fd(const husk_sqfuse *fs) {
    return fs ? fs->fd : -1;
}

int husk_sqfuse_serve_one(husk_sqfuse *fs) {
    struct fuse_session *se = fs->chan.session;
    if (!se || fuse_session_exited(se))
        return 0;
    int res = fuse_session_receive_buf(se, &fs->buf);
    if (res == -EINTR || res == -EAGAIN)
        return 1;
    if (res == 0 || res == -ENODEV || fuse_session_exited(se))
        return 0;
    if (res < 0)
        return res;
    fuse_session_process_buf(se, &fs->buf);
    return 1;
}

void husk_sqfuse_close_fd_in_child(husk_sqfuse *fs) {
    if (fs && fs->fd >= 0) {
        close(fs->fd);
        fs->fd = -1;
    }
}

int husk_sqfuse_image_fd(const husk_sqfuse *fs) {
    return fs && fs->ll ? fs->ll->fs.fd : -1;
}

void husk_sqfuse_close_image(husk_sqfuse *fs) {
    if (fs && fs->ll && fs->ll->fs.fd >= 0) {
        close(fs->ll->fs.fd);
        fs->ll->fs.fd = -1;
    }
}
