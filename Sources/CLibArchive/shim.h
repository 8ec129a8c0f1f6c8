#ifndef HUSK_CLIBARCHIVE_SHIM_H
#define HUSK_CLIBARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
