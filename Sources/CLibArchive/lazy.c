/* libarchive, opened when Husk first reads or writes a tar: every libarchive
 * function Husk calls, as a trampoline (husk_lazy_library.h). A function
 * missing here fails the link, so the list cannot fall behind. */
#include "CLibArchive.h"
#include "CHuskShim.h"
#include "husk_lazy_library.h"

/* Missing mid-conversion: the output being written goes first (CHuskShim). */
static struct husk_lazy_library libarchive = {"libarchive.so.13", "libarchive13", 127, husk_cleanup_now, NULL};

HUSK_LAZY(libarchive, struct archive *, archive_read_new, (void), ())
HUSK_LAZY(libarchive, int, archive_read_support_filter_bzip2, (struct archive *a), (a))
HUSK_LAZY(libarchive, int, archive_read_support_filter_gzip, (struct archive *a), (a))
HUSK_LAZY(libarchive, int, archive_read_support_filter_xz, (struct archive *a), (a))
HUSK_LAZY(libarchive, int, archive_read_support_filter_zstd, (struct archive *a), (a))
HUSK_LAZY(libarchive, int, archive_read_support_format_tar, (struct archive *a), (a))
HUSK_LAZY(libarchive, int, archive_read_open,
          (struct archive *a, void *data, archive_open_callback *open, archive_read_callback *read,
           archive_close_callback *close),
          (a, data, open, read, close))
HUSK_LAZY(libarchive, int, archive_read_open_filename, (struct archive *a, const char *name, size_t block),
          (a, name, block))
HUSK_LAZY(libarchive, int, archive_read_next_header, (struct archive *a, struct archive_entry **entry), (a, entry))
HUSK_LAZY(libarchive, la_ssize_t, archive_read_data, (struct archive *a, void *buffer, size_t size), (a, buffer, size))
HUSK_LAZY(libarchive, int, archive_read_data_block,
          (struct archive *a, const void **buffer, size_t *size, la_int64_t *offset), (a, buffer, size, offset))
HUSK_LAZY(libarchive, int, archive_read_free, (struct archive *a), (a))

HUSK_LAZY(libarchive, struct archive *, archive_write_new, (void), ())
HUSK_LAZY(libarchive, int, archive_write_set_bytes_in_last_block, (struct archive *a, int bytes), (a, bytes))
HUSK_LAZY(libarchive, int, archive_write_add_filter_gzip, (struct archive *a), (a))
HUSK_LAZY(libarchive, int, archive_write_set_format_pax_restricted, (struct archive *a), (a))
HUSK_LAZY(libarchive, int, archive_write_open_memory, (struct archive *a, void *buffer, size_t size, size_t *used),
          (a, buffer, size, used))
HUSK_LAZY(libarchive, int, archive_write_header, (struct archive *a, struct archive_entry *entry), (a, entry))
HUSK_LAZY(libarchive, la_ssize_t, archive_write_data, (struct archive *a, const void *buffer, size_t size),
          (a, buffer, size))
HUSK_LAZY(libarchive, int, archive_write_close, (struct archive *a), (a))
HUSK_LAZY(libarchive, int, archive_write_free, (struct archive *a), (a))
HUSK_LAZY(libarchive, const char *, archive_error_string, (struct archive *a), (a))

HUSK_LAZY(libarchive, struct archive_entry *, archive_entry_new, (void), ())
HUSK_LAZY_VOID(libarchive, archive_entry_free, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, __LA_MODE_T, archive_entry_filetype, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, __LA_MODE_T, archive_entry_perm, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, la_int64_t, archive_entry_uid, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, la_int64_t, archive_entry_gid, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, time_t, archive_entry_mtime, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, dev_t, archive_entry_rdevmajor, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, dev_t, archive_entry_rdevminor, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, la_int64_t, archive_entry_size, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, int, archive_entry_size_is_set, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, const char *, archive_entry_pathname, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, const char *, archive_entry_pathname_utf8, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, const char *, archive_entry_hardlink, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, const char *, archive_entry_hardlink_utf8, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, const char *, archive_entry_symlink, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, const char *, archive_entry_symlink_utf8, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, int, archive_entry_xattr_reset, (struct archive_entry *e), (e))
HUSK_LAZY(libarchive, int, archive_entry_xattr_next,
          (struct archive_entry *e, const char **name, const void **value, size_t *size), (e, name, value, size))
HUSK_LAZY_VOID(libarchive, archive_entry_set_filetype, (struct archive_entry *e, unsigned int type), (e, type))
HUSK_LAZY_VOID(libarchive, archive_entry_set_perm, (struct archive_entry *e, __LA_MODE_T perm), (e, perm))
HUSK_LAZY_VOID(libarchive, archive_entry_set_mtime, (struct archive_entry *e, time_t sec, long nsec), (e, sec, nsec))
HUSK_LAZY_VOID(libarchive, archive_entry_set_size, (struct archive_entry *e, la_int64_t size), (e, size))
HUSK_LAZY_VOID(libarchive, archive_entry_set_pathname, (struct archive_entry *e, const char *path), (e, path))
HUSK_LAZY_VOID(libarchive, archive_entry_set_hardlink, (struct archive_entry *e, const char *path), (e, path))
HUSK_LAZY_VOID(libarchive, archive_entry_set_symlink, (struct archive_entry *e, const char *path), (e, path))
