/* Error reporting and small file-system helpers shared by the starter. */
#ifndef HUSK_STARTER_UTIL_H
#define HUSK_STARTER_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Exit status for any failure of the starter itself before exec. */
#define HUSK_EXIT_FAILURE 255

/* "husk: MESSAGE\n" on stderr in one write(2), then _exit(255). */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "husk: WHAT: strerror(err) (HINT)\n", then _exit(255).  HINT may be NULL. */
_Noreturn void fail_errno(int err, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One-line message on stderr without exiting (used for exec errors). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write all of BUF to FD, retrying on EINTR.  0 or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);

/* Write STR to the existing file PATH (for /proc/self/uid_map etc). */
int write_string_file(const char *path, const char *str);

/* mkdir -p for plain paths (staging only, never inside the image). */
int mkdir_p(const char *path, mode_t mode);

/* openat2(ROOTFD, PATH, O_PATH|O_CLOEXEC|FLAGS, RESOLVE_IN_ROOT): symlinks,
   ".." and absolute paths stay inside ROOTFD.  Returns fd or -1/errno. */
int open_in_root(int rootfd, const char *path, int flags);

/* The absolute path the kernel reports for FD (readlink /proc/self/fd/N).
   Returns 0 or -1/errno. */
int fd_path(int fd, char *buf, size_t size);

/* "/proc/self/fd/N" into BUF (at least 32 bytes). */
const char *fd_proc_path(int fd, char *buf);

/* Lexically clean an absolute path in place: collapse "//", drop "." and
   trailing "/"; ".." is resolved lexically and clamped at "/". */
void clean_path(char *path);

/* True when PATH equals PREFIX or lies under it (both cleaned). */
int path_has_prefix(const char *path, const char *prefix);

/* Adds EXTRA (MS_RDONLY, MS_NOSUID, MS_NODEV) to the mount at PATH, and to
   the mounts under it when RECURSIVE, leaving its other flags alone (in a
   user namespace a host mount's flags are locked). mount_setattr (Linux
   5.12+) asks nothing of the filesystem, where a remount's statfs of the
   image would be a round trip to its FUSE server. 0 or -1/errno. */
int add_mount_flags(const char *path, unsigned long extra, int recursive);

/* Close every descriptor from 3 up but the N in KEEP (sorted in place;
   negative entries ignored). */
void close_fds_except(int *keep, size_t n);

#endif
