/* Loading a C library on its first use (see husk_lazy_library.h). */
#include "husk_lazy_library.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t opening = PTHREAD_MUTEX_INITIALIZER;

/* A library Debian's package should have installed is gone: whatever the
   program must undo first, one line naming the library and the package, and
   the program's status for a failure before the command. */
static _Noreturn void missing(const struct husk_lazy_library *lib, const char *what) {
    if (lib->before_exit != NULL) lib->before_exit();
    fprintf(stderr, "husk: cannot load %s (%s): install Debian's %s\n", lib->soname, what, lib->package);
    exit(lib->exit_status);
}

void *husk_lazy_symbol(struct husk_lazy_library *lib, const char *symbol) {
    void *handle = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
    if (handle == NULL) {
        pthread_mutex_lock(&opening);
        handle = lib->handle;
        if (handle == NULL) {
            handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
            if (handle == NULL) missing(lib, dlerror());
            __atomic_store_n(&lib->handle, handle, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&opening);
    }
    /* With a handle, dlsym looks in the library itself first, never at the
       executable's trampoline of the same name. */
    void *function = dlsym(handle, symbol);
    if (function == NULL) missing(lib, symbol);
    return function;
}
