/* PKCS#11 tokens through the OpenSSL engine: see pkcs11.h. The deprecated
 * ENGINE calls are allowed here alone. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "pkcs11.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/engine.h>
#include <openssl/err.h>

struct cb_pkcs11 {
    ENGINE *e;
};

cb_pkcs11 *cb_pkcs11_open(const char *module, const char *pin, cb_err *err)
{
    cb_pkcs11 *p = calloc(1, sizeof *p);
    if (p == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    ENGINE_load_builtin_engines();
    p->e = ENGINE_by_id("pkcs11");
    if (p->e == NULL) {
        cb_err_ssl(err, EX_UNAVAILABLE,
                   "cannot load the OpenSSL PKCS#11 engine (install libengine-pkcs11-openssl)");
        free(p);
        return NULL;
    }
    if (module != NULL && !ENGINE_ctrl_cmd_string(p->e, "MODULE_PATH", module, 0)) {
        cb_err_ssl(err, EX_UNAVAILABLE, "PKCS#11 module %s", module);
        ENGINE_free(p->e);
        free(p);
        return NULL;
    }
    if (pin != NULL && !ENGINE_ctrl_cmd_string(p->e, "PIN", pin, 0)) {
        cb_err_ssl(err, EX_SOFTWARE, "cannot give the PIN to the PKCS#11 engine");
        ENGINE_free(p->e);
        free(p);
        return NULL;
    }
    if (!ENGINE_init(p->e)) {
        cb_err_ssl(err, EX_UNAVAILABLE, "cannot initialise the PKCS#11 engine%s%s",
                   module ? " with " : "", module ? module : "");
        ENGINE_free(p->e);
        free(p);
        return NULL;
    }
    return p;
}

EVP_PKEY *cb_pkcs11_load_key(cb_pkcs11 *p, const char *uri, cb_err *err)
{
    /* With no UI method the engine cannot prompt: a missing or wrong PIN
     * fails instead of waiting on a terminal in a nightly job. */
    EVP_PKEY *k = ENGINE_load_private_key(p->e, uri, NULL, NULL);
    if (k == NULL) {
        cb_err_ssl(err, EX_DATAERR, "cannot use the key %s in the token (wrong PIN, or no such key)", uri);
    }
    return k;
}

void cb_pkcs11_close(cb_pkcs11 *p)
{
    if (p == NULL)
        return;
    ENGINE_finish(p->e);
    ENGINE_free(p->e);
    free(p);
}
