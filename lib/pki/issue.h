/* Turning request records into certificates with the CA key: the issuer
 * (CA certificate, key and profile, with the extensions every certificate of
 * the batch shares built once), the index of old certificates a renewal
 * looks up by serial, and one job per request — issue (new key pair or the
 * subscriber's CSR, PKCS#12 under a fresh PIN) or renew (same subject and
 * public key, new serial, validity extended). Jobs touch nothing shared but
 * read-only state, so a batch of them runs on several threads and the
 * program writes the results in input order. */
#ifndef CB_ISSUE_H
#define CB_ISSUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cb_err.h"
#include "date.h"
#include "profile.h"
#include "record.h"
#include "serial.h"

#define CB_PIN_LEN 12

typedef struct cb_issuer {
    X509 *ca;                        /* not owned */
    EVP_PKEY *key;                   /* not owned */
    const cb_profile *profile;
    const EVP_MD *md;                /* fetched, owned */
    STACK_OF(X509_EXTENSION) *exts;  /* the extensions every certificate gets */
    int64_t ca_not_after;
    int serialize_signing;           /* token keys: one signature at a time */
    EVP_MD_CTX *sign_tmpl;           /* a ready signing context, copied per certificate */
    EVP_MD *sha1, *sha256;           /* fetched once: implicit fetches take locks */
    pthread_mutex_t lock;
} cb_issuer;

/* Checks that key belongs to ca and builds the shared extensions.
 * serialize_signing for keys in a token, whose engine is not known to be
 * thread-safe. */
int cb_issuer_init(cb_issuer *is, X509 *ca, EVP_PKEY *key, const cb_profile *profile,
                   int serialize_signing, cb_err *err);
void cb_issuer_free(cb_issuer *is);

/* Old certificates by serial, for renewals. */
typedef struct cb_certindex cb_certindex;
cb_certindex *cb_certindex_new(void);
/* Adds every certificate of a PEM bundle or DER file, or of every regular
 * file in a directory (files without a certificate are skipped there). */
int cb_certindex_add_path(cb_certindex *ix, const char *path, cb_err *err);
size_t cb_certindex_count(const cb_certindex *ix);
/* Sorts; call once after the last add, before lookups. */
void cb_certindex_seal(cb_certindex *ix);
/* The DER of the certificate with this serial (hex, any case, colons and
 * leading zeros ignored), borrowed from the index: 1 when found, else 0. */
int cb_certindex_find_der(const cb_certindex *ix, const char *serial, const unsigned char **der,
                          size_t *len);
void cb_certindex_free(cb_certindex *ix);

/* The old name of cb_serial_key (serial.h), for sign-batch until it
 * calls that: empty for a malformed serial. */
static inline void cb_serial_normalize(const char *s, char *out, size_t outlen)
{
    cb_serial_key(s, out, outlen);
}

/* The request columns a job reads, by index in the input header (-1 when
 * the column is absent). */
typedef struct cb_issue_cols {
    int request_id, request_type, subject_type, form, full_name, org_name, agency, province,
        email, id_number, tax_code, position, old_serial, received_date, validity_months,
        csr_pem, csr_file;
} cb_issue_cols;

void cb_issue_cols_find(cb_issue_cols *c, const cb_header *h);

enum { CB_ISSUE_NEW = 1, CB_ISSUE_RENEW = 2 };

typedef struct cb_issue_ctx {
    int mode;                       /* CB_ISSUE_NEW or CB_ISSUE_RENEW */
    const cb_issuer *issuer;
    const cb_issue_cols *cols;
    const cb_certindex *old;        /* renew */
    const char *key_alg;            /* issue: rsa2048 | rsa3072 | ec-p256 */
    int want_p12;                   /* issue: package generated keys as PKCS#12 */
    int months;                     /* validity (issue) or extension (renew) unless the row asks */
    int64_t now;                    /* notBefore of every certificate */
    cb_date today;                  /* --as-of */
} cb_issue_ctx;

/* CB_JOB_AGAIN: issued by an earlier run (the ledger says so); its
 * certificate is written out again from the ledger's store, never issued
 * twice. */
enum { CB_JOB_TODO = 0, CB_JOB_OK, CB_JOB_REJECT, CB_JOB_SKIP, CB_JOB_FAIL, CB_JOB_AGAIN };

typedef struct cb_issue_job {
    cb_record *rec;
    int status;
    const char *field;              /* for a reject: the column at fault */
    char reason[512];               /* reject, skip or failure */
    char serial[80];                /* of the new certificate */
    char old_serial[80];            /* canonical, renew */
    char not_before[32], not_after[32];
    char sha256[65];
    char *subject;
    char *cert_pem;
    size_t cert_pem_len;
    unsigned char *p12;             /* DER PKCS#12, when a key was generated */
    size_t p12_len;
    char pin[CB_PIN_LEN + 1];
} cb_issue_job;

/* Does one job: fills status and the results. Never touches shared state
 * other than reading ctx. */
void cb_issue_job_run(const cb_issue_ctx *ctx, cb_issue_job *job);
/* Fills the job's results (serial, subject, dates, sha256, PEM) from a
 * certificate issued before, and sets it CB_JOB_AGAIN. 0, or -1 when the
 * DER does not decode. */
int cb_issue_job_again(const cb_issuer *is, cb_issue_job *job, const unsigned char *der, size_t len);
/* Frees the results and wipes the PIN and PKCS#12; keeps rec. */
void cb_issue_job_clear(cb_issue_job *job);

/* Calls fn(arg, i) for i in [0, n) on nthreads threads (the caller's alone
 * when nthreads <= 1). */
int cb_parallel_for(size_t n, int nthreads, void (*fn)(void *arg, size_t i), void *arg,
                    cb_err *err);

/* A file name from a request id: ASCII letters, digits, '.', '-' and '_'
 * kept, anything else '_', no leading dot; at most outlen-1 bytes. */
void cb_issue_file_name(const char *request_id, char *out, size_t outlen);

/* A fresh random PIN of CB_PIN_LEN characters, from an alphabet without
 * look-alike characters (no 0/O, 1/I/L). */
int cb_pin_generate(char out[CB_PIN_LEN + 1]);

/* instant + months, calendar months in UTC+07:00, time of day kept. */
int64_t cb_instant_add_months(int64_t t, int months);
int64_t cb_asn1_time_instant(const ASN1_TIME *t);

#endif
