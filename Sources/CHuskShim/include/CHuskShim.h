#ifndef HUSK_CHUSKSHIM_H
#define HUSK_CHUSKSHIM_H
/* Async-signal-safe removal of half-written outputs: the path is copied into a
 * static buffer so the SIGINT/SIGTERM/SIGHUP handler only calls unlink(2) and
 * _exit(2). One path at a time: a convert writes one temp file. */
int husk_cleanup_register(const char *path);
void husk_cleanup_clear(void);
void husk_cleanup_install_signal_handlers(void);

/* Makes a libsquashfs compressor store blocks raw when compression does not
 * shrink them (works around libsquashfs 1.2's lz4; see sqfs_compressor_fix.c). */
void husk_sqfs_store_incompressible_blocks_raw(void *compressor);
/* The launch plan travels to husk-starter in a memfd that becomes fd 3. */
int husk_memfd(const char *name);
int husk_pass_as_fd3(int fd);
/* Starts PATH detached (new session) with PLANFD as fd 3; returns its pid or -1. */
int husk_spawn_detached(const char *path, int planfd, int outfd, int errfd);
#endif
