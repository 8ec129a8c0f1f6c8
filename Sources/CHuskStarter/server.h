/* This user's image server on this node (plan key server=PREFIX): one
   process per image and id mapping that holds a user namespace and a mount
   namespace with the image mounted over FUSE, so that later containers of
   the image join it instead of mounting it again (warm kernel caches, one
   FUSE server for all ranks of a job, one user namespace for them).

     PREFIX.sock   the server's socket (SO_PEERCRED: only this user's
                   processes outside any container may join)
     PREFIX.lock   flock(2): one starter at a time starts a server or
                   removes a dead one's socket
     DIR/mnt       where the image is mounted inside the server's mount
                   namespace (DIR = PREFIX's directory; an empty directory on
                   the host, shared by all servers)

   Processes:

     husk-server   (the keeper) on the host: accepts joins, hands out its
                   namespaces (descriptors, SCM_RIGHTS), counts containers,
                   ends IDLE seconds after the last one (removing its socket)
     husk-fuse     serves the image until its last mount goes: the keeper's
                   namespace and every container's copy of it

   A container keeps its connection open while it runs; the keeper's end
   sees it close, whatever way the container ended.  Killing the keeper
   stops new joins; running containers keep their image (the FUSE server
   does not depend on the keeper). */
#ifndef HUSK_STARTER_SERVER_H
#define HUSK_STARTER_SERVER_H

#include <stddef.h>

#include "plan.h"

/* Join the server for PLAN's image (starting it when there is none): on
   return this process is in the server's user namespace and in a private
   copy of its mount namespace, where the image is mounted on the directory
   written to ROOT.  Returns the connection, which must stay open (and out
   of the container) while the container runs. Fails with one line. */
int server_join(const struct plan *plan, char *root, size_t rootlen);

/* prestart=1: starts the server for PLAN's image when none runs, and does
   nothing else. husk asks for it while it is still planning a first run,
   so that the server's start (namespaces, libraries, the mount) overlaps
   the rest of the planning; the container's own starter then joins it (or,
   should this have failed, starts one itself and says what is wrong). The
   caller's child leaves at once; the work is done by a grandchild whose
   output goes nowhere (husk points it at /dev/null). */
_Noreturn void server_prestart(const struct plan *plan);

/* The directory of PLAN's server= prefix (O_PATH), opened on the host: the
   starter keeps it to reach the server's files from inside the container's
   mount namespace, where Husk's state is hidden. */
int server_directory(const struct plan *plan);

/* When the container ends: if its server died meanwhile (kill -9), remove
   the dead server's socket (in DIRFD, from server_directory) so that
   nothing is left behind. */
void server_forget_if_gone(int conn, int dirfd, const char *prefix);

#endif
