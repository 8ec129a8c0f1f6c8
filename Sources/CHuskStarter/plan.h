/* The launch plan husk hands the starter on a descriptor; format in plan.c. */
#ifndef HUSK_STARTER_PLAN_H
#define HUSK_STARTER_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* server= is a path prefix; PREFIX.sock must fit in sockaddr_un.sun_path. */
#define SERVER_PATH_MAX 96

/* Flags of a bind= record. */
enum {
    BIND_RO = 1 << 0,   /* read-only */
    BIND_REC = 1 << 1,  /* MS_REC: submounts too (/sys, /dev/pts) */
    BIND_OPT = 1 << 2,  /* skip when the source is missing */
    BIND_DEV = 1 << 3,  /* keep device nodes usable (no MS_NODEV/MS_NOSUID) */
    BIND_USER = 1 << 4, /* asked for by the user: never over /proc, /dev, /sys */
};

enum mount_kind { MOUNT_BIND, MOUNT_TMPFS, MOUNT_PROC };

/* bind=, tmpfs= (and the /proc of pid=1) in plan order. */
struct mount_op {
    enum mount_kind kind;
    char *src;          /* bind: host path */
    char *dst;          /* path inside the container, cleaned */
    unsigned flags;     /* BIND_* */
    int src_fd;         /* bind: O_PATH fd opened before /tmp is shadowed; -1 = skip */
    int src_is_dir;
    unsigned tmpfs_mode; /* tmpfs: mode of its root (default 01777) */
};

struct file_rec {
    char *dst;          /* cleaned */
    mode_t mode;
    const char *content;
    size_t len;
};

/* rlimit=NAME:SOFT:HARD, applied just before exec. */
struct rlimit_rec {
    int resource;       /* RLIMIT_* */
    const char *name;
    unsigned long long soft, hard; /* RLIM_INFINITY for "unlimited" */
};

/* symlink=DST<TAB>TARGET, made after the mounts (e.g. /dev/fd in a fresh /dev). */
struct symlink_rec {
    char *dst;          /* cleaned */
    const char *target; /* as given, not resolved */
};

/* protect=PATH<TAB>WHAT: a directory of Husk's own state on the host
   (image cache, extracted trees, instance state, credentials), hidden
   wherever a bind makes it visible in the container. */
struct protect_rec {
    const char *path;   /* host path, absolute */
    const char *what;   /* for messages: "image cache", "credentials", ... */
    int fd;             /* O_PATH, opened with the bind sources; -1 = missing */
};

/* overlay= and overlay_lower=: host directories, opened with the bind
   sources (before /tmp is shadowed); the overlay uses their descriptors. */
#define MAX_OVERLAY_LOWER 16
struct overlay_dir {
    const char *path;
    int fd;             /* O_PATH, or -1 before open_bind_sources */
};

struct plan {
    const char *name;
    pid_t join;         /* join=PID: enter that instance's namespaces instead of building one */
    const char *image;
    const char *rootfs;
    uint64_t offset;
    uid_t uid, ctr_uid;
    gid_t gid, ctr_gid;
    int fakeroot, writable_tmpfs, pid1;
    int no_init;        /* with pid1: exec the command as PID 1, no init */
    int have_umask;
    mode_t umask;       /* with have_umask: the command's umask */
    const char *overlay_upper, *overlay_work; /* overlay=: NULL without */
    int overlay_upper_fd, overlay_work_fd;    /* O_PATH, opened with the bind sources */
    struct overlay_dir overlay_lower[MAX_OVERLAY_LOWER];
    size_t noverlay_lower;
    /* Seconds the container may outlive the process that started husk (then
       SIGTERM, and SIGKILL after them); 0: it lives on (nohup). Set in Slurm
       jobs, whose process tracking loses a container its job script left. */
    int orphan_grace;
    /* Path prefix of this user's image server for the image (server.c):
       join it, or start it, instead of mounting the image here. */
    const char *server;
    int idle;           /* seconds a server started here outlives its last container */
    int prestart;       /* only start the server, if none runs (server_prestart) */
    int net, ipc, uts;  /* more namespaces: loopback-only network, IPC, host name */
    const char *hostname;
    struct rlimit_rec *rlimits;
    size_t nrlimits;
    unsigned long long caps; /* fakeroot: capabilities kept (bit N = capability N) */
    int have_caps;
    unsigned char *seccomp;  /* classic BPF (seccomp= bytes), or NULL */
    size_t seccomp_len;
    unsigned char *server_seccomp; /* the FUSE server's filter, or NULL */
    size_t server_seccomp_len;
    /* --fakeroot with /etc/subuid ranges: ids 1..count map to start.. */
    const char *newuidmap, *newgidmap;   /* setuid helpers, or NULL */
    unsigned long subuid_start, subuid_count, subgid_start, subgid_count;
    const char *cwd;
    char **dirs;        /* mkdir= records: directories created when missing */
    size_t ndirs;
    struct symlink_rec *symlinks;
    size_t nsymlinks;
    struct file_rec *files;
    size_t nfiles;
    struct mount_op *mounts;
    size_t nmounts;
    char **env;         /* NULL-terminated, in order */
    size_t nenv;
    char **argv;        /* NULL-terminated, in order */
    size_t nargs;
    int *keep_fds;      /* descriptors the caller passed in: kept open for the command */
    size_t nkeep_fds;
    struct protect_rec *protects;
    size_t nprotects;
};

/* Parse the LEN bytes of BUF (changed in place; PLAN points into it, so it
   must outlive PLAN) and validate them.  Returns 0, or -1 with a one-line
   message in ERR.  Never exits: the fuzz target calls it. */
int plan_parse(char *buf, size_t len, struct plan *plan, char *err, size_t errlen);

/* Free what plan_parse allocated (not BUF). */
void plan_free(struct plan *plan);

/* Read FD to EOF, close it, plan_parse; fails with exit 255. */
void plan_read(int fd, struct plan *plan);

/* The value of NAME in the plan's env records, or NULL. */
const char *plan_getenv(const struct plan *plan, const char *name);

#endif
