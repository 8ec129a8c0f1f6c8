/*
 * Launch plan parser.
 *
 * husk (Swift) computes everything and execs husk-starter with the plan
 * readable on file descriptor 3; argv is just ["husk-starter"].  The starter
 * reads fd 3 to EOF and closes it.
 *
 * Format: a sequence of NUL-terminated strings, each KEY=VALUE.  VALUE may
 * contain '=' and newlines, never NUL.  Keys ("*" = repeatable, kept in
 * order):
 *
 *   name=IMAGE-DISPLAY-NAME            for messages ("CMD: not found in NAME")
 *   join=PID                           instead of image=/rootfs= and mounts:
 *                                      enter the namespaces of instance
 *                                      starter PID (husk exec instance://)
 *   image=/abs/path.sqsh               squashfs image, served over FUSE
 *   rootfs=/abs/dir                    or: a plain directory (extracted image)
 *   offset=N                           bytes into image= where squashfs starts
 *   uid=OUTSIDE_UID   gid=OUTSIDE_GID  the invoking user (host ids)
 *   ctr_uid=INSIDE    ctr_gid=INSIDE   what they map to inside (0 = fakeroot)
 *   fakeroot=0|1                       keep capabilities in the namespace
 *   writable_tmpfs=0|1                 root stays writable (tmpfs upper)
 *   pid=0|1                            new PID namespace, tiny init, fresh /proc
 *   net=0|1  ipc=0|1  uts=0|1          new network (loopback only, up), IPC and
 *                                      UTS namespaces
 *   hostname=NAME                      with uts=1: the container's host name
 *   rlimit=NAME:SOFT:HARD            * NAME nofile|nproc|memlock|stack|core;
 *                                      numbers or "unlimited"; before exec
 *   caps=HEX                           with fakeroot=1: the capabilities kept
 *                                      (bit N = capability N); default all
 *   seccomp=HEX                        a compiled seccomp filter (classic BPF,
 *                                      8-byte instructions), installed last
 *   newuidmap=PATH  newgidmap=PATH     setuid helpers for subordinate ids
 *   subuid=START:COUNT                 with fakeroot=1: ids 1..COUNT inside map
 *   subgid=START:COUNT                 to START.. outside (else a one-id map)
 *   file=DST<TAB>MODE<TAB>CONTENT    * write CONTENT to DST (MODE octal)
 *   bind=SRC<TAB>DST<TAB>FLAGS       * FLAGS: comma list of ro, rw, rec, opt,
 *                                      dev, user (see BIND_* in plan.h)
 *   tmpfs=DST[<TAB>MODE]             * fresh tmpfs (nosuid,nodev; mode octal,
 *                                      default 1777)
 *   symlink=DST<TAB>TARGET           * made after all mounts (kept if DST exists)
 *   cwd=/dir/inside                    working directory (falls back to /)
 *   mkdir=/dir/inside                * created when the image lacks it (the
 *                                      image's WorkingDir, as OCI runtimes do)
 *   env=NAME=VALUE                   * the command's entire environment
 *   arg=ARG                          * argv; arg[0] is the command (required)
 *
 * bind= and tmpfs= records are performed in the order they appear.
 * Unknown keys are an error (husk and husk-starter from different builds).
 */
#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util.h"

#define MISMATCH_HINT "husk and husk-starter come from different builds?"

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q)
        fail_errno(ENOMEM, NULL, "launch plan");
    return q;
}

static char *read_all(int fd, size_t *len) {
    size_t cap = 65536, n = 0;
    char *buf = xrealloc(NULL, cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fail_errno(errno, "husk-starter is started by husk, with the plan on fd 3",
                       "reading the launch plan on fd 3");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static unsigned long long parse_num(const char *key, const char *v, int base) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, base);
    if (errno || end == v || *end != '\0' || *v == '-')
        fail("launch plan: %s=%s is not a number (" MISMATCH_HINT ")", key, v);
    return x;
}

static int parse_bool(const char *key, const char *v) {
    if (strcmp(v, "0") == 0)
        return 0;
    if (strcmp(v, "1") == 0)
        return 1;
    fail("launch plan: %s=%s must be 0 or 1 (" MISMATCH_HINT ")", key, v);
}

static char *next_field(char **p, const char *key) {
    char *s = *p;
    char *tab = strchr(s, '\t');
    if (!tab)
        fail("launch plan: %s record is missing a tab-separated field (" MISMATCH_HINT ")", key);
    *tab = '\0';
    *p = tab + 1;
    return s;
}

static void check_abs(const char *key, char *path) {
    if (path[0] != '/')
        fail("launch plan: %s path '%s' is not absolute (" MISMATCH_HINT ")", key, path);
    clean_path(path);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Lowercase hex of a BPF program: a whole number of 8-byte instructions. */
static void parse_hex(const char *v, unsigned char **out, size_t *len) {
    size_t n = strlen(v);
    if (n == 0 || n % 16 != 0)
        fail("launch plan: seccomp filter of %zu hex digits is not whole instructions (" MISMATCH_HINT ")", n);
    unsigned char *bytes = xrealloc(NULL, n / 2);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);
        if (hi < 0 || lo < 0)
            fail("launch plan: seccomp filter is not hex (" MISMATCH_HINT ")");
        bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = bytes;
    *len = n / 2;
}

static unsigned long long parse_limit(const char *v) {
    return strcmp(v, "unlimited") == 0 ? (unsigned long long)RLIM_INFINITY : parse_num("rlimit", v, 10);
}

/* NAME:SOFT:HARD */
static void parse_rlimit(char *v, struct rlimit_rec *r) {
    static const struct { const char *name; int resource; } names[] = {
        {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"memlock", RLIMIT_MEMLOCK},
        {"stack", RLIMIT_STACK},   {"core", RLIMIT_CORE},
    };
    char *soft = strchr(v, ':');
    char *hard = soft ? strchr(soft + 1, ':') : NULL;
    if (!soft || !hard)
        fail("launch plan: rlimit '%s' is not NAME:SOFT:HARD (" MISMATCH_HINT ")", v);
    *soft++ = '\0';
    *hard++ = '\0';
    r->resource = -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i].name) == 0)
            r->resource = names[i].resource;
    if (r->resource < 0)
        fail("launch plan: unknown rlimit '%s' (" MISMATCH_HINT ")", v);
    r->name = v;
    r->soft = parse_limit(soft);
    r->hard = parse_limit(hard);
}

static unsigned parse_bind_flags(const char *flags) {
    unsigned f = 0;
    const char *p = flags;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && strncmp(p, "ro", 2) == 0)
            f |= BIND_RO;
        else if (n == 2 && strncmp(p, "rw", 2) == 0)
            f &= ~(unsigned)BIND_RO;
        else if (n == 3 && strncmp(p, "rec", 3) == 0)
            f |= BIND_REC;
        else if (n == 3 && strncmp(p, "opt", 3) == 0)
            f |= BIND_OPT;
        else if (n == 3 && strncmp(p, "dev", 3) == 0)
            f |= BIND_DEV;
        else if (n == 4 && strncmp(p, "user", 4) == 0)
            f |= BIND_USER;
        else if (n > 0)
            fail("launch plan: unknown bind flag '%.*s' (" MISMATCH_HINT ")", (int)n, p);
        p += n;
        if (*p == ',')
            p++;
    }
    return f;
}

static struct mount_op *add_mount(struct plan *plan) {
    plan->mounts = xrealloc(plan->mounts, (plan->nmounts + 1) * sizeof *plan->mounts);
    struct mount_op *m = &plan->mounts[plan->nmounts++];
    memset(m, 0, sizeof *m);
    m->src_fd = -1;
    return m;
}

static int is_kernel_fs_path(const char *p) {
    return path_has_prefix(p, "/proc") || path_has_prefix(p, "/dev") || path_has_prefix(p, "/sys");
}

void plan_read(int fd, struct plan *plan) {
    size_t len;
    char *buf = read_all(fd, &len);
    close(fd);
    memset(plan, 0, sizeof *plan);
    plan->name = "the image";
    int have_uid = 0, have_gid = 0, have_cuid = 0, have_cgid = 0;

    for (size_t off = 0; off < len;) {
        char *rec = buf + off;
        size_t rlen = strlen(rec);
        off += rlen + 1;
        if (rlen == 0)
            continue;
        char *eq = strchr(rec, '=');
        if (!eq)
            fail("launch plan: record '%.40s' has no '=' (" MISMATCH_HINT ")", rec);
        *eq = '\0';
        const char *key = rec;
        char *v = eq + 1;

        if (strcmp(key, "name") == 0) {
            plan->name = v;
        } else if (strcmp(key, "image") == 0) {
            plan->image = v;
        } else if (strcmp(key, "rootfs") == 0) {
            plan->rootfs = v;
        } else if (strcmp(key, "offset") == 0) {
            plan->offset = parse_num(key, v, 10);
        } else if (strcmp(key, "uid") == 0) {
            plan->uid = (uid_t)parse_num(key, v, 10);
            have_uid = 1;
        } else if (strcmp(key, "gid") == 0) {
            plan->gid = (gid_t)parse_num(key, v, 10);
            have_gid = 1;
        } else if (strcmp(key, "ctr_uid") == 0) {
            plan->ctr_uid = (uid_t)parse_num(key, v, 10);
            have_cuid = 1;
        } else if (strcmp(key, "ctr_gid") == 0) {
            plan->ctr_gid = (gid_t)parse_num(key, v, 10);
            have_cgid = 1;
        } else if (strcmp(key, "fakeroot") == 0) {
            plan->fakeroot = parse_bool(key, v);
        } else if (strcmp(key, "writable_tmpfs") == 0) {
            plan->writable_tmpfs = parse_bool(key, v);
        } else if (strcmp(key, "pid") == 0) {
            plan->pid1 = parse_bool(key, v);
        } else if (strcmp(key, "cwd") == 0) {
            plan->cwd = v;
        } else if (strcmp(key, "join") == 0) {
            plan->join = (pid_t)parse_num(key, v, 10);
        } else if (strcmp(key, "caps") == 0) {
            plan->caps = parse_num(key, v, 16);
            plan->have_caps = 1;
        } else if (strcmp(key, "seccomp") == 0) {
            parse_hex(v, &plan->seccomp, &plan->seccomp_len);
        } else if (strcmp(key, "net") == 0) {
            plan->net = parse_bool(key, v);
        } else if (strcmp(key, "ipc") == 0) {
            plan->ipc = parse_bool(key, v);
        } else if (strcmp(key, "uts") == 0) {
            plan->uts = parse_bool(key, v);
        } else if (strcmp(key, "hostname") == 0) {
            plan->hostname = v;
        } else if (strcmp(key, "rlimit") == 0) {
            plan->rlimits = xrealloc(plan->rlimits, (plan->nrlimits + 1) * sizeof *plan->rlimits);
            parse_rlimit(v, &plan->rlimits[plan->nrlimits++]);
        } else if (strcmp(key, "newuidmap") == 0) {
            plan->newuidmap = v;
        } else if (strcmp(key, "newgidmap") == 0) {
            plan->newgidmap = v;
        } else if (strcmp(key, "subuid") == 0 || strcmp(key, "subgid") == 0) {
            char *colon = strchr(v, ':');
            if (!colon)
                fail("launch plan: %s '%s' is not START:COUNT (" MISMATCH_HINT ")", key, v);
            *colon = '\0';
            unsigned long start = (unsigned long)parse_num(key, v, 10);
            unsigned long count = (unsigned long)parse_num(key, colon + 1, 10);
            if (key[3] == 'u') {
                plan->subuid_start = start;
                plan->subuid_count = count;
            } else {
                plan->subgid_start = start;
                plan->subgid_count = count;
            }
        } else if (strcmp(key, "mkdir") == 0) {
            check_abs(key, v);
            plan->dirs = xrealloc(plan->dirs, (plan->ndirs + 1) * sizeof *plan->dirs);
            plan->dirs[plan->ndirs++] = v;
        } else if (strcmp(key, "file") == 0) {
            char *p = v;
            char *dst = next_field(&p, key);
            char *mode = next_field(&p, key);
            check_abs(key, dst);
            plan->files = xrealloc(plan->files, (plan->nfiles + 1) * sizeof *plan->files);
            struct file_rec *f = &plan->files[plan->nfiles++];
            f->dst = dst;
            f->mode = (mode_t)parse_num("file mode", mode, 8) & 07777;
            f->content = p;
            f->len = strlen(p);
        } else if (strcmp(key, "bind") == 0) {
            char *p = v;
            char *src = next_field(&p, key);
            char *dst = next_field(&p, key);
            check_abs(key, dst);
            struct mount_op *m = add_mount(plan);
            m->kind = MOUNT_BIND;
            m->src = src;
            m->dst = dst;
            m->flags = parse_bind_flags(p);
            if ((m->flags & BIND_USER) && is_kernel_fs_path(dst))
                fail("bind destination %s: refusing to mount over /proc, /dev or /sys", dst);
        } else if (strcmp(key, "symlink") == 0) {
            char *p = v;
            char *dst = next_field(&p, key);
            check_abs(key, dst);
            plan->symlinks = xrealloc(plan->symlinks, (plan->nsymlinks + 1) * sizeof *plan->symlinks);
            plan->symlinks[plan->nsymlinks].dst = dst;
            plan->symlinks[plan->nsymlinks++].target = p;
        } else if (strcmp(key, "tmpfs") == 0) {
            char *tab = strchr(v, '\t');
            unsigned mode = 01777;
            if (tab) {
                *tab = '\0';
                mode = (unsigned)parse_num("tmpfs mode", tab + 1, 8) & 07777;
            }
            check_abs(key, v);
            struct mount_op *m = add_mount(plan);
            m->kind = MOUNT_TMPFS;
            m->dst = v;
            m->tmpfs_mode = mode;
        } else if (strcmp(key, "env") == 0) {
            if (!strchr(v, '='))
                fail("launch plan: env record '%s' has no '=' (" MISMATCH_HINT ")", v);
            plan->env = xrealloc(plan->env, (plan->nenv + 2) * sizeof *plan->env);
            plan->env[plan->nenv++] = v;
            plan->env[plan->nenv] = NULL;
        } else if (strcmp(key, "arg") == 0) {
            plan->argv = xrealloc(plan->argv, (plan->nargs + 2) * sizeof *plan->argv);
            plan->argv[plan->nargs++] = v;
            plan->argv[plan->nargs] = NULL;
        } else {
            fail("launch plan: unknown key '%s' (" MISMATCH_HINT ")", key);
        }
    }

    if (!plan->join && !plan->image == !plan->rootfs)
        fail("launch plan: exactly one of image= and rootfs= is required (" MISMATCH_HINT ")");
    if (!have_uid || !have_gid)
        fail("launch plan: uid= and gid= are required (" MISMATCH_HINT ")");
    if (!have_cuid)
        plan->ctr_uid = plan->uid;
    if (!have_cgid)
        plan->ctr_gid = plan->gid;
    if (plan->nargs == 0 || plan->argv[0][0] == '\0')
        fail("launch plan: no command (arg= records) (" MISMATCH_HINT ")");
    if (!plan->env) {
        plan->env = xrealloc(NULL, sizeof *plan->env);
        plan->env[0] = NULL;
    }

    /* pid=1: a fresh /proc replaces any bind of the host's. */
    if (plan->pid1) {
        int found = 0;
        for (size_t i = 0; i < plan->nmounts; i++) {
            struct mount_op *m = &plan->mounts[i];
            if (m->kind == MOUNT_BIND && strcmp(m->dst, "/proc") == 0) {
                m->kind = MOUNT_PROC;
                found = 1;
            }
        }
        if (!found) {
            add_mount(plan);
            memmove(plan->mounts + 1, plan->mounts, (plan->nmounts - 1) * sizeof *plan->mounts);
            memset(plan->mounts, 0, sizeof *plan->mounts);
            plan->mounts[0].kind = MOUNT_PROC;
            plan->mounts[0].src_fd = -1;
            plan->mounts[0].dst = "/proc";
        }
    }
}

const char *plan_getenv(const struct plan *plan, const char *name) {
    size_t n = strlen(name);
    const char *found = NULL;
    for (size_t i = 0; i < plan->nenv; i++)
        if (strncmp(plan->env[i], name, n) == 0 && plan->env[i][n] == '=')
            found = plan->env[i] + n + 1;
    return found;
}
