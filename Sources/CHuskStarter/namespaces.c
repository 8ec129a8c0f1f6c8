/* Namespaces beyond user and mount, asked for with --net, --ipc, --uts. */
#define _GNU_SOURCE
#include "namespaces.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

/* A new network namespace has only a loopback device, and it is down. */
static void loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail_errno(errno, NULL, "opening a socket to configure lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        fail_errno(errno, NULL, "reading the flags of lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        fail_errno(errno, NULL, "bringing lo up");
    close(fd);
}

void enter_extra_namespaces(const struct plan *plan) {
    int flags = (plan->net ? CLONE_NEWNET : 0) | (plan->ipc ? CLONE_NEWIPC : 0) |
                (plan->uts ? CLONE_NEWUTS : 0);
    if (flags && unshare(flags) < 0)
        fail_errno(errno, NULL, "unshare(%s%s%s)", plan->net ? "CLONE_NEWNET " : "",
                   plan->ipc ? "CLONE_NEWIPC " : "", plan->uts ? "CLONE_NEWUTS" : "");
    if (plan->net)
        loopback_up();
    if (plan->uts && plan->hostname && sethostname(plan->hostname, strlen(plan->hostname)) < 0)
        fail_errno(errno, NULL, "setting the host name to %s", plan->hostname);
}
