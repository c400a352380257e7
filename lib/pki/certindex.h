/* Certificates found by serial: the index of old certificates a renewal
 * looks up, and the ledger's store of the certificates it issued. Each
 * entry keeps the DER as read, decoded only when asked for; serials are
 * compared by cb_serial_key (serial.h), so case, colons and leading zeros
 * do not matter. Read-only once sealed: threads may look up at once. */
#ifndef CB_CERTINDEX_H
#define CB_CERTINDEX_H

#include <stddef.h>

#include "cb_err.h"

typedef struct cb_certindex cb_certindex;

cb_certindex *cb_certindex_new(void);
/* Adds every certificate of a PEM bundle, DER or PKCS#7 file, or of every
 * regular file in a directory (files without a certificate are skipped
 * there; a file named alone without one is EX_DATAERR). */
int cb_certindex_add_path(cb_certindex *ix, const char *path, cb_err *err);
size_t cb_certindex_count(const cb_certindex *ix);
/* Sorts; call once after the last add, before lookups. */
void cb_certindex_seal(cb_certindex *ix);
/* The DER of the certificate with this serial (hex, any case, colons and
 * leading zeros ignored), borrowed from the index: 1 when found, else 0. */
int cb_certindex_find_der(const cb_certindex *ix, const char *serial, const unsigned char **der,
                          size_t *len);
void cb_certindex_free(cb_certindex *ix);

#endif
