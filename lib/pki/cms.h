/* Signing and checking the batch files the province and the centre send each
 * other (the proposal list, the update file): a detached CMS (PKCS#7)
 * SignedData in PEM, the same thing `openssl cms -sign -binary -outform PEM`
 * makes, so either side can check with the openssl CLI or with us. */
#ifndef CB_CMS_H
#define CB_CMS_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cb_err.h"

/* Signs the bytes of data (exactly as they are: binary mode) with key and
 * its certificate cert, which goes into the signature with chain (may be
 * NULL); writes the PEM signature to out. */
int cb_cms_sign(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain, BIO *data, BIO *out,
                cb_err *err);

/* Checks the detached signature in sig (PEM or DER) over the bytes of the
 * file data_path (NULL: data is read from the stdin stream given as data_fp)
 * against the trust anchors in ca_file. On success signer gets the signer's
 * subject. A signature made in text mode (openssl cms -sign without
 * -binary, which signs the data with CRLF line ends) is accepted too.
 * A changed file or signature is EX_DATAERR with a message saying so. */
int cb_cms_verify(const char *ca_file, const char *sig_path, const char *data_path, FILE *data_fp,
                  char *signer, size_t signer_len, cb_err *err);

#endif
