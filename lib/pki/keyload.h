/* Loading the keys and certificates a signer needs: the CA (or batch
 * signer's) private key from a PEM file, encrypted or not, or from a
 * hardware token named by a pkcs11: URI; its passphrase or PIN from a file,
 * a file descriptor or an environment variable, never from argv; and
 * certificates from PEM or DER files. */
#ifndef CB_KEYLOAD_H
#define CB_KEYLOAD_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cb_err.h"
#include "pkcs11.h"

/* Where a secret comes from; the first one set wins: file, fd, env. */
typedef struct cb_secret_src {
    const char *file;   /* path, or NULL */
    int fd;             /* -1 when not given */
    const char *env;    /* name of an environment variable, or NULL */
} cb_secret_src;

/* Reads the secret (its first line, without the line end) into *out, a
 * malloc'd string to give back with cb_secret_free; *out is NULL when no
 * source is set. Returns 0, or -1. */
int cb_secret_read(const cb_secret_src *src, char **out, cb_err *err);
/* Wipes and frees. */
void cb_secret_free(char *s);

typedef struct cb_signing_key {
    EVP_PKEY *pkey;
    cb_pkcs11 *token;    /* non-NULL for a key in a token */
} cb_signing_key;

/* spec is a file name or a pkcs11: URI; secret the passphrase or PIN (may
 * be NULL); module the PKCS#11 library for a URI (NULL: the engine's
 * default). A wrong or missing passphrase is EX_DATAERR. */
int cb_key_load(cb_signing_key *k, const char *spec, const char *secret, const char *module,
                cb_err *err);
void cb_key_free(cb_signing_key *k);

/* The first certificate in a PEM or DER file. */
X509 *cb_cert_load(const char *path, cb_err *err);

/* All certificates of a PEM bundle or a DER file, appended to certs.
 * Returns how many, or -1 (EX_NOINPUT, EX_IOERR, EX_DATAERR). */
int cb_certs_load(const char *path, STACK_OF(X509) *certs, cb_err *err);


#endif
