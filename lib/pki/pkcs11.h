/* Keys in hardware tokens (PKCS#11), through the OpenSSL PKCS#11 engine
 * (Debian's libengine-pkcs11-openssl, libp11). This pair is the only place in
 * certbatch that uses the deprecated ENGINE API: OpenSSL 3.0 has no PKCS#11
 * provider in Debian 12, and the engine is what tokens are driven with. */
#ifndef CB_PKCS11_H
#define CB_PKCS11_H

#include <openssl/evp.h>

#include "cb_err.h"

typedef struct cb_pkcs11 cb_pkcs11;

/* Loads and initialises the engine. module is the PKCS#11 library
 * (e.g. /usr/lib/softhsm/libsofthsm2.so); NULL lets the engine pick its
 * default (p11-kit). pin may be NULL when the URI carries none. */
cb_pkcs11 *cb_pkcs11_open(const char *module, const char *pin, cb_err *err);

/* The private key named by a pkcs11: URI (RFC 7512). A wrong PIN or an
 * unknown object is EX_DATAERR. The key stays usable until cb_pkcs11_close. */
EVP_PKEY *cb_pkcs11_load_key(cb_pkcs11 *p, const char *uri, cb_err *err);

void cb_pkcs11_close(cb_pkcs11 *p);

#endif
