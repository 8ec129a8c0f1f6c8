/* glibc functions that Swift's Glibc module does not declare (they need
 * _GNU_SOURCE). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <unistd.h>

#include "CHuskShim.h"

int husk_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int husk_name_thread(const char *name) { return pthread_setname_np(pthread_self(), name); }

int husk_spawn_close_from(void *actions, int fd) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, fd);
}
