#ifndef HUSK_CLIBARCHIVE_H
#define HUSK_CLIBARCHIVE_H
/* libarchive for tar layers and archives (DESIGN.md §7), opened on first use
 * (lazy.c): the functions are libarchive's own declarations. */
#include <archive.h>
#include <archive_entry.h>
#endif
