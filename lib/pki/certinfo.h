/* What scan-expiry needs to know of a certificate, read fast.
 *
 * OpenSSL 3.0's d2i_X509 decodes the subject public key into an EVP_PKEY
 * through the provider machinery, which costs more than everything else
 * together; a scan only needs names, dates and extensions. So the
 * certificate is decoded with OpenSSL's own ASN.1 template machinery
 * against a template that keeps the public key as an opaque value; the full
 * X509 object is built only when a path must be checked (--ca, lib/pki/trust.h)
 * or a CRL entry matches. */
#ifndef CB_CERTINFO_H
#define CB_CERTINFO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "cb_err.h"

typedef struct cb_cert_info {
    char *serial;           /* upper-case hex as `openssl x509 -serial` prints */
    char *subject_cn, *subject_o, *subject_ou, *subject_l, *subject_st;
    char *email;            /* the first subject emailAddress, else the first SAN rfc822Name */
    int more_emails;        /* further emailAddress attributes, not in email */
    char *uid;              /* subject UID attribute */
    char *issuer_cn;
    int64_t not_before, not_after;   /* POSIX instants */
    unsigned char sha256[32];
} cb_cert_info;

/* Digest context reused across certificates (fetching SHA-256 once). */
typedef struct cb_certinfo_ctx {
    EVP_MD *sha256;
} cb_certinfo_ctx;

int cb_certinfo_ctx_init(cb_certinfo_ctx *ctx, cb_err *err);
void cb_certinfo_ctx_free(cb_certinfo_ctx *ctx);

/* Parses a DER certificate. On failure err says why in a sentence: also
 * when a subject attribute scan-expiry reports (or the issuer's CN) is not
 * valid text, never a record with that field empty. */
int cb_cert_info_parse(cb_certinfo_ctx *ctx, const unsigned char *der, size_t len,
                       cb_cert_info *ci, cb_err *err);
void cb_cert_info_clear(cb_cert_info *ci);

/* Hex of an ASN.1 INTEGER the way `openssl x509 -noout -serial` prints it:
 * upper case, two digits a byte, "00" for zero, '-' before a negative one.
 * Returns a malloc'ed string. */
char *cb_asn1_int_hex(const ASN1_INTEGER *ai);

/* The serial of a DER certificate, as cb_asn1_int_hex writes it, read
 * without decoding the rest (for indexes of many certificates); NULL when
 * the bytes are not a certificate's beginning. */
char *cb_der_cert_serial(const unsigned char *der, size_t len);

/* The DER elements of a certificate, located without decoding them, so a
 * program can decode just the parts it needs (OpenSSL 3.0's d2i_X509 also
 * decodes the public key, the costly part). Each pointer is into der, with
 * the element's whole length (header included). */
typedef struct cb_cert_slices {
    const unsigned char *tbs, *tbs_sig_alg, *serial, *issuer, *validity, *subject, *spki;
    const unsigned char *exts;       /* the SEQUENCE inside [3], or NULL */
    const unsigned char *sig_alg, *sig;
    size_t tbs_len, tbs_sig_alg_len, serial_len, issuer_len, validity_len, subject_len,
        spki_len, exts_len, sig_alg_len, sig_len;
} cb_cert_slices;

/* 0, or -1 when der is not a DER certificate. */
int cb_cert_slice(const unsigned char *der, size_t len, cb_cert_slices *s);

/* Revocation lists keyed by serial, for a fast "is it revoked?". */
typedef struct cb_crlset cb_crlset;
cb_crlset *cb_crlset_new(void);
void cb_crlset_free(cb_crlset *set);
/* Loads a CRL in PEM or DER, unverified: the fast "is it listed?" of a
 * scan without trust anchors (lib/pki/trust.h checks CRLs with --ca). */
int cb_crlset_load(cb_crlset *set, const char *path, cb_err *err);
/* 1 when the certificate (DER) is revoked by a loaded CRL of its issuer. */
int cb_crlset_is_revoked(const cb_crlset *set, const char *serial_hex,
                         const unsigned char *der, size_t len);

#endif
