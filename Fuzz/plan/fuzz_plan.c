/* libFuzzer target: the starter's launch-plan parser (Sources/CHuskStarter/
   plan.c) on arbitrary bytes.  It must return 0 or -1 with a message,
   never crash, read out of bounds or leak; a plan it accepts must hold
   only what its invariants promise (checked below).  Build and run:
   Scripts/fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

static void check(int ok) {
    if (!ok)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Exactly SIZE bytes, so ASan sees any read past the end. */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct plan plan;
    char err[512];
    err[0] = '\0';
    if (plan_parse(buf, size, &plan, err, sizeof err) == 0) {
        check(plan.nargs > 0 && plan.argv[0][0] != '\0' && plan.argv[plan.nargs] == NULL);
        check(plan.env[plan.nenv] == NULL);
        for (size_t i = 0; i < plan.nenv; i++)
            check(strchr(plan.env[i], '=') != NULL);
        for (size_t i = 0; i < plan.nmounts; i++)
            check(plan.mounts[i].dst[0] == '/');
        for (size_t i = 0; i < plan.nfiles; i++)
            check(plan.files[i].dst[0] == '/' && plan.files[i].mode <= 07777);
        for (size_t i = 0; i < plan.nkeep_fds; i++)
            check(plan.keep_fds[i] >= 3);
        check(plan.seccomp_len % 8 == 0);
        check(plan.join || (!plan.image != !plan.rootfs));
        (void)plan_getenv(&plan, "PATH");
    } else {
        /* One line that says it is about the plan. */
        check(strncmp(err, "launch plan: ", 13) == 0 && strchr(err, '\n') == NULL);
    }
    plan_free(&plan);
    free(buf);
    return 0;
}
