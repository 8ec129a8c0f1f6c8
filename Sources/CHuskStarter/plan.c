/*
 * Launch plan parser.
 *
 * husk (Swift) computes everything and execs husk-starter with the plan
 * readable on a descriptor (argv[1] "--plan-fd=N"; fd 3 without it).  The
 * starter reads it to EOF and closes it.
 *
 * Format, version 1: a sequence of records
 *
 *     KEY (":" LENGTH ":" BYTES)* "\n"
 *
 * KEY is [a-z_]+, LENGTH the decimal number of BYTES that follow.  A field
 * ends where its length says, so no value (an image's Env entry, a line of
 * its /etc/passwd, a file name) can end its field or record or start
 * another: values may hold ':', '\n', '\t' and '='.  Fields the starter
 * uses as C strings must not hold NUL; only file content and the seccomp
 * program are binary.  Each key takes a fixed number of fields; a key
 * without "*" may appear once.  The first record is "version:1:1".
 *
 *   version  1                         the format version
 *   name     IMAGE-DISPLAY-NAME        for messages ("CMD: not found in NAME")
 *   join     PID                       instead of image/rootfs and mounts:
 *                                      enter the namespaces of instance
 *                                      starter PID (husk exec instance://)
 *   image    /abs/path.sqsh            squashfs image, served over FUSE
 *   rootfs   /abs/dir                  or: a plain directory (extracted image)
 *   offset   N                         bytes into image where squashfs starts
 *   uid      OUTSIDE   gid  OUTSIDE    the invoking user (host ids)
 *   ctr_uid  INSIDE    ctr_gid INSIDE  what they map to inside (0 = fakeroot)
 *   fakeroot 0|1                       keep capabilities in the namespace
 *   writable_tmpfs 0|1                 root stays writable (tmpfs upper)
 *   overlay  UPPER WORK                --overlay DIR: the root is an overlay
 *                                      whose changes go to UPPER (a host
 *                                      directory; WORK is overlayfs's)
 *   overlay_lower DIR                * read-only host directories layered over
 *                                      the image, topmost first (at most 16)
 *   pid      0|1                       new PID namespace, tiny init, fresh /proc
 *   no_init  0|1                       with pid: no init, the command is PID 1
 *   umask    OCTAL                     the command's umask (default: the caller's)
 *   net|ipc|uts 0|1                    new network (loopback only, up), IPC
 *                                      and UTS namespaces
 *   hostname NAME                      with uts: the container's host name
 *   rlimit   NAME SOFT HARD          * NAME nofile|nproc|memlock|stack|core;
 *                                      numbers or "unlimited"; before exec
 *   caps     HEX                       with fakeroot: the capabilities kept
 *                                      (bit N = capability N); default all
 *   seccomp  BPF                       a compiled seccomp filter (classic BPF,
 *                                      8-byte instructions), installed last
 *   server_seccomp BPF                 the FUSE server's filter (an allow-list)
 *   newuidmap PATH  newgidmap PATH     setuid helpers for subordinate ids
 *   subuid   START COUNT               with fakeroot: ids 1..COUNT inside map
 *   subgid   START COUNT               to START.. outside (else a one-id map)
 *   file     DST MODE CONTENT        * write CONTENT to DST (MODE octal)
 *   bind     SRC DST FLAGS           * FLAGS: comma list of ro, rw, rec, opt,
 *                                      dev, user (see BIND_* in plan.h)
 *   tmpfs    DST MODE                * fresh tmpfs (nosuid,nodev; mode octal)
 *   symlink  DST TARGET              * made after all mounts (kept if DST exists)
 *   cwd      /dir/inside               working directory (falls back to /)
 *   mkdir    /dir/inside             * created when the image lacks it (the
 *                                      image's WorkingDir, as OCI runtimes do)
 *   env      NAME=VALUE              * the command's entire environment
 *   arg      ARG                     * argv; the first is the command (required)
 *   keep_fd  N                       * a descriptor (3 or more) the caller
 *                                      passed in; all others are closed before
 *                                      exec
 *   protect  /host/dir WHAT          * Husk's own state (WHAT names it for
 *                                      messages): hidden where a bind shows it
 *   orphan_grace SECONDS               when the process that started husk dies
 *                                      (a Slurm job script killed by scancel):
 *                                      SIGTERM, then SIGKILL after SECONDS
 *   server   /runtime/servers/KEY      with image: join (or start) this user's
 *                                      image server for the image (server.c);
 *                                      KEY.sock and KEY.lock are its files
 *   idle     SECONDS                   with server: a server this run starts
 *                                      ends SECONDS after its last container
 *   prestart 1                         with server: start the server if none
 *                                      runs, and nothing else (husk asks while
 *                                      it is still planning a first run)
 *
 * bind and tmpfs records are performed in the order they appear.
 * Unknown keys are an error (husk and husk-starter from different builds).
 */
#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util.h"

#define MISMATCH_HINT "husk and husk-starter come from different builds?"
#define PLAN_VERSION "1"
#define MAX_FIELDS 3
/* A plan holds the environment and two small files; anything near this is
   not one husk wrote. */
#define MAX_PLAN_BYTES (64u << 20)

struct parser {
    char *err;
    size_t errlen;
};

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parser *ps, const char *fmt, ...) {
    int n = snprintf(ps->err, ps->errlen, "launch plan: ");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->errlen)
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    /* Values quoted in the message may hold anything: keep it one line. */
    for (char *c = ps->err; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return -1;
}

/* ---- keys ---------------------------------------------------------------- */

enum key {
    K_VERSION, K_NAME, K_JOIN, K_IMAGE, K_ROOTFS, K_OFFSET, K_UID, K_GID, K_CTR_UID, K_CTR_GID,
    K_FAKEROOT, K_WRITABLE_TMPFS, K_PID, K_NET, K_IPC, K_UTS, K_HOSTNAME, K_RLIMIT, K_CAPS,
    K_SECCOMP, K_SERVER_SECCOMP, K_NEWUIDMAP, K_NEWGIDMAP, K_SUBUID, K_SUBGID, K_FILE, K_BIND, K_TMPFS, K_SYMLINK,
    K_CWD, K_MKDIR, K_ENV, K_ARG, K_KEEP_FD, K_PROTECT, K_ORPHAN_GRACE, K_SERVER, K_IDLE, K_PRESTART, K_OVERLAY,
    K_OVERLAY_LOWER, K_NO_INIT, K_UMASK, K_COUNT
};

static const struct key_spec {
    const char *name;
    unsigned char fields;
    unsigned char repeatable;
    unsigned char binary; /* bit I: field I may hold NUL */
} keys[K_COUNT] = {
    [K_VERSION] = {"version", 1, 0, 0},   [K_NAME] = {"name", 1, 0, 0},
    [K_JOIN] = {"join", 1, 0, 0},         [K_IMAGE] = {"image", 1, 0, 0},
    [K_ROOTFS] = {"rootfs", 1, 0, 0},     [K_OFFSET] = {"offset", 1, 0, 0},
    [K_UID] = {"uid", 1, 0, 0},           [K_GID] = {"gid", 1, 0, 0},
    [K_CTR_UID] = {"ctr_uid", 1, 0, 0},   [K_CTR_GID] = {"ctr_gid", 1, 0, 0},
    [K_FAKEROOT] = {"fakeroot", 1, 0, 0}, [K_WRITABLE_TMPFS] = {"writable_tmpfs", 1, 0, 0},
    [K_PID] = {"pid", 1, 0, 0},           [K_NET] = {"net", 1, 0, 0},
    [K_IPC] = {"ipc", 1, 0, 0},           [K_UTS] = {"uts", 1, 0, 0},
    [K_HOSTNAME] = {"hostname", 1, 0, 0}, [K_RLIMIT] = {"rlimit", 3, 1, 0},
    [K_CAPS] = {"caps", 1, 0, 0},         [K_SECCOMP] = {"seccomp", 1, 0, 1},
    [K_SERVER_SECCOMP] = {"server_seccomp", 1, 0, 1},
    [K_NEWUIDMAP] = {"newuidmap", 1, 0, 0}, [K_NEWGIDMAP] = {"newgidmap", 1, 0, 0},
    [K_SUBUID] = {"subuid", 2, 0, 0},     [K_SUBGID] = {"subgid", 2, 0, 0},
    [K_FILE] = {"file", 3, 1, 4},         [K_BIND] = {"bind", 3, 1, 0},
    [K_TMPFS] = {"tmpfs", 2, 1, 0},       [K_SYMLINK] = {"symlink", 2, 1, 0},
    [K_CWD] = {"cwd", 1, 0, 0},           [K_MKDIR] = {"mkdir", 1, 1, 0},
    [K_ENV] = {"env", 1, 1, 0},           [K_ARG] = {"arg", 1, 1, 0},
    [K_KEEP_FD] = {"keep_fd", 1, 1, 0},   [K_PROTECT] = {"protect", 2, 1, 0},
    [K_ORPHAN_GRACE] = {"orphan_grace", 1, 0, 0},
    [K_SERVER] = {"server", 1, 0, 0},     [K_IDLE] = {"idle", 1, 0, 0},
    [K_PRESTART] = {"prestart", 1, 0, 0},
    [K_OVERLAY] = {"overlay", 2, 0, 0},   [K_OVERLAY_LOWER] = {"overlay_lower", 1, 1, 0},
    [K_NO_INIT] = {"no_init", 1, 0, 0},   [K_UMASK] = {"umask", 1, 0, 0},
};

static int lookup_key(const char *name) {
    for (int k = 0; k < K_COUNT; k++)
        if (strcmp(keys[k].name, name) == 0)
            return k;
    return -1;
}

/* ---- values -------------------------------------------------------------- */

/* Decimal or hex digits only, no sign, no overflow, at most MAX. */
static int parse_num(struct parser *ps, const char *key, const char *v, int base,
                     unsigned long long max, unsigned long long *out) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, base);
    if (errno || end == v || *end != '\0' || *v == '-' || *v == '+' || *v == ' ' || x > max)
        return perr(ps, "%s=%.40s is not a number (" MISMATCH_HINT ")", key, v);
    *out = x;
    return 0;
}

#define ID_MAX 4294967294ULL /* (uid_t)-1 is "no id" to the kernel */

static int parse_bool(struct parser *ps, const char *key, const char *v, int *out) {
    if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) {
        *out = v[0] == '1';
        return 0;
    }
    return perr(ps, "%s=%.40s must be 0 or 1 (" MISMATCH_HINT ")", key, v);
}

static int check_abs(struct parser *ps, const char *key, char *path) {
    if (path[0] != '/')
        return perr(ps, "%s path '%.200s' is not absolute (" MISMATCH_HINT ")", key, path);
    clean_path(path);
    return 0;
}

static int parse_limit(struct parser *ps, const char *v, unsigned long long *out) {
    if (strcmp(v, "unlimited") == 0) {
        *out = (unsigned long long)RLIM_INFINITY;
        return 0;
    }
    return parse_num(ps, "rlimit", v, 10, ~0ULL, out);
}

static int parse_rlimit(struct parser *ps, char **f, struct rlimit_rec *r) {
    static const struct { const char *name; int resource; } names[] = {
        {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"memlock", RLIMIT_MEMLOCK},
        {"stack", RLIMIT_STACK},   {"core", RLIMIT_CORE},
    };
    r->resource = -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(f[0], names[i].name) == 0)
            r->resource = names[i].resource;
    if (r->resource < 0)
        return perr(ps, "unknown rlimit '%.40s' (" MISMATCH_HINT ")", f[0]);
    r->name = f[0];
    return parse_limit(ps, f[1], &r->soft) < 0 || parse_limit(ps, f[2], &r->hard) < 0 ? -1 : 0;
}

static int parse_bind_flags(struct parser *ps, const char *flags, unsigned *out) {
    static const struct { const char *name; unsigned set, clear; } names[] = {
        {"ro", BIND_RO, 0}, {"rw", 0, BIND_RO}, {"rec", BIND_REC, 0},
        {"opt", BIND_OPT, 0}, {"dev", BIND_DEV, 0}, {"user", BIND_USER, 0},
    };
    unsigned f = 0;
    for (const char *p = flags; *p;) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof names / sizeof names[0] &&
               !(strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0))
            i++;
        if (n > 0 && i == sizeof names / sizeof names[0])
            return perr(ps, "unknown bind flag '%.*s' (" MISMATCH_HINT ")", (int)(n > 40 ? 40 : n), p);
        if (n > 0)
            f = (f | names[i].set) & ~names[i].clear;
        p += n;
        if (*p == ',')
            p++;
    }
    *out = f;
    return 0;
}

static void *grow(void *p, size_t count, size_t size) {
    void *q = realloc(p, (count ? count : 1) * size);
    if (!q)
        fail_errno(ENOMEM, NULL, "launch plan");
    return q;
}

static struct mount_op *add_mount(struct plan *plan) {
    plan->mounts = grow(plan->mounts, plan->nmounts + 1, sizeof *plan->mounts);
    struct mount_op *m = &plan->mounts[plan->nmounts++];
    memset(m, 0, sizeof *m);
    m->src_fd = -1;
    return m;
}

static int is_kernel_fs_path(const char *p) {
    return path_has_prefix(p, "/proc") || path_has_prefix(p, "/dev") || path_has_prefix(p, "/sys");
}

/* Append S to the NULL-terminated list *LIST of *N entries. */
static void push_string(char ***list, size_t *n, char *s) {
    *list = grow(*list, *n + 2, sizeof **list);
    (*list)[(*n)++] = s;
    (*list)[*n] = NULL;
}

/* ---- records ------------------------------------------------------------- */

struct ids_seen {
    int uid, gid, ctr_uid, ctr_gid;
};

/* F: the record's fields (NUL-terminated), FLEN their lengths. */
static int apply(struct parser *ps, struct plan *plan, struct ids_seen *ids, int k, char **f,
                 const size_t *flen) {
    const char *key = keys[k].name;
    unsigned long long n, n2;
    switch (k) {
    case K_VERSION:
        if (strcmp(f[0], PLAN_VERSION) != 0)
            return perr(ps, "version %.20s, this starter reads version " PLAN_VERSION " (" MISMATCH_HINT ")", f[0]);
        return 0;
    case K_NAME: plan->name = f[0]; return 0;
    case K_IMAGE: plan->image = f[0]; return check_abs(ps, key, f[0]);
    case K_ROOTFS: plan->rootfs = f[0]; return check_abs(ps, key, f[0]);
    case K_OFFSET:
        if (parse_num(ps, key, f[0], 10, (unsigned long long)INT64_MAX, &n) < 0)
            return -1;
        plan->offset = n;
        return 0;
    case K_UID: case K_GID: case K_CTR_UID: case K_CTR_GID:
        if (parse_num(ps, key, f[0], 10, ID_MAX, &n) < 0)
            return -1;
        if (k == K_UID) plan->uid = (uid_t)n, ids->uid = 1;
        if (k == K_GID) plan->gid = (gid_t)n, ids->gid = 1;
        if (k == K_CTR_UID) plan->ctr_uid = (uid_t)n, ids->ctr_uid = 1;
        if (k == K_CTR_GID) plan->ctr_gid = (gid_t)n, ids->ctr_gid = 1;
        return 0;
    case K_FAKEROOT: return parse_bool(ps, key, f[0], &plan->fakeroot);
    case K_WRITABLE_TMPFS: return parse_bool(ps, key, f[0], &plan->writable_tmpfs);
    case K_PID: return parse_bool(ps, key, f[0], &plan->pid1);
    case K_ORPHAN_GRACE:
        if (parse_num(ps, key, f[0], 10, 86400, &n) < 0)
            return -1;
        plan->orphan_grace = (int)n;
        return 0;
    case K_SERVER:
        /* KEY.sock must fit a sockaddr_un (108 bytes with its NUL). */
        if (strlen(f[0]) > SERVER_PATH_MAX)
            return perr(ps, "server=%.40s... is longer than %d bytes; set XDG_RUNTIME_DIR or TMPDIR "
                        "to a shorter directory", f[0], SERVER_PATH_MAX);
        plan->server = f[0];
        return check_abs(ps, key, f[0]);
    case K_IDLE:
        if (parse_num(ps, key, f[0], 10, 7 * 86400, &n) < 0)
            return -1;
        plan->idle = (int)n;
        return 0;
    case K_PRESTART: return parse_bool(ps, key, f[0], &plan->prestart);
    case K_NO_INIT: return parse_bool(ps, key, f[0], &plan->no_init);
    case K_UMASK:
        if (parse_num(ps, key, f[0], 8, 0777, &n) < 0)
            return -1;
        plan->umask = (mode_t)n;
        plan->have_umask = 1;
        return 0;
    case K_OVERLAY:
        if (check_abs(ps, key, f[0]) < 0 || check_abs(ps, key, f[1]) < 0)
            return -1;
        plan->overlay_upper = f[0];
        plan->overlay_work = f[1];
        return 0;
    case K_OVERLAY_LOWER:
        if (check_abs(ps, key, f[0]) < 0)
            return -1;
        if (plan->noverlay_lower == MAX_OVERLAY_LOWER)
            return perr(ps, "more than %d read-only overlays", MAX_OVERLAY_LOWER);
        plan->overlay_lower[plan->noverlay_lower].path = f[0];
        plan->overlay_lower[plan->noverlay_lower++].fd = -1;
        return 0;
    case K_NET: return parse_bool(ps, key, f[0], &plan->net);
    case K_IPC: return parse_bool(ps, key, f[0], &plan->ipc);
    case K_UTS: return parse_bool(ps, key, f[0], &plan->uts);
    case K_HOSTNAME: plan->hostname = f[0]; return 0;
    case K_CWD: plan->cwd = f[0]; return 0;
    case K_JOIN:
        if (parse_num(ps, key, f[0], 10, 0x3fffffff, &n) < 0)
            return -1;
        if (n == 0)
            return perr(ps, "join=0 is not a process (" MISMATCH_HINT ")");
        plan->join = (pid_t)n;
        return 0;
    case K_CAPS:
        if (parse_num(ps, key, f[0], 16, ~0ULL, &n) < 0)
            return -1;
        plan->caps = n;
        plan->have_caps = 1;
        return 0;
    case K_SECCOMP:
    case K_SERVER_SECCOMP: {
        if (flen[0] == 0 || flen[0] % 8 != 0 || flen[0] / 8 > 0xffff)
            return perr(ps, "%s filter of %zu bytes is not whole instructions (" MISMATCH_HINT ")", key, flen[0]);
        /* Copied: the program is read as 4-byte aligned structs. */
        unsigned char *program = grow(NULL, flen[0], 1);
        memcpy(program, f[0], flen[0]);
        if (k == K_SECCOMP)
            plan->seccomp = program, plan->seccomp_len = flen[0];
        else
            plan->server_seccomp = program, plan->server_seccomp_len = flen[0];
        return 0;
    }
    case K_NEWUIDMAP: plan->newuidmap = f[0]; return check_abs(ps, key, f[0]);
    case K_NEWGIDMAP: plan->newgidmap = f[0]; return check_abs(ps, key, f[0]);
    case K_SUBUID: case K_SUBGID:
        if (parse_num(ps, key, f[0], 10, ID_MAX, &n) < 0 || parse_num(ps, key, f[1], 10, ID_MAX, &n2) < 0)
            return -1;
        if (k == K_SUBUID) plan->subuid_start = (unsigned long)n, plan->subuid_count = (unsigned long)n2;
        else plan->subgid_start = (unsigned long)n, plan->subgid_count = (unsigned long)n2;
        return 0;
    case K_RLIMIT:
        plan->rlimits = grow(plan->rlimits, plan->nrlimits + 1, sizeof *plan->rlimits);
        if (parse_rlimit(ps, f, &plan->rlimits[plan->nrlimits]) < 0)
            return -1;
        plan->nrlimits++;
        return 0;
    case K_MKDIR:
        if (check_abs(ps, key, f[0]) < 0)
            return -1;
        plan->dirs = grow(plan->dirs, plan->ndirs + 1, sizeof *plan->dirs);
        plan->dirs[plan->ndirs++] = f[0];
        return 0;
    case K_FILE: {
        if (check_abs(ps, key, f[0]) < 0 || parse_num(ps, "file mode", f[1], 8, 07777, &n) < 0)
            return -1;
        plan->files = grow(plan->files, plan->nfiles + 1, sizeof *plan->files);
        struct file_rec *fr = &plan->files[plan->nfiles++];
        fr->dst = f[0];
        fr->mode = (mode_t)n;
        fr->content = f[2];
        fr->len = flen[2];
        return 0;
    }
    case K_BIND: {
        unsigned flags;
        if (check_abs(ps, key, f[1]) < 0 || parse_bind_flags(ps, f[2], &flags) < 0)
            return -1;
        if (f[0][0] == '\0')
            return perr(ps, "bind record for %.200s has no source (" MISMATCH_HINT ")", f[1]);
        if ((flags & BIND_USER) && is_kernel_fs_path(f[1]))
            return perr(ps, "bind destination %.200s: refusing to mount over /proc, /dev or /sys", f[1]);
        struct mount_op *m = add_mount(plan);
        m->kind = MOUNT_BIND;
        m->src = f[0];
        m->dst = f[1];
        m->flags = flags;
        return 0;
    }
    case K_TMPFS: {
        if (check_abs(ps, key, f[0]) < 0 || parse_num(ps, "tmpfs mode", f[1], 8, 07777, &n) < 0)
            return -1;
        struct mount_op *m = add_mount(plan);
        m->kind = MOUNT_TMPFS;
        m->dst = f[0];
        m->tmpfs_mode = (unsigned)n;
        return 0;
    }
    case K_SYMLINK:
        if (check_abs(ps, key, f[0]) < 0)
            return -1;
        if (strcmp(f[0], "/") == 0)
            return perr(ps, "symlink over / (" MISMATCH_HINT ")");
        plan->symlinks = grow(plan->symlinks, plan->nsymlinks + 1, sizeof *plan->symlinks);
        plan->symlinks[plan->nsymlinks].dst = f[0];
        plan->symlinks[plan->nsymlinks++].target = f[1];
        return 0;
    case K_ENV:
        if (!strchr(f[0], '=') || f[0][0] == '=')
            return perr(ps, "env record '%.40s' is not NAME=VALUE (" MISMATCH_HINT ")", f[0]);
        push_string(&plan->env, &plan->nenv, f[0]);
        return 0;
    case K_ARG:
        push_string(&plan->argv, &plan->nargs, f[0]);
        return 0;
    case K_KEEP_FD:
        if (parse_num(ps, key, f[0], 10, 0x7fffffff, &n) < 0)
            return -1;
        if (n < 3)
            return perr(ps, "keep_fd=%llu: 0, 1 and 2 are always kept (" MISMATCH_HINT ")", n);
        plan->keep_fds = grow(plan->keep_fds, plan->nkeep_fds + 1, sizeof *plan->keep_fds);
        plan->keep_fds[plan->nkeep_fds++] = (int)n;
        return 0;
    case K_PROTECT:
        if (check_abs(ps, key, f[0]) < 0)
            return -1;
        if (strcmp(f[0], "/") == 0)
            return perr(ps, "protect=/ would hide everything (" MISMATCH_HINT ")");
        plan->protects = grow(plan->protects, plan->nprotects + 1, sizeof *plan->protects);
        plan->protects[plan->nprotects].path = f[0];
        plan->protects[plan->nprotects].what = f[1];
        plan->protects[plan->nprotects++].fd = -1;
        return 0;
    }
    return perr(ps, "key %s has no handler", key);
}

/* One record at *P (before END): splits it in place into NUL-terminated
   key and fields and applies it.  0, or -1 with the message set. */
static int parse_record(struct parser *ps, struct plan *plan, struct ids_seen *ids,
                        unsigned char *seen, char *buf, char **p, char *end) {
    char *key = *p;
    char *q = key;
    while (q < end && ((*q >= 'a' && *q <= 'z') || *q == '_'))
        q++;
    if (q == end || (*q != ':' && *q != '\n') || q == key)
        return perr(ps, "malformed record at byte %zu (" MISMATCH_HINT ")", (size_t)(key - buf));
    int first = key == buf;
    char sep = *q;
    *q = '\0';
    int k = lookup_key(key);
    if (k < 0)
        return perr(ps, "unknown key '%.40s' (" MISMATCH_HINT ")", key);
    if (first != (k == K_VERSION))
        return perr(ps, first ? "the first record must be version (" MISMATCH_HINT ")"
                              : "version may only be the first record (" MISMATCH_HINT ")");
    if (seen[k] && !keys[k].repeatable)
        return perr(ps, "%s appears twice (" MISMATCH_HINT ")", key);
    seen[k] = 1;

    char *f[MAX_FIELDS];
    size_t flen[MAX_FIELDS];
    unsigned nf = 0;
    q++;
    while (sep == ':') {
        /* LENGTH ":" */
        size_t len = 0, digits = 0;
        while (q < end && *q >= '0' && *q <= '9' && digits < 10) {
            len = len * 10 + (size_t)(*q - '0');
            q++;
            digits++;
        }
        if (digits == 0 || q == end || *q != ':')
            return perr(ps, "%s: malformed field length (" MISMATCH_HINT ")", key);
        q++;
        if (len >= (size_t)(end - q)) /* the bytes, then ':' or '\n' */
            return perr(ps, "%s: a field runs past the end of the plan (" MISMATCH_HINT ")", key);
        if (nf == keys[k].fields)
            return perr(ps, "%s takes %u field%s (" MISMATCH_HINT ")", key, keys[k].fields,
                        keys[k].fields == 1 ? "" : "s");
        if (!(keys[k].binary & (1u << nf)) && memchr(q, '\0', len))
            return perr(ps, "a %s value holds a NUL byte", key);
        f[nf] = q;
        flen[nf++] = len;
        q += len;
        sep = *q;
        if (sep != ':' && sep != '\n')
            return perr(ps, "%s: a field is longer than its length says (" MISMATCH_HINT ")", key);
        *q++ = '\0';
    }
    if (nf != keys[k].fields)
        return perr(ps, "%s takes %u field%s, not %u (" MISMATCH_HINT ")", key, keys[k].fields,
                    keys[k].fields == 1 ? "" : "s", nf);
    *p = q;
    return apply(ps, plan, ids, k, f, flen);
}

/* The /proc of pid=1 mode: a fresh procfs replaces any bind of the host's. */
static void add_fresh_proc(struct plan *plan) {
    for (size_t i = 0; i < plan->nmounts; i++) {
        struct mount_op *m = &plan->mounts[i];
        if (m->kind == MOUNT_BIND && strcmp(m->dst, "/proc") == 0) {
            m->kind = MOUNT_PROC;
            return;
        }
    }
    add_mount(plan);
    memmove(plan->mounts + 1, plan->mounts, (plan->nmounts - 1) * sizeof *plan->mounts);
    memset(plan->mounts, 0, sizeof *plan->mounts);
    plan->mounts[0].kind = MOUNT_PROC;
    plan->mounts[0].src_fd = -1;
    plan->mounts[0].dst = "/proc";
}

int plan_parse(char *buf, size_t len, struct plan *plan, char *err, size_t errlen) {
    struct parser ps = {err, errlen};
    memset(plan, 0, sizeof *plan);
    plan->name = "the image";
    plan->overlay_upper_fd = plan->overlay_work_fd = -1;
    struct ids_seen ids = {0};
    unsigned char seen[K_COUNT] = {0};
    char *p = buf, *end = buf + len;
    if (len == 0)
        return perr(&ps, "empty (" MISMATCH_HINT ")");
    while (p < end)
        if (parse_record(&ps, plan, &ids, seen, buf, &p, end) < 0)
            return -1;

    if (!plan->join && !plan->image == !plan->rootfs)
        return perr(&ps, "exactly one of image and rootfs is required (" MISMATCH_HINT ")");
    if (plan->server && (!plan->image || plan->join))
        return perr(&ps, "server needs image and no join (" MISMATCH_HINT ")");
    if (plan->prestart && !plan->server)
        return perr(&ps, "prestart needs server (" MISMATCH_HINT ")");
    if (!ids.uid || !ids.gid)
        return perr(&ps, "uid and gid are required (" MISMATCH_HINT ")");
    if (!ids.ctr_uid)
        plan->ctr_uid = plan->uid;
    if (!ids.ctr_gid)
        plan->ctr_gid = plan->gid;
    if (plan->nargs == 0 || plan->argv[0][0] == '\0')
        return perr(&ps, "no command (arg records) (" MISMATCH_HINT ")");
    if (!plan->env) {
        plan->env = grow(NULL, 1, sizeof *plan->env);
        plan->env[0] = NULL;
    }
    if (plan->pid1)
        add_fresh_proc(plan);
    return 0;
}

void plan_free(struct plan *plan) {
    free(plan->seccomp);
    free(plan->server_seccomp);
    free(plan->rlimits);
    free(plan->dirs);
    free(plan->symlinks);
    free(plan->files);
    free(plan->mounts);
    free(plan->env);
    free(plan->argv);
    free(plan->keep_fds);
    free(plan->protects);
    memset(plan, 0, sizeof *plan);
}

static char *read_all(int fd, size_t *len) {
    size_t cap = 65536, n = 0;
    char *buf = grow(NULL, cap, 1);
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_PLAN_BYTES)
                fail("launch plan: larger than %u MiB (" MISMATCH_HINT ")", MAX_PLAN_BYTES >> 20);
            cap *= 2;
            buf = grow(buf, cap, 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fail_errno(errno, "husk-starter is started by husk, with the plan on a descriptor",
                       "reading the launch plan");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

void plan_read(int fd, struct plan *plan) {
    size_t len;
    char *buf = read_all(fd, &len);
    close(fd);
    char err[512];
    if (plan_parse(buf, len, plan, err, sizeof err) < 0)
        fail("%s", err);
}

const char *plan_getenv(const struct plan *plan, const char *name) {
    size_t n = strlen(name);
    const char *found = NULL;
    for (size_t i = 0; i < plan->nenv; i++)
        if (strncmp(plan->env[i], name, n) == 0 && plan->env[i][n] == '=')
            found = plan->env[i] + n + 1;
    return found;
}
