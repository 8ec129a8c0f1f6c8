#include "CHuskShim.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

static char cleanup_path[4096];
static volatile sig_atomic_t cleanup_armed;

int husk_cleanup_register(const char *path) {
    size_t len = strlen(path);
    if (len >= sizeof(cleanup_path)) return -1;
    cleanup_armed = 0;
    memcpy(cleanup_path, path, len + 1);
    cleanup_armed = 1;
    return 0;
}

void husk_cleanup_clear(void) { cleanup_armed = 0; }

/* Async-signal-safe: unlink(2) and a flag. */
void husk_cleanup_now(void) {
    if (cleanup_armed) unlink(cleanup_path);
    cleanup_armed = 0;
}

static void husk_cleanup_on_signal(int sig) {
    husk_cleanup_now();
    /* Conventional shell status for death by signal. */
    _exit(128 + sig);
}

void husk_cleanup_install_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = husk_cleanup_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}
