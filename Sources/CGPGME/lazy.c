/* GPGME, opened when Husk first signs or checks an OpenPGP signature: every
 * GPGME function Husk calls, as a trampoline (husk_lazy_library.h). A
 * function missing here fails the link, so the list cannot fall behind. */
#include "CGPGME.h"
#include "CHuskShim.h"
#include "husk_lazy_library.h"

static struct husk_lazy_library gpgme = {"libgpgme.so.11", "libgpgme11", 127, husk_cleanup_now, NULL};

/* C callers get a macro of this name; Swift calls the function itself. */
#undef gpgme_check_version
HUSK_LAZY(gpgme, const char *, gpgme_check_version, (const char *version), (version))
HUSK_LAZY(gpgme, const char *, gpgme_strerror, (gpgme_error_t err), (err))
HUSK_LAZY(gpgme, gpgme_error_t, gpgme_new, (gpgme_ctx_t *ctx), (ctx))
HUSK_LAZY_VOID(gpgme, gpgme_release, (gpgme_ctx_t ctx), (ctx))
HUSK_LAZY(gpgme, gpgme_error_t, gpgme_set_protocol, (gpgme_ctx_t ctx, gpgme_protocol_t protocol), (ctx, protocol))
HUSK_LAZY(gpgme, gpgme_error_t, gpgme_ctx_set_engine_info,
          (gpgme_ctx_t ctx, gpgme_protocol_t protocol, const char *file, const char *home),
          (ctx, protocol, file, home))

HUSK_LAZY(gpgme, gpgme_error_t, gpgme_data_new_from_mem, (gpgme_data_t *data, const char *buffer, size_t size, int copy),
          (data, buffer, size, copy))
HUSK_LAZY(gpgme, ssize_t, gpgme_data_read, (gpgme_data_t data, void *buffer, size_t size), (data, buffer, size))
HUSK_LAZY(gpgme, off_t, gpgme_data_seek, (gpgme_data_t data, off_t offset, int whence), (data, offset, whence))
HUSK_LAZY_VOID(gpgme, gpgme_data_release, (gpgme_data_t data), (data))

HUSK_LAZY(gpgme, gpgme_error_t, gpgme_get_key, (gpgme_ctx_t ctx, const char *fingerprint, gpgme_key_t *key, int secret),
          (ctx, fingerprint, key, secret))
HUSK_LAZY_VOID(gpgme, gpgme_key_unref, (gpgme_key_t key), (key))
HUSK_LAZY(gpgme, gpgme_error_t, gpgme_signers_add, (gpgme_ctx_t ctx, const gpgme_key_t key), (ctx, key))
HUSK_LAZY_VOID(gpgme, gpgme_signers_clear, (gpgme_ctx_t ctx), (ctx))

HUSK_LAZY(gpgme, gpgme_error_t, gpgme_op_import, (gpgme_ctx_t ctx, gpgme_data_t keys), (ctx, keys))
HUSK_LAZY(gpgme, gpgme_import_result_t, gpgme_op_import_result, (gpgme_ctx_t ctx), (ctx))
HUSK_LAZY(gpgme, gpgme_error_t, gpgme_op_sign, (gpgme_ctx_t ctx, gpgme_data_t plain, gpgme_data_t sig, gpgme_sig_mode_t mode),
          (ctx, plain, sig, mode))
HUSK_LAZY(gpgme, gpgme_sign_result_t, gpgme_op_sign_result, (gpgme_ctx_t ctx), (ctx))
HUSK_LAZY(gpgme, gpgme_error_t, gpgme_op_verify,
          (gpgme_ctx_t ctx, gpgme_data_t sig, gpgme_data_t signed_text, gpgme_data_t plaintext),
          (ctx, sig, signed_text, plaintext))
HUSK_LAZY(gpgme, gpgme_verify_result_t, gpgme_op_verify_result, (gpgme_ctx_t ctx), (ctx))
