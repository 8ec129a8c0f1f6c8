/*
 * The husk SPANK plugin: Slurm runs each task of a step inside an image,
 * as pyxis does with enroot:
 *
 *   srun --husk-image=docker://REF|/path/img.sqsh|oci:DIR [--husk-mounts=SRC:DST[:ro],...]
 *        [--husk-workdir=DIR] ./app
 *
 * plugstack.conf:  optional /usr/lib/husk/libhusk_spank.so husk=/usr/bin/husk
 *
 * Each task becomes `husk exec [-B SRC:DST]... [--pwd DIR] IMAGE ./app ...`,
 * so the confinement and environment rules are husk exec's exactly. Slurm
 * 22.05 cannot prepend to a task's argv, so the plugin replaces argv[0] by
 * husk-spank-task (installed beside husk) and passes the image, the
 * options and the original command in HUSK_SPANK_* variables; Slurm then
 * goes on as usual (CPU binding, the task's environment) and execs it.
 * A docker:// image is pulled and converted once per step and node, before
 * any task starts (slurm_spank_user_init); other sources are converted on
 * the first task's use, under the image cache's lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <slurm/spank.h>

#include "husk_spank.h"

SPANK_PLUGIN(husk, 1);

static char *image, *mounts, *workdir;
static char husk[PATH_MAX] = "/usr/bin/husk";

static int set(char **slot, const char *value) {
    free(*slot);
    *slot = value ? strdup(value) : NULL;
    return (value && *slot) ? 0 : -1;
}
static int opt_image(int val, const char *arg, int remote) { (void)val; (void)remote; return set(&image, arg); }
static int opt_mounts(int val, const char *arg, int remote) { (void)val; (void)remote; return set(&mounts, arg); }
static int opt_workdir(int val, const char *arg, int remote) { (void)val; (void)remote; return set(&workdir, arg); }

struct spank_option spank_options[] = {
    {"husk-image", "IMAGE", "Run each task in IMAGE with husk exec (docker://REF, FILE.sqsh, oci:DIR, ...)", 1, 0,
     opt_image},
    {"husk-mounts", "SRC:DST[:ro],...", "With --husk-image: bind these into the image (husk exec -B)", 1, 0, opt_mounts},
    {"husk-workdir", "DIR", "With --husk-image: the working directory inside", 1, 0, opt_workdir},
    SPANK_OPTIONS_TABLE_END};

/* plugstack.conf arguments: husk=PATH (default /usr/bin/husk). */
int slurm_spank_init(spank_t sp, int ac, char **av) {
    (void)sp;
    for (int i = 0; i < ac; i++) {
        if (strncmp(av[i], "husk=", 5) == 0 && av[i][5] == '/' && strlen(av[i] + 5) < sizeof husk) {
            strcpy(husk, av[i] + 5);
        } else {
            slurm_error("husk: unknown plugstack.conf argument \"%s\" (use husk=/path/to/husk)", av[i]);
            return -1;
        }
    }
    return 0;
}

/* Once per step and node, as the user, before the tasks: pull a registry
   image into the cache, so the tasks find it there. */
int slurm_spank_user_init(spank_t sp, int ac, char **av) {
    (void)ac; (void)av;
    if (!image || strncmp(image, "docker://", 9) != 0)
        return 0;
    char **env = NULL;
    if (spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS)
        env = NULL;
    uid_t uid;
    gid_t gid;
    if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS || spank_get_item(sp, S_JOB_GID, &gid) != ESPANK_SUCCESS) {
        slurm_error("husk: cannot tell the job's user to pull %s as", image);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        slurm_error("husk: cannot fork to pull %s: %s", image, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* slurmstepd drops privileges here only for a while (seteuid): the
           real and saved ids are still root's, and a program exec'd so keeps
           root's permitted capabilities. Drop them for good before husk
           reads anything the user chose. */
        uid_t r, e, s;
        if (setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0 || getresuid(&r, &e, &s) != 0 ||
            r != uid || e != uid || s != uid || uid == 0) {
            fprintf(stderr, "husk: cannot become uid %u alone to pull %s: %s\n", (unsigned)uid, image, strerror(errno));
            _exit(126);
        }
        char *argv[] = {husk, "pull", "-q", image, NULL};
        execve(husk, argv, env ? env : environ);
        fprintf(stderr, "husk: cannot run %s: %s\n", husk, strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        slurm_error("husk: pulling %s failed (its message is in the step's output)", image);
        return -1;
    }
    return 0;
}

/* In each task, as the user, just before Slurm execs it. */
int slurm_spank_task_init(spank_t sp, int ac, char **av) {
    (void)ac; (void)av;
    if (!image)
        return 0;
    int argc = 0;
    char **argv = NULL;
    if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS || argc < 1 || !argv || !argv[0]) {
        slurm_error("husk: --husk-image needs a command to run");
        return -1;
    }
    char helper[PATH_MAX];
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", husk);
    snprintf(helper, sizeof helper, "%s/" HUSK_SPANK_TASK, dirname(copy));
    if (access(helper, X_OK) != 0) {
        slurm_error("husk: %s not found beside %s: install it with husk", HUSK_SPANK_TASK, husk);
        return -1;
    }
    if (spank_setenv(sp, "HUSK_SPANK_HUSK", husk, 1) != ESPANK_SUCCESS ||
        spank_setenv(sp, "HUSK_SPANK_IMAGE", image, 1) != ESPANK_SUCCESS ||
        spank_setenv(sp, "HUSK_SPANK_COMMAND", argv[0], 1) != ESPANK_SUCCESS ||
        (mounts && spank_setenv(sp, "HUSK_SPANK_MOUNTS", mounts, 1) != ESPANK_SUCCESS) ||
        (workdir && spank_setenv(sp, "HUSK_SPANK_WORKDIR", workdir, 1) != ESPANK_SUCCESS)) {
        slurm_error("husk: cannot set the task's environment");
        return -1;
    }
    char *replacement = strdup(helper);
    if (!replacement)
        return -1;
    argv[0] = replacement; /* the original is Slurm's to free: kept for the step's life */
    return 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av) {
    (void)sp; (void)ac; (void)av;
    set(&image, NULL);
    set(&mounts, NULL);
    set(&workdir, NULL);
    return 0;
}
