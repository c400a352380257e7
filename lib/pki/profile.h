/* The certificate profile: what a CA operator decides once and every
 * certificate of a batch follows — validity, digest, key type for new key
 * pairs, key usage, extended key usage, certificate policies, CRL
 * distribution point and AIA URLs. Read from YAML with libyaml; an error
 * names the file and line. */
#ifndef CB_PROFILE_H
#define CB_PROFILE_H

#include <stddef.h>

#include "cb_err.h"

/* Limits of Nghị định 68/2024/NĐ-CP Điều 9. */
#define CB_MAX_ISSUE_MONTHS 60
#define CB_MAX_RENEW_MONTHS 36

typedef struct cb_strlist {
    size_t n;
    char **v;
} cb_strlist;

typedef struct cb_profile {
    char *name;
    char *digest;            /* "sha256", "sha384", "sha512" */
    int validity_months;     /* new certificates, 1..60 */
    int renew_months;        /* extension of a renewal, 1..36 */
    char *key_alg;           /* rsa2048 | rsa3072 | ec-p256 */
    cb_strlist key_usage;    /* OpenSSL names: digitalSignature, nonRepudiation, ... */
    cb_strlist ext_key_usage;/* short names or dotted OIDs: clientAuth, emailProtection, ... */
    cb_strlist policies;     /* dotted OIDs */
    cb_strlist crl_urls;
    cb_strlist ocsp_urls;
    cb_strlist ca_issuers_urls;
} cb_profile;

/* The built-in profile: SHA-256, 36 months, renewals by 36 months, RSA-2048,
 * digitalSignature + nonRepudiation, clientAuth + emailProtection, no
 * policies or URLs. */
int cb_profile_defaults(cb_profile *p, cb_err *err);

/* Loads a YAML profile over the defaults: a mapping whose keys are name,
 * digest, validity_months, renew_months, key_alg, key_usage,
 * extended_key_usage, policies, crl_urls, ocsp_urls, ca_issuers_urls
 * (lists as YAML sequences, a single value accepted for one). Unknown keys
 * and bad values are EX_DATAERR `FILE:LINE: what is wrong`. */
int cb_profile_load_file(cb_profile *p, const char *path, cb_err *err);
int cb_profile_load_buffer(cb_profile *p, const char *label, const char *text, size_t len,
                           cb_err *err);
void cb_profile_free(cb_profile *p);

/* 1 when s is rsa2048, rsa3072 or ec-p256. */
int cb_key_alg_valid(const char *s);

#endif
