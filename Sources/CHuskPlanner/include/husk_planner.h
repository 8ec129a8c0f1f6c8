#ifndef HUSK_PLANNER_H
#define HUSK_PLANNER_H
/* The warm planner (DESIGN.md §1, "Fast starts"): a per-user process of
 * husk-plan that plans container starts for the launcher (the `husk`
 * program), so that a start does not load the Swift program. Shared by the
 * launcher (C) and husk-plan (Swift): where a planner listens, and the
 * messages between them. Linux only. */
#include <stddef.h>
#include <sys/types.h>

/* Where Husk keeps its runtime state, as HuskPaths does from the
 * environment: $XDG_RUNTIME_DIR/husk, else ${TMPDIR:-/tmp}/husk-UID.
 * 0, or -1 when it does not fit in SIZE. */
int husk_planner_runtime(char *out, size_t size);

/* The socket of the planner for PROGRAM (husk-plan) in RUNTIME, for this
 * process's context: "RUNTIME/planner-HASH", where HASH covers PROGRAM's
 * identity (device, inode, size, times), this process's ids, groups,
 * namespaces and cgroup. A launcher finds only a planner of the same
 * husk-plan in the same context; the planner still checks each request's.
 * 0, or -1 (errno) when something cannot be read or the path is too long. */
int husk_planner_socket(char *out, size_t size, const char *runtime, const char *program);

/* Message kinds, the first byte of every message. */
enum {
    HUSK_PLANNER_REQUEST = 'R', /* launcher: int32 count, int32 fds[count]; SCM_RIGHTS 0, 1, 2 */
    HUSK_PLANNER_PLAN = 'P',    /* planner: int32 count, int32 keep[count], starter path; SCM_RIGHTS the plan */
    HUSK_PLANNER_EXIT = 'E',    /* planner: int32 exit status (the reason is on the launcher's stderr) */
    HUSK_PLANNER_FULL = 'F',    /* planner: this start needs the full program */
};

/* Largest message: the descriptor list and a path. */
#define HUSK_PLANNER_MESSAGE_MAX 8192
#define HUSK_PLANNER_FDS_MAX 1024

/* What plans a start in the forked child: CONN to reply on, the
 * launcher's command line, and the NFDS descriptor numbers it passes on.
 * The child already has the launcher's standard descriptors, working
 * directory, umask and environment; it must not return. */
typedef void (*husk_planner_child)(int conn, int argc, char **argv, int nfds, const int *fds);

/* Makes this process not dumpable and names it husk-planner, then serves
 * SOCKET (a path in a verified private directory) until no request came
 * for IDLE seconds and no start is being planned, SOCKET no longer names
 * its socket, or it is told to stop (SIGTERM, SIGINT, SIGHUP). Each
 * connection from a process of this user is handed to a forked child,
 * which takes the request, checks that the launcher's context (ids,
 * groups, capabilities, no_new_privs, seccomp, namespaces, root, cgroup,
 * limits, security label, personality) is this process's, takes on the
 * launcher's standard descriptors, directory, umask and environment, and
 * calls CHILD; any of that failing answers HUSK_PLANNER_FULL. When the
 * child ends without sending a plan, the launcher is sent its exit status
 * (HUSK_PLANNER_EXIT), or HUSK_PLANNER_FULL when it was killed. SOCKET's
 * lock is descriptor 3 when husk_spawn_planner started this process.
 * Returns 0 when done, -1 (errno) when SOCKET cannot be served; 1 when
 * another planner holds it. */
int husk_planner_serve(const char *socket, int idle, husk_planner_child child);

/* Whether a planner answers at SOCKET (connect succeeds). */
int husk_planner_reachable(const char *socket);

/* SOCKET's lock (SOCKET.lock), taken without waiting: its holder is the
 * planner, or the start that is starting it (husk_spawn_planner hands it
 * on as descriptor 3), so that the ranks of a job start one planner
 * between them. -1 when another process holds it or it cannot be made. */
int husk_planner_lock(const char *socket);

/* Sends KIND, the COUNT NUMBERS (as int32), TEXT (NUL-terminated, or none)
 * and NFDS (1 to 3) descriptors FDS: the request (the launcher) and the
 * plan. 0, or -1. */
int husk_planner_send_message(int conn, char kind, const int *numbers, int count, const char *text, const int *fds,
                              int nfds);

/* Replies with the plan (PLANFD), the descriptors the starter keeps and
 * its path; or with KIND (HUSK_PLANNER_EXIT with STATUS, HUSK_PLANNER_FULL).
 * 0, or -1. */
int husk_planner_send_plan(int conn, int planfd, const int *keep, int nkeep, const char *starter);
int husk_planner_send(int conn, char kind, int status);
#endif
