/* Turning request records into certificates with the CA key: the issuer
 * (CA certificate, key and profile, with the extensions every certificate of
 * the batch shares built once) and one job per request — issue (new key
 * pair or the subscriber's CSR, PKCS#12 under a fresh PIN, pin.h) or renew
 * (same subject and public key, new serial, validity extended, the old
 * certificate found in a certindex.h). Jobs touch nothing shared but
 * read-only state, so a batch of them runs on several threads
 * (parallel.h) and the program writes the results in input order. */
#ifndef CB_ISSUE_H
#define CB_ISSUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cb_err.h"
#include "certindex.h"
#include "date.h"
#include "pin.h"
#include "profile.h"
#include "record.h"
#include "serial.h"

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

/* A file name from a request id: ASCII letters, digits, '.', '-' and '_'
 * kept, anything else '_', no leading dot. 0, or -1 when it is longer
 * than outlen-1 bytes (out then holds the start: another request's name). */
int cb_issue_file_name(const char *request_id, char *out, size_t outlen);

/* A certificate's time (UTCTime or GeneralizedTime) as seconds since the
 * epoch; 0 for NULL or an unreadable time. */
int64_t cb_asn1_time_instant(const ASN1_TIME *t);

#endif
