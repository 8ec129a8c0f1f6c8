#ifndef HUSK_LAZY_LIBRARY_H
#define HUSK_LAZY_LIBRARY_H
/* A C library that only some commands use is opened on its first call rather
 * than by the dynamic loader at every start: libarchive brings libxml2, ICU,
 * nettle and five more with it, GPGME two more, and a container start uses
 * none of them (Integration/bench/results/breakdown.md). Each function Husk
 * calls gets a trampoline of the same name and prototype (checked against
 * the library's own header), which finds the real function once with dlsym. */

struct husk_lazy_library {
    const char *soname;   /* what dlopen asks for, e.g. "libarchive.so.13" */
    const char *package;  /* the Debian package named when it is missing */
    void *handle;         /* set once, under a lock */
};

/* SYMBOL from LIB, opening LIB on first use (thread-safe). When the library
 * or the symbol is missing: one line on stderr and exit status 127. */
void *husk_lazy_symbol(struct husk_lazy_library *lib, const char *symbol);

/* The pointer is cached per function; racing first calls store the same value. */
#define HUSK_LAZY_POINTER(lib, ret, name, params)                                   \
    static ret(*real) params = NULL;                                                \
    ret(*f) params = __atomic_load_n(&real, __ATOMIC_ACQUIRE);                      \
    if (f == NULL) {                                                                \
        f = (ret(*) params)husk_lazy_symbol(&(lib), #name);                         \
        __atomic_store_n(&real, f, __ATOMIC_RELEASE);                               \
    }

/* A trampoline for a function returning RET; ARGS names PARAMS' parameters. */
#define HUSK_LAZY(lib, ret, name, params, args)                                     \
    ret name params {                                                               \
        HUSK_LAZY_POINTER(lib, ret, name, params)                                   \
        return f args;                                                              \
    }

/* The same for a function returning void. */
#define HUSK_LAZY_VOID(lib, name, params, args)                                     \
    void name params {                                                              \
        HUSK_LAZY_POINTER(lib, void, name, params)                                  \
        f args;                                                                     \
    }
#endif
