#ifndef HUSK_CHUSKSHIM_H
#define HUSK_CHUSKSHIM_H
/* Async-signal-safe removal of half-written outputs: the path is copied into a
 * static buffer so the SIGINT/SIGTERM/SIGHUP handler only calls unlink(2) and
 * _exit(2). One path at a time: a convert writes one temp file. */
int husk_cleanup_register(const char *path);
void husk_cleanup_clear(void);
/* Removes the registered path now: for an exit that Swift's cleanup never sees. */
void husk_cleanup_now(void);
void husk_cleanup_install_signal_handlers(void);

/* Makes a libsquashfs compressor store blocks raw when compression does not
 * shrink them (works around libsquashfs 1.2's lz4; see sqfs_compressor_fix.c). */
void husk_sqfs_store_incompressible_blocks_raw(void *compressor);
/* The launch plan travels to husk-starter in a memfd (close-on-exec,
 * numbered 3 or more); husk_keep_across_exec clears close-on-exec on it and
 * the starter is told its number (--plan-fd=N). */
int husk_memfd(const char *name);
int husk_keep_across_exec(int fd);
/* Marks every descriptor from 3 up close-on-exec except the COUNT in KEEP
 * (at most 1024). Async-signal-safe. 0, or -1 with errno. */
int husk_cloexec_except(const int *keep, int count);
/* Starts PATH detached (new session: stdin /dev/null, stdout OUTFD, stderr
 * ERRFD) with "--plan-fd=N" for PLANFD; no other descriptor of husk
 * reaches it. Returns its pid or -1. */
int husk_spawn_detached(const char *path, int planfd, int outfd, int errfd);
/* The same with 0-2 on /dev/null and the plan as descriptor 3, without
 * copying this process (posix_spawn: a first run's image server is started
 * on the way, and husk is large). Returns its pid or -1. */
int husk_spawn_quiet(const char *path, int planfd);

/* Starts the warm planner: PROGRAM --serve-plans SOCKET IDLE IMAGE (the
 * image it warms up with) in a session of its own, in /, with 0-2 on
 * /dev/null and LOCK (SOCKET's, taken: husk_planner_lock) as descriptor 3,
 * as no child of this process. 0, or -1. */
int husk_spawn_planner(const char *program, const char *socket, int idle, const char *image, int lock);

/* Fork and exec the starter at PATH with "--plan-fd=PLANFD": only 0-2,
   PLANFD and the NKEEP descriptors in KEEP reach it. Returns the child's
   pid, or -1 (errno). */
int husk_spawn_child(const char *path, int planfd, const int *keep, int nkeep);
/* The descriptors (3 and up) that were open without close-on-exec when
 * husk started: the ones its caller passed on. */
int husk_inherited_fd_count(void);
int husk_inherited_fd(int index);
/* Marks close-on-exec every descriptor (3 and up) husk did not inherit, so
   that a program husk execs receives the caller's descriptors and no other
   (husk handing a command to husk-full). 0, or -1 without /proc. */
int husk_cloexec_all_but_inherited(void);
/* husk check: what husk-starter needs, tried in a forked child (see
 * probe.c). Each field is 0 when the step worked, its errno when it failed,
 * -1 when it was not tried (an earlier step failed, or the child died:
 * finished is then 0). TRY_FUSE: mount FUSE too (/dev/fuse opened inside). */
struct husk_node_probe {
    int userns;       /* unshare(CLONE_NEWUSER | CLONE_NEWNS) */
    int idmap;        /* setgroups, uid_map and gid_map with the user's own ids */
    int tmpfs;        /* private mounts and a tmpfs on /tmp */
    int overlay;      /* overlayfs (userxattr) on the tmpfs */
    int fuse_mount;   /* opening /dev/fuse there and a FUSE mount with it */
    int no_new_privs; /* prctl(PR_SET_NO_NEW_PRIVS) */
    int seccomp;      /* an allow-everything seccomp filter */
    int finished;
};
int husk_probe_node(int try_fuse, struct husk_node_probe *result);

/* pipe2(O_CLOEXEC), naming the calling thread, and closing every descriptor
 * from FD up in a posix_spawn'd program (ACTIONS: its
 * posix_spawn_file_actions_t) (gnu.c). */
int husk_pipe_cloexec(int fds[2]);
int husk_name_thread(const char *name);
int husk_spawn_close_from(void *actions, int fd);
#endif
