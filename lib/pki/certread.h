/* The one certificate reader of the library (scan-expiry, split-updates,
 * the trust files): a PEM stream (RFC 7468: certificate and PKCS7 blocks,
 * text around them ignored, other blocks reported as skipped), DER
 * certificates one after another, or a PKCS#7 SignedData (.p7b/.p7c) in DER
 * or PEM, from a file or stdin. Each item counts from 1 in its file, so
 * that a program labels it FILE#N. Certificates come as DER, so that a
 * caller that needs only names and dates never decodes a key
 * (lib/pki/certinfo.h); cb_certs_next decodes them for the others. */
#ifndef CB_CERTREAD_H
#define CB_CERTREAD_H

#include <stddef.h>

#include <openssl/x509.h>

#include "cb_err.h"

enum {
    CB_CERTS_FATAL = -1,       /* read error: stop (err says why) */
    CB_CERTS_EOF = 0,
    CB_CERTS_CERT = 1,         /* a certificate */
    CB_CERTS_UNREADABLE = 2,   /* an item that is not a certificate: err says why */
    CB_CERTS_SKIPPED = 3,      /* a PEM block of another kind (a key, a request): its label in err */
};

typedef struct cb_certs_reader cb_certs_reader;

/* path "-" or NULL is stdin. The format is found from the content. A
 * missing file is EX_NOINPUT. */
cb_certs_reader *cb_certs_open(const char *path, cb_err *err);
void cb_certs_close(cb_certs_reader *r);

/* The next item. For a certificate, *der and *len (valid until the next
 * call) hold its DER; *line is the line of its PEM block (0 for DER input;
 * a PKCS#7 block's line for its certificates); *index counts the
 * certificates and unreadable items of the file from 1. */
int cb_certs_next_der(cb_certs_reader *r, const unsigned char **der, size_t *len, long *line,
                      long *index, cb_err *err);

/* The same, decoded: *cert is the caller's to free. Skipped blocks are
 * passed over. */
int cb_certs_next(cb_certs_reader *r, X509 **cert, long *line, long *index, cb_err *err);

/* Name of the input for messages ("stdin" for standard input). */
const char *cb_certs_name(const cb_certs_reader *r);
/* Number of PEM blocks seen, of any kind (0: "no PEM block found"). */
long cb_certs_blocks(const cb_certs_reader *r);
/* 1 when the input had no byte at all. */
int cb_certs_empty(const cb_certs_reader *r);

#endif
