/* Taking a private copy, ahead of time, of the pages a forked child shares
   with its parent (husk_planner_own_pages in planner_internal.h). */
#define _GNU_SOURCE
#include "planner_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes each resident page of one writable private mapping [START, END)
   back with its own first byte: the kernel copies it now, not when the
   planning code first writes it. */
static void own_range(unsigned char *start, unsigned char *end, size_t page) {
    unsigned char resident[256];
    for (unsigned char *at = start; at < end;) {
        size_t pages = (size_t)(end - at) / page;
        if (pages > sizeof resident)
            pages = sizeof resident;
        if (mincore(at, pages * page, resident) != 0)
            return;
        for (size_t i = 0; i < pages; i++)
            if (resident[i] & 1) {
                volatile unsigned char *p = at + i * page;
                *p = *p;
            }
        at += pages * page;
    }
}

void husk_planner_own_pages(void) {
    FILE *maps = fopen("/proc/self/maps", "re");
    if (!maps)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end, offset, inode;
        char perms[5], device[16];
        if (sscanf(line, "%lx-%lx %4s %lx %15s %lu", &start, &end, perms, &offset, device, &inode) != 6)
            continue;
        /* rw-p: written (or writable) by this process alone; [vvar] and
           the like are not writable, shared mappings are not copied.
           Anonymous only (inode 0: the heap, the stack, .bss): a file's
           pages count as resident whether or not this process wrote them. */
        if (strcmp(perms, "rw-p") != 0 || inode != 0)
            continue;
        own_range((unsigned char *)start, (unsigned char *)end, page);
    }
    fclose(maps);
}
