#ifndef HUSK_CLIBRPM_SHIM_H
#define HUSK_CLIBRPM_SHIM_H
/* RPM package databases (sqlite, and Berkeley DB read-only) through
   librpm, for the package inventory (DESIGN.md §5): never hand-parsed. */
#include <rpm/rpmlib.h>
#include <rpm/rpmts.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmlog.h>
#include <rpm/header.h>
#endif
