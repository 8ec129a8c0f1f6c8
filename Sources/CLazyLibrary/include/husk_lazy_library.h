#ifndef HUSK_LAZY_LIBRARY_H
#define HUSK_LAZY_LIBRARY_H
/* A C library that only some commands use is opened on its first call rather
 * than by the dynamic loader at every start: libarchive brings libxml2, ICU,
 * nettle and five more with it, GPGME two more, and a container start uses
 * none of them; a starter that joins an image server never mounts, so it
 * needs neither libfuse3 nor squashfuse and its five decompressors
 * (Integration/bench/results/breakdown.md). Each function Husk calls gets a
 * trampoline of the same name and prototype (checked against the library's
 * own header), which calls the real function through a pointer dlsym fills. */
#include <stddef.h> /* NULL, in the macros below */

struct husk_lazy_library {
    const char *soname;   /* what dlopen asks for, e.g. "libarchive.so.13" */
    const char *package;  /* the Debian package named when it is missing */
    int exit_status;      /* when it is missing: 127 for husk, 255 where only a container start uses it */
    void (*before_exit)(void);  /* or NULL: e.g. removing a half-written output */
    void *handle;         /* set once, under a lock */
};

/* SYMBOL from LIB, opening LIB on first use (thread-safe). When the library
 * or the symbol is missing: before_exit, one line on stderr, exit_status. */
void *husk_lazy_symbol(struct husk_lazy_library *lib, const char *symbol);

/* Fills NAME's pointer from LIB unless it is filled; racing first calls store
 * the same value. */
#define HUSK_LAZY_RESOLVE(lib, ret, name, params)                                   \
    ret(*f) params = __atomic_load_n(&husk_lazy_##name, __ATOMIC_ACQUIRE);          \
    if (f == NULL) {                                                                \
        f = (ret(*) params)husk_lazy_symbol(&(lib), #name);                         \
        __atomic_store_n(&husk_lazy_##name, f, __ATOMIC_RELEASE);                   \
    }

/* Trampolines are hidden: exported (Swift links executables with
 * -export-dynamic), they would stand in for the library's own functions in
 * its calls to itself, an extra hop on every FUSE read and tar entry. */
#define HUSK_LAZY_TRAMPOLINE __attribute__((visibility("hidden")))

/* A trampoline for a function returning RET; ARGS names PARAMS' parameters. */
#define HUSK_LAZY(lib, ret, name, params, args)                                     \
    static ret(*husk_lazy_##name) params = NULL;                                    \
    HUSK_LAZY_TRAMPOLINE ret name params {                                          \
        HUSK_LAZY_RESOLVE(lib, ret, name, params)                                   \
        return f args;                                                              \
    }

/* The same for a function returning void. */
#define HUSK_LAZY_VOID(lib, name, params, args)                                     \
    static void(*husk_lazy_##name) params = NULL;                                   \
    HUSK_LAZY_TRAMPOLINE void name params {                                         \
        HUSK_LAZY_RESOLVE(lib, void, name, params)                                  \
        f args;                                                                     \
    }

/* Resolves NAME now (declared by HUSK_LAZY or HUSK_LAZY_VOID above it): for a
 * process that confines itself before its first call. */
#define HUSK_LAZY_NOW(lib, ret, name, params)                                       \
    do {                                                                            \
        HUSK_LAZY_RESOLVE(lib, ret, name, params)                                   \
        (void)f;                                                                    \
    } while (0)
#endif
