/*
 * husk-spank-task: what a task of `srun --husk-image=IMAGE CMD ARGS` runs
 * (the husk SPANK plugin puts it in place of CMD): it execs
 *
 *   husk exec [-B MOUNT]... [--pwd WORKDIR] IMAGE CMD ARGS
 *
 * from HUSK_SPANK_HUSK, _IMAGE, _COMMAND, _MOUNTS (comma-separated) and
 * _WORKDIR, which it removes first: husk's own environment rules decide
 * what reaches the container.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *take(const char *name) {
    const char *value = getenv(name);
    char *copy = value ? strdup(value) : NULL;
    unsetenv(name);
    return copy;
}

int main(int argc, char **argv) {
    char *husk = take("HUSK_SPANK_HUSK"), *image = take("HUSK_SPANK_IMAGE");
    char *command = take("HUSK_SPANK_COMMAND"), *mounts = take("HUSK_SPANK_MOUNTS");
    char *workdir = take("HUSK_SPANK_WORKDIR");
    if (!husk || !image || !command) {
        fprintf(stderr, "husk-spank-task: run by the husk SPANK plugin (srun --husk-image=IMAGE), not by hand\n");
        return 64;
    }
    size_t nmounts = 0;
    for (char *p = mounts; p && *p; p++)
        nmounts += *p == ',';
    char **args = calloc((size_t)argc + 2 * (nmounts + 1) + 8, sizeof *args);
    if (!args)
        return 255;
    size_t n = 0;
    args[n++] = husk;
    args[n++] = "exec";
    for (char *save = NULL, *m = mounts ? strtok_r(mounts, ",", &save) : NULL; m; m = strtok_r(NULL, ",", &save)) {
        args[n++] = "-B";
        args[n++] = m;
    }
    if (workdir && *workdir) {
        args[n++] = "--pwd";
        args[n++] = workdir;
    }
    args[n++] = image;
    args[n++] = command;
    for (int i = 1; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    execv(husk, args);
    fprintf(stderr, "husk-spank-task: cannot run %s: %s\n", husk, strerror(errno));
    return 255;
}
