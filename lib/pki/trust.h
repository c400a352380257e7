/* Trust decisions for every program that judges a certificate (scan-expiry,
 * split-updates, sign-batch verify): RFC 5280 path validation by OpenSSL's
 * X509_verify_cert, with inputs an auditor can name.
 *
 * --ca certificates are trust anchors, and only the self-signed ones unless
 * partial_chain is set (a non-self-signed --ca certificate is then an
 * intermediate like the --chain ones, and a warning says so). --chain
 * certificates, and CA certificates met in the input, are untrusted
 * intermediates: they help build a path, they are never its end. With CRLs,
 * revocation is checked for every certificate of the path (CRL_CHECK_ALL),
 * each CRL verified with a key path building finds (a separate CRL-signing
 * certificate, a re-keyed CA), delta CRLs used; a CRL that is missing,
 * stale, badly signed or carries an unknown critical extension leaves the
 * certificate untrusted, unless crl_optional. The checks are those of
 * `openssl verify -x509_strict -crl_check_all -extended_crl -use_deltas
 * -attime`, so that the openssl CLI can judge us. */
#ifndef CB_TRUST_H
#define CB_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "cb_err.h"

typedef enum cb_trust_leaf {
    CB_TRUST_LEAF_DATES = 0,         /* the certificate itself must be valid at the instant */
    CB_TRUST_LEAF_MAY_START_LATER,   /* ... or not valid yet (a renewal starts when the old one ends) */
    CB_TRUST_LEAF_ANY_DATES,         /* its own dates are judged by the caller (scan-expiry) */
} cb_trust_leaf;

typedef struct cb_trust_opts {
    int partial_chain;     /* a non-self-signed --ca certificate is an anchor too */
    int crl_optional;      /* a certificate whose CRL is missing or unusable is not untrusted */
    cb_trust_leaf leaf;
    int lang_vi;           /* problems in Vietnamese */
} cb_trust_opts;

typedef enum cb_trust_verdict {
    CB_TRUST_OK = 0,
    CB_TRUST_REVOKED,      /* the certificate itself is on its issuer's CRL */
    CB_TRUST_UNTRUSTED,    /* no valid path to an anchor, or revocation unknown */
} cb_trust_verdict;

typedef struct cb_trust_result {
    cb_trust_verdict verdict;
    int error;             /* OpenSSL's X509_V_ERR_*, 0 when OK */
    int depth;             /* where in the path (0: the certificate itself) */
    char problem[640];     /* empty when OK, else a sentence for the operator */
    unsigned long generation;  /* cb_trust_generation when it was judged */
} cb_trust_result;

typedef struct cb_trust cb_trust;

cb_trust *cb_trust_new(const cb_trust_opts *opts, cb_err *err);
void cb_trust_free(cb_trust *t);

/* --ca FILE, --chain FILE, --crl FILE: PEM (any number of blocks), DER, or
 * for certificates PKCS#7 too. A file without any is EX_DATAERR, a missing
 * one EX_NOINPUT. */
int cb_trust_add_anchors(cb_trust *t, const char *path, cb_err *err);
int cb_trust_add_chain(cb_trust *t, const char *path, cb_err *err);
int cb_trust_add_crls(cb_trust *t, const char *path, cb_err *err);

/* All of a program's trust options at once: cas, chains and crls are
 * arrays of file names (counts may be 0, except that at least one anchor
 * must result). */
int cb_trust_load(cb_trust *t, const char *const *cas, int nca, const char *const *chains, int nchain,
                  const char *const *crls, int ncrl, cb_err *err);

/* Number of anchors loaded. */
int cb_trust_anchor_count(const cb_trust *t);

/* What the operator should know about the trust inputs once all are loaded
 * (a CRL whose issuer is none of the --ca and --chain certificates, a
 * non-self-signed --ca certificate used as an intermediate): the i-th
 * warning, or NULL past the last. Valid while t lives. */
const char *cb_trust_warning(cb_trust *t, size_t i);

/* A CA certificate found in the input: an untrusted intermediate from now
 * on (the caller keeps its reference). Certificates that are no CA are
 * ignored. Returns 0, or -1 when out of memory. */
int cb_trust_add_intermediate(cb_trust *t, X509 *x, cb_err *err);

/* Judges x at instant t (seconds since the epoch). Returns the verdict,
 * also in res, or -1 (err set) when OpenSSL could not run at all. */
int cb_trust_verify(cb_trust *t, X509 *x, int64_t at, cb_trust_result *res, cb_err *err);

/* How many intermediates cb_trust_add_intermediate added so far: a verdict
 * judged at an older generation may differ from one judged now. */
unsigned long cb_trust_generation(cb_trust *t);
const cb_trust_opts *cb_trust_options(const cb_trust *t);

/* The full verifier, for lib/trustfast.c and threads: as cb_trust_verify,
 * in ctx (a thread's own), with x among the intermediates if with_self and
 * x is a CA not added yet, and when chain is not NULL and the path
 * verifies, *chain the path found (the caller frees it with
 * sk_X509_pop_free(chain, X509_free)). Threads may verify at once;
 * cb_trust_add_intermediate waits for them. */
int cb_trust_verify_in(cb_trust *t, X509_STORE_CTX *ctx, X509 *x, int with_self, int64_t at,
                       cb_trust_result *res, STACK_OF(X509) **chain, cb_err *err);

/* What the fast path needs of the CRLs: whether any was loaded (revocation
 * is checked), whether serial_hex (as cb_asn1_int_hex writes it) is listed
 * on any of them, whatever its issuer, and whether any has a scope (an
 * issuingDistributionPoint). */
int cb_trust_checks_crls(const cb_trust *t);
int cb_trust_crl_lists(const cb_trust *t, const char *serial_hex);
int cb_trust_crls_scoped(const cb_trust *t);

/* The store (anchors, CRLs and flags) and the intermediates, for an OpenSSL
 * API that verifies by itself (CMS_verify). Owned by t. */
X509_STORE *cb_trust_store(cb_trust *t);
STACK_OF(X509) *cb_trust_intermediates(cb_trust *t);

#endif
