/*
 * husk-rpmdb DBPATH BACKEND: lists the packages of an RPM database that
 * husk convert found in an image (DESIGN.md §5, package inventory).
 *
 * The database is untrusted input, so librpm reads it in this process of
 * its own rather than inside husk: once the database is open, a seccomp
 * filter takes away running programs, making processes, the network and
 * tracing, and CPU time is bounded. DBPATH is a private copy of the
 * image's database files; BACKEND is "sqlite" (Fedora, RHEL 9) or
 * "bdb_ro" (Berkeley DB: RHEL 7 and 8, CentOS).
 *
 * Output, one line per package, fields separated by tabs:
 *   NAME EPOCH VERSION RELEASE ARCH SOURCERPM
 * (EPOCH empty when the package has none, SOURCERPM empty when absent).
 * gpg-pubkey entries are keys rpm keeps in its database, not packages,
 * and are left out. Exit 0; 1 with one line on stderr when the database
 * cannot be read (damaged, or a field with control characters); 64 on
 * a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <rpm/header.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmts.h>

/* A database of a few thousand packages reads in well under a second. */
#define CPU_SECONDS 60

static int rpm_errors;
static char first_error[512];

/* librpm reports damaged headers (and skips them) through its log: any
   error makes the whole read fail, so an inventory is never silently
   short of packages. */
static int log_callback(rpmlogRec rec, rpmlogCallbackData data) {
    (void)data;
    if (rpmlogRecPriority(rec) <= RPMLOG_ERR) {
        if (rpm_errors++ == 0) {
            const char *message = rpmlogRecMessage(rec);
            /* "sqlite failure: CREATE TABLE ...: database disk image is
               malformed": the statement says nothing to the user. */
            const char *last = strrchr(message, ':');
            if (strncmp(message, "sqlite failure: ", 16) == 0 && last != NULL)
                snprintf(first_error, sizeof first_error, "sqlite:%s", last + 1);
            else
                snprintf(first_error, sizeof first_error, "%s", message);
            first_error[strcspn(first_error, "\n")] = '\0';
        }
    }
    return 0; /* handled: librpm prints nothing itself */
}

static void fail(const char *what) {
    fprintf(stderr, "husk-rpmdb: %s\n", what);
    exit(1);
}

/* After the database is open, nothing here needs to run a program, make a
   process, reach the network or trace one: a crafted database that gets
   code running in librpm cannot do those either. */
static void confine(void) {
    struct rlimit cpu = {CPU_SECONDS, CPU_SECONDS};
    if (setrlimit(RLIMIT_CPU, &cpu) != 0) fail("cannot limit CPU time");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("cannot set no_new_privs");
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) fail("cannot make a seccomp filter");
    static const char *const denied[] = {
        "execve", "execveat", "fork", "vfork", "clone", "clone3", "socket", "socketpair", "connect",
        "ptrace", "process_vm_readv", "process_vm_writev", "kill", "pidfd_open", "pidfd_send_signal",
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr == __NR_SCMP_ERROR) continue; /* not on this architecture */
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) != 0) fail("cannot add a seccomp rule");
    }
    if (seccomp_load(ctx) != 0) fail("cannot load the seccomp filter");
    seccomp_release(ctx);
}

/* A field as printed: tabs, newlines and other control characters would
   forge fields or lines, so they make the read fail. */
static const char *field(Header h, rpmTagVal tag, const char *name) {
    const char *value = headerGetString(h, tag);
    if (value == NULL) return "";
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            char message[160];
            snprintf(message, sizeof message, "a package's %s has control characters: the database is damaged or crafted", name);
            fail(message);
        }
    }
    return value;
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[2], "sqlite") != 0 && strcmp(argv[2], "bdb_ro") != 0)) {
        fprintf(stderr, "usage: husk-rpmdb DBPATH sqlite|bdb_ro\n");
        return 64;
    }
    rpmlogSetCallback(log_callback, NULL);
    if (rpmReadConfigFiles(NULL, NULL) != 0) fail("cannot read librpm's configuration (is the rpm-common package installed?)");
    /* The command line's level: above anything in a macros file. */
    rpmPushMacro(NULL, "_dbpath", NULL, argv[1], RMIL_CMDLINE);
    rpmPushMacro(NULL, "_db_backend", NULL, argv[2], RMIL_CMDLINE);

    rpmts ts = rpmtsCreate();
    rpmtsSetRootDir(ts, "/");
    /* Signatures on stored headers would need the image's keyring; the
       headers' own digests are still checked. */
    rpmtsSetVSFlags(ts, rpmtsVSFlags(ts) | RPMVSF_MASK_NOSIGNATURES);
    if (rpmtsOpenDB(ts, O_RDONLY) != 0 || rpm_errors) {
        char message[640];
        snprintf(message, sizeof message, "cannot open the database: %s", rpm_errors ? first_error : "unknown error");
        fail(message);
    }
    confine();

    rpmdbMatchIterator mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, NULL, 0);
    Header h;
    while (mi != NULL && (h = rpmdbNextIterator(mi)) != NULL) {
        const char *name = field(h, RPMTAG_NAME, "name");
        if (strcmp(name, "gpg-pubkey") == 0) continue;
        char epoch[24] = "";
        if (headerIsEntry(h, RPMTAG_EPOCH)) snprintf(epoch, sizeof epoch, "%llu", (unsigned long long)headerGetNumber(h, RPMTAG_EPOCH));
        printf("%s\t%s\t%s\t%s\t%s\t%s\n", name, epoch, field(h, RPMTAG_VERSION, "version"),
               field(h, RPMTAG_RELEASE, "release"), field(h, RPMTAG_ARCH, "arch"),
               field(h, RPMTAG_SOURCERPM, "source rpm"));
    }
    rpmdbFreeIterator(mi);
    rpmtsFree(ts);
    if (rpm_errors) {
        char message[640];
        snprintf(message, sizeof message, "the database is damaged: %s", first_error);
        fail(message);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) fail("cannot write the package list");
    return 0;
}
