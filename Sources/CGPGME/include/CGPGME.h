#ifndef HUSK_CGPGME_H
#define HUSK_CGPGME_H
/* OpenPGP through GnuPG's GPGME (DESIGN.md §5): never hand-written. Opened
   on first use (lazy.c). */
#include <gpgme.h>

/* gpgme_err_code is an inline function Swift imports; the error codes it
   returns are enum constants (GPG_ERR_NO_ERROR, GPG_ERR_BAD_SIGNATURE...). */
static inline unsigned husk_gpgme_code(gpgme_error_t err) { return (unsigned)gpgme_err_code(err); }
#endif
