/* Certificates from request records: see issue.h. */
#include "issue.h"

#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "certread.h"
#include "keyload.h"
#include "identifiers.h"
#include "vntext.h"

/* ---- time ---- */

int64_t cb_asn1_time_instant(const ASN1_TIME *t)
{
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return cb_instant_from_utc_tm(&tm);
}

int64_t cb_instant_add_months(int64_t t, int months)
{
    cb_date d = cb_date_of_instant(t);
    int64_t into_day = t - cb_date_start_instant(d);
    return cb_date_start_instant(cb_date_add_months(d, months)) + into_day;
}

/* ---- the issuer ---- */

static int join(char *buf, size_t n, const char *prefix, const cb_strlist *l, const char *each)
{
    size_t off = (size_t)snprintf(buf, n, "%s", prefix);
    for (size_t i = 0; i < l->n && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s%s", i ? "," : "", each, l->v[i]);
    return off < n ? 0 : -1;
}

static int add_conf_ext(cb_issuer *is, X509V3_CTX *ctx, int nid, const char *value, cb_err *err)
{
    X509_EXTENSION *ex = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    if (ex == NULL) {
        return cb_err_ssl(err, EX_DATAERR, "profile: cannot build %s from '%s'", OBJ_nid2sn(nid), value);
    }
    if (!sk_X509_EXTENSION_push(is->exts, ex)) {
        X509_EXTENSION_free(ex);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return 0;
}

/* Built by hand: the config-string form of certificatePolicies wants a
 * config database even for bare OIDs. */
static int add_policies(cb_issuer *is, const cb_strlist *oids, cb_err *err)
{
    CERTIFICATEPOLICIES *pols = CERTIFICATEPOLICIES_new();
    int ok = pols != NULL;
    for (size_t i = 0; ok && i < oids->n; i++) {
        POLICYINFO *pi = POLICYINFO_new();
        ASN1_OBJECT *o = OBJ_txt2obj(oids->v[i], 1);
        if (pi == NULL || o == NULL) {
            POLICYINFO_free(pi);
            ASN1_OBJECT_free(o);
            ok = 0;
            break;
        }
        ASN1_OBJECT_free(pi->policyid);
        pi->policyid = o;
        if (!sk_POLICYINFO_push(pols, pi)) {
            POLICYINFO_free(pi);
            ok = 0;
        }
    }
    X509_EXTENSION *ex = ok ? X509V3_EXT_i2d(NID_certificate_policies, 0, pols) : NULL;
    CERTIFICATEPOLICIES_free(pols);
    if (ex == NULL || !sk_X509_EXTENSION_push(is->exts, ex)) {
        X509_EXTENSION_free(ex);
        ERR_clear_error();
        return cb_err_set(err, EX_DATAERR, "profile: cannot build certificatePolicies");
    }
    return 0;
}

int cb_issuer_init(cb_issuer *is, X509 *ca, EVP_PKEY *key, const cb_profile *profile,
                   int serialize_signing, cb_err *err)
{
    memset(is, 0, sizeof *is);
    is->ca = ca;
    is->key = key;
    is->profile = profile;
    is->serialize_signing = serialize_signing;
    pthread_mutex_init(&is->lock, NULL);
    if (X509_check_private_key(ca, key) != 1) {
        ERR_clear_error();
        cb_err_set(err, EX_DATAERR, "the CA key does not belong to the CA certificate");
        goto fail;
    }
    is->ca_not_after = cb_asn1_time_instant(X509_get0_notAfter(ca));
    is->md = EVP_MD_fetch(NULL, profile->digest, NULL);
    is->exts = sk_X509_EXTENSION_new_null();
    is->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    is->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (is->md == NULL || is->exts == NULL || is->sha1 == NULL || is->sha256 == NULL) {
        cb_err_set(err, EX_SOFTWARE, "cannot use digest %s", profile->digest);
        goto fail;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, NULL, NULL, NULL, 0);
    char buf[4096];
    if (add_conf_ext(is, &ctx, NID_basic_constraints, "critical,CA:FALSE", err) < 0)
        goto fail;
    if (join(buf, sizeof buf, "critical,", &profile->key_usage, "") < 0 ||
        add_conf_ext(is, &ctx, NID_key_usage, buf, err) < 0)
        goto fail;
    if (profile->ext_key_usage.n &&
        (join(buf, sizeof buf, "", &profile->ext_key_usage, "") < 0 ||
         add_conf_ext(is, &ctx, NID_ext_key_usage, buf, err) < 0))
        goto fail;
    if (profile->policies.n && add_policies(is, &profile->policies, err) < 0)
        goto fail;
    if (profile->crl_urls.n && (join(buf, sizeof buf, "", &profile->crl_urls, "URI:") < 0 ||
                                add_conf_ext(is, &ctx, NID_crl_distribution_points, buf, err) < 0))
        goto fail;
    if (profile->ocsp_urls.n || profile->ca_issuers_urls.n) {
        char b2[2048];
        if (join(buf, sizeof buf, "", &profile->ocsp_urls, "OCSP;URI:") < 0 ||
            join(b2, sizeof b2, "", &profile->ca_issuers_urls, "caIssuers;URI:") < 0)
            goto toolong;
        size_t l = strlen(buf);
        if (snprintf(buf + l, sizeof buf - l, "%s%s", l && *b2 ? "," : "", b2) >=
            (int)(sizeof buf - l))
            goto toolong;
        if (add_conf_ext(is, &ctx, NID_info_access, buf, err) < 0)
            goto fail;
    }
    /* OpenSSL 3.0 looks up the algorithms at every EVP_DigestSignInit,
     * under locks that cost more than an RSA signature when threads
     * share them; a context set up once and copied avoids that. Token keys
     * keep the plain path. */
    if (!serialize_signing) {
        is->sign_tmpl = EVP_MD_CTX_new();
        if (is->sign_tmpl == NULL ||
            EVP_DigestSignInit_ex(is->sign_tmpl, NULL, EVP_MD_get0_name(is->md), NULL, NULL, key,
                                  NULL) != 1) {
            EVP_MD_CTX_free(is->sign_tmpl);
            is->sign_tmpl = NULL;
            ERR_clear_error();
        }
    }
    /* keyid from the CA's own subjectKeyIdentifier, as RFC 5280 4.2.1.1 asks */
    if (add_conf_ext(is, &ctx, NID_authority_key_identifier, "keyid:always", err) < 0)
        goto fail;
    return 0;
toolong:
    cb_err_set(err, EX_DATAERR, "profile: too many URLs");
fail:
    cb_issuer_free(is);
    return -1;
}

void cb_issuer_free(cb_issuer *is)
{
    EVP_MD_free((EVP_MD *)is->md);
    EVP_MD_free(is->sha1);
    EVP_MD_free(is->sha256);
    EVP_MD_CTX_free(is->sign_tmpl);
    is->sha1 = is->sha256 = NULL;
    is->sign_tmpl = NULL;
    sk_X509_EXTENSION_pop_free(is->exts, X509_EXTENSION_free);
    pthread_mutex_destroy(&is->lock);
    is->md = NULL;
    is->exts = NULL;
}

/* ---- the index of old certificates ---- */

/* The index keeps each old certificate's DER and serial only: decoding a
 * full X509 in OpenSSL 3.0 decodes its public key through the provider
 * machinery, which cost more than the signing when a province's whole
 * bundle was loaded to renew a part of it. A certificate is decoded when
 * a renewal asks for it. */
typedef struct ix_entry {
    char *serial;
    unsigned char *der;
    size_t der_len;
} ix_entry;

struct cb_certindex {
    size_t n, cap;
    ix_entry *e;
};

cb_certindex *cb_certindex_new(void)
{
    return calloc(1, sizeof(cb_certindex));
}

static int serial_hex(const ASN1_INTEGER *ai, char *out, size_t outlen)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    if (hex == NULL)
        return -1;
    /* two digits a byte, as `openssl x509 -serial` prints */
    size_t l = strlen(hex);
    snprintf(out, outlen, "%s%s", (l % 2) ? "0" : "", hex);
    OPENSSL_free(hex);
    return 0;
}

/* Adds one DER certificate; returns 0, 1 when it is not a certificate, or
 * -1 when out of memory. */
static int ix_add_der(cb_certindex *ix, const unsigned char *der, size_t len, cb_err *err)
{
    char *serial = cb_der_cert_serial(der, len);
    if (serial == NULL)
        return 1;
    char norm[128];
    cb_serial_key(serial, norm, sizeof norm);
    free(serial);
    if (ix->n == ix->cap) {
        size_t nc = ix->cap ? ix->cap * 2 : 256;
        ix_entry *ne = realloc(ix->e, nc * sizeof *ne);
        if (ne == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        ix->e = ne;
        ix->cap = nc;
    }
    ix_entry *e = &ix->e[ix->n];
    e->serial = strdup(norm);
    e->der = malloc(len);
    if (e->serial == NULL || e->der == NULL) {
        free(e->serial);
        free(e->der);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    memcpy(e->der, der, len);
    e->der_len = len;
    ix->n++;
    return 0;
}

/* Every certificate of one file, in any form lib/certread reads (PEM,
 * DER, PKCS#7); unreadable items are passed over. */
static int ix_add_file(cb_certindex *ix, const char *path, cb_err *err)
{
    cb_certs_reader *r = cb_certs_open(path, err);
    if (r == NULL)
        return -1;
    const unsigned char *der;
    size_t len;
    long line, index;
    int rc, n = 0, ret = 0;
    while (ret == 0 && (rc = cb_certs_next_der(r, &der, &len, &line, &index, err)) != CB_CERTS_EOF) {
        if (rc == CB_CERTS_FATAL) {
            ret = -1;
        } else if (rc == CB_CERTS_CERT) {
            int added = ix_add_der(ix, der, len, err);   /* 0 added, > 0 passed over */
            if (added < 0)
                ret = -1;
            else if (added == 0)
                n++;
        }
    }
    cb_certs_close(r);
    if (ret < 0)
        return -1;
    if (n == 0)
        return cb_err_set(err, EX_DATAERR, "%s: no certificate in the file", path);
    return 0;
}

int cb_certindex_add_path(cb_certindex *ix, const char *path, cb_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
    if (!S_ISDIR(st.st_mode))
        return ix_add_file(ix, path, err);
    DIR *d = opendir(path);
    if (d == NULL)
        return cb_err_sys(err, EX_IOERR, "cannot read the directory %s", path);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        size_t l = strlen(path) + strlen(de->d_name) + 2;
        char *p = malloc(l);
        if (p == NULL) {
            rc = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
        snprintf(p, l, "%s/%s", path, de->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            cb_err e2;
            if (ix_add_file(ix, p, &e2) < 0 && e2.code != EX_DATAERR) {
                *err = e2;
                rc = -1;
            }
        }
        free(p);
    }
    closedir(d);
    return rc;
}

size_t cb_certindex_count(const cb_certindex *ix)
{
    return ix->n;
}

static int ix_cmp(const void *a, const void *b)
{
    return strcmp(((const ix_entry *)a)->serial, ((const ix_entry *)b)->serial);
}

void cb_certindex_seal(cb_certindex *ix)
{
    if (ix->n)
        qsort(ix->e, ix->n, sizeof *ix->e, ix_cmp);
}

int cb_certindex_find_der(const cb_certindex *ix, const char *serial, const unsigned char **der,
                          size_t *len)
{
    char norm[128];
    cb_serial_key(serial, norm, sizeof norm);
    if (norm[0] == '\0' || ix->n == 0)
        return 0;
    ix_entry key = {norm, NULL, 0};
    ix_entry *e = bsearch(&key, ix->e, ix->n, sizeof *ix->e, ix_cmp);
    if (e == NULL)
        return 0;
    *der = e->der;
    *len = e->der_len;
    return 1;
}

void cb_certindex_free(cb_certindex *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->e[i].serial);
        free(ix->e[i].der);
    }
    free(ix->e);
    free(ix);
}

/* ---- columns ---- */

void cb_issue_cols_find(cb_issue_cols *c, const cb_header *h)
{
    c->request_id = cb_header_find(h, "request_id");
    c->request_type = cb_header_find(h, "request_type");
    c->subject_type = cb_header_find(h, "subject_type");
    c->form = cb_header_find(h, "form");
    c->full_name = cb_header_find(h, "full_name");
    c->org_name = cb_header_find(h, "org_name");
    c->agency = cb_header_find(h, "agency");
    c->province = cb_header_find(h, "province");
    c->email = cb_header_find(h, "email");
    c->id_number = cb_header_find(h, "id_number");
    c->tax_code = cb_header_find(h, "tax_code");
    c->position = cb_header_find(h, "position");
    c->old_serial = cb_header_find(h, "old_serial");
    c->received_date = cb_header_find(h, "received_date");
    c->validity_months = cb_header_find(h, "validity_months");
    c->csr_pem = cb_header_find(h, "csr_pem");
    c->csr_file = cb_header_find(h, "csr_file");
}

/* A field with surrounding spaces trimmed, into buf; "" when the column is
 * absent. */
static const char *fld(const cb_record *r, int col, char *buf, size_t n)
{
    if (col < 0) {
        buf[0] = '\0';
        return buf;
    }
    const char *s = cb_record_get(r, col);
    while (*s == ' ' || *s == '\t')
        s++;
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r' || s[l - 1] == '\n'))
        l--;
    if (l >= n)
        l = n - 1;
    memcpy(buf, s, l);
    buf[l] = '\0';
    return buf;
}

/* ---- jobs ---- */

static void reject(cb_issue_job *job, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject(cb_issue_job *job, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(job->reason, sizeof job->reason, fmt, ap);
    va_end(ap);
    job->status = CB_JOB_REJECT;
    job->field = field;
}

static void fail(cb_issue_job *job, const char *what)
{
    char why[256];
    cb_ssl_error(why, sizeof why);
    snprintf(job->reason, sizeof job->reason, "%s: %s", what, why);
    job->status = CB_JOB_FAIL;
}

void cb_issue_job_clear(cb_issue_job *job)
{
    free(job->subject);
    free(job->cert_pem);
    if (job->p12) {
        OPENSSL_cleanse(job->p12, job->p12_len);
        OPENSSL_free(job->p12);
    }
    OPENSSL_cleanse(job->pin, sizeof job->pin);
    cb_record *rec = job->rec;
    memset(job, 0, sizeof *job);
    job->rec = rec;
}

int cb_pin_generate(char out[CB_PIN_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789#"; /* 32: no bias */
    unsigned char b[CB_PIN_LEN];
    if (RAND_priv_bytes(b, sizeof b) != 1)
        return -1;
    for (int i = 0; i < CB_PIN_LEN; i++)
        out[i] = alphabet[b[i] & 31];
    out[CB_PIN_LEN] = '\0';
    OPENSSL_cleanse(b, sizeof b);
    return 0;
}

void cb_issue_file_name(const char *request_id, char *out, size_t outlen)
{
    size_t o = 0;
    for (const char *s = request_id; *s && o + 1 < outlen; s++) {
        unsigned char c = (unsigned char)*s;
        int keep = (isalnum(c) && c < 128) || c == '-' || c == '_' || (c == '.' && o > 0);
        out[o++] = keep ? (char)c : '_';
    }
    out[o] = '\0';
}

/* Months asked by the row (validity_months), 0 when not asked, -1 when
 * not a number. */
static int row_months(const cb_issue_ctx *ctx, const cb_record *r)
{
    char b[32];
    const char *s = fld(r, ctx->cols->validity_months, b, sizeof b);
    if (*s == '\0')
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 1 || v > 1000)
        return -1;
    return (int)v;
}

static int add_name(X509_NAME *n, int nid, const char *value, int type)
{
    if (*value == '\0')
        return 1;
    return X509_NAME_add_entry_by_NID(n, nid, type, (const unsigned char *)value, -1, -1, 0);
}

static char *name_string(const X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return NULL;
    X509_NAME_print_ex(b, n, 0, (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_SPC_EQ));
    char *p;
    long l = BIO_get_mem_data(b, &p);
    char *s = strndup(p, (size_t)l);
    BIO_free(b);
    return s;
}

static int set_random_serial(X509 *x)
{
    /* 126 bits from the CSPRNG, positive, always 16 bytes long: RFC 5280
     * and the CA/B rule of at least 64 bits of entropy. */
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return 0;
    b[0] = (unsigned char)((b[0] & 0x3F) | 0x40);
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

static int add_ski(X509 *x, const EVP_MD *sha1)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len;
    /* RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits */
    if (!X509_pubkey_digest(x, sha1, md, &len))
        return 0;
    ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
    int ok = o && ASN1_OCTET_STRING_set(o, md, (int)len) &&
             X509_add1_ext_i2d(x, NID_subject_key_identifier, o, 0, X509V3_ADD_DEFAULT) == 1;
    ASN1_OCTET_STRING_free(o);
    return ok;
}

/* Builds and signs a certificate; NULL with job failed or rejected. */
/* Gives x a subjectPublicKeyInfo copied as encoded (algorithm and key
 * bits): a renewal keeps the holder's key, and going through an EVP_PKEY
 * would make OpenSSL 3.0 decode and encode it again through its provider
 * machinery, a third of the cost of a renewal. */
static int copy_spki(X509 *x, const X509_ALGOR *pa, const unsigned char *pk, int pklen)
{
    const ASN1_OBJECT *aobj;
    int ptype;
    const void *pval;
    X509_ALGOR_get0(&aobj, &ptype, &pval, pa);
    void *pv = NULL;
    if (ptype == V_ASN1_OBJECT)
        pv = OBJ_dup(pval);
    else if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
        pv = ASN1_STRING_dup(pval);
    ASN1_OBJECT *o = OBJ_dup(aobj);
    unsigned char *enc = OPENSSL_memdup(pk, (size_t)pklen);
    if (o == NULL || enc == NULL || (pv == NULL && ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL) ||
        !X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), o, ptype, pv, enc, pklen)) {
        ASN1_OBJECT_free(o);
        OPENSSL_free(enc);
        if (ptype == V_ASN1_OBJECT)
            ASN1_OBJECT_free(pv);
        else
            ASN1_STRING_free(pv);
        return 0;
    }
    return 1;
}

/* What a renewal needs of the old certificate, decoded piece by piece from
 * its DER: everything but its public key, which is only copied. */
typedef struct old_cert {
    cb_cert_slices s;
    X509_NAME *subject;
    X509_VAL *validity;
    STACK_OF(X509_EXTENSION) *exts;
    X509_ALGOR *key_alg;
    ASN1_BIT_STRING *key_bits;
    char *serial;
} old_cert;

static void old_cert_free(old_cert *o)
{
    X509_NAME_free(o->subject);
    X509_VAL_free(o->validity);
    sk_X509_EXTENSION_pop_free(o->exts, X509_EXTENSION_free);
    X509_ALGOR_free(o->key_alg);
    ASN1_BIT_STRING_free(o->key_bits);
    free(o->serial);
    memset(o, 0, sizeof *o);
}

static int old_cert_read(old_cert *o, const unsigned char *der, size_t len)
{
    memset(o, 0, sizeof *o);
    if (cb_cert_slice(der, len, &o->s) < 0)
        return -1;
    const unsigned char *p = o->s.subject;
    o->subject = d2i_X509_NAME(NULL, &p, (long)o->s.subject_len);
    p = o->s.validity;
    o->validity = d2i_X509_VAL(NULL, &p, (long)o->s.validity_len);
    if (o->s.exts != NULL) {
        p = o->s.exts;
        o->exts = d2i_X509_EXTENSIONS(NULL, &p, (long)o->s.exts_len);
    }
    /* SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING } */
    p = o->s.spki;
    long l;
    int tag, cls;
    int r = ASN1_get_object(&p, &l, &tag, &cls, (long)o->s.spki_len);
    if (!(r & 0x80) && tag == V_ASN1_SEQUENCE) {
        const unsigned char *end = p + l;
        o->key_alg = d2i_X509_ALGOR(NULL, &p, end - p);
        if (o->key_alg != NULL)
            o->key_bits = d2i_ASN1_BIT_STRING(NULL, &p, end - p);
    }
    o->serial = cb_der_cert_serial(der, len);
    ERR_clear_error();
    if (o->subject == NULL || o->validity == NULL || (o->s.exts && o->exts == NULL) ||
        o->key_bits == NULL || o->serial == NULL) {
        old_cert_free(o);
        return -1;
    }
    return 0;
}

/* Was the old certificate issued and signed by this CA? Its issuer must be
 * the CA's subject and its signature verify with the CA's key over the
 * signed bytes as they are. */
static int old_cert_from_ca(const cb_issuer *is, const old_cert *o, const unsigned char *der,
                            size_t len)
{
    unsigned char *ca_name = NULL;
    int n = i2d_X509_NAME(X509_get_subject_name(is->ca), &ca_name);
    int same = n > 0 && (size_t)n == o->s.issuer_len && memcmp(ca_name, o->s.issuer, (size_t)n) == 0;
    OPENSSL_free(ca_name);
    if (!same || o->s.sig_alg_len != o->s.tbs_sig_alg_len ||
        memcmp(o->s.sig_alg, o->s.tbs_sig_alg, o->s.sig_alg_len) != 0)
        return 0;
    EVP_PKEY *ca_pub = X509_get0_pubkey(is->ca);
    const unsigned char *p = o->s.sig_alg;
    X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, (long)o->s.sig_alg_len);
    p = o->s.sig;
    ASN1_BIT_STRING *sig = d2i_ASN1_BIT_STRING(NULL, &p, (long)o->s.sig_len);
    int mdnid = NID_undef, pknid, ok = 0;
    if (alg != NULL && sig != NULL && ca_pub != NULL &&
        OBJ_find_sigid_algs(OBJ_obj2nid(alg->algorithm), &mdnid, &pknid) && mdnid != NID_undef) {
        EVP_MD_CTX *mc = EVP_MD_CTX_new();
        ok = mc != NULL &&
             EVP_DigestVerifyInit_ex(mc, NULL, OBJ_nid2sn(mdnid), NULL, NULL, ca_pub, NULL) == 1 &&
             EVP_DigestVerify(mc, sig->data, (size_t)sig->length, o->s.tbs, o->s.tbs_len) == 1;
        EVP_MD_CTX_free(mc);
    } else if (alg != NULL && sig != NULL && ca_pub != NULL) {
        /* An algorithm with parameters of its own (RSA-PSS): let X509_verify
         * read them from the whole certificate. */
        p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        ok = x != NULL && X509_verify(x, ca_pub) == 1;
        X509_free(x);
    }
    X509_ALGOR_free(alg);
    ASN1_BIT_STRING_free(sig);
    ERR_clear_error();
    return ok;
}

/* The new certificate; its key is pub, or, for a renewal (pub NULL), the
 * one of the old certificate key_from. */
static X509 *build(const cb_issue_ctx *ctx, cb_issue_job *job, const X509_NAME *subject,
                   EVP_PKEY *pub, const old_cert *key_from, X509_EXTENSION *san, int64_t nb, int64_t na)
{
    const cb_issuer *is = ctx->issuer;
    X509 *x = X509_new();
    if (x == NULL || !X509_set_version(x, X509_VERSION_3) || !set_random_serial(x) ||
        !X509_set_issuer_name(x, X509_get_subject_name(is->ca)) ||
        !X509_set_subject_name(x, subject) ||
        !(pub ? X509_set_pubkey(x, pub)
              : copy_spki(x, key_from->key_alg, ASN1_STRING_get0_data(key_from->key_bits),
                          ASN1_STRING_length(key_from->key_bits))) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na))
        goto bad;
    for (int i = 0; i < sk_X509_EXTENSION_num(is->exts); i++)
        if (!X509_add_ext(x, sk_X509_EXTENSION_value(is->exts, i), -1))
            goto bad;
    if (!add_ski(x, is->sha1) || (san && !X509_add_ext(x, san, -1)))
        goto bad;
    int signed_ok;
    if (is->serialize_signing) {
        pthread_mutex_lock((pthread_mutex_t *)&is->lock);
        signed_ok = X509_sign(x, is->key, is->md) > 0;
        pthread_mutex_unlock((pthread_mutex_t *)&is->lock);
    } else if (is->sign_tmpl != NULL) {
        EVP_MD_CTX *mc = EVP_MD_CTX_new();
        signed_ok = mc && EVP_MD_CTX_copy_ex(mc, is->sign_tmpl) && X509_sign_ctx(x, mc) > 0;
        EVP_MD_CTX_free(mc);
    } else {
        signed_ok = X509_sign(x, is->key, is->md) > 0;
    }
    if (!signed_ok) {
        fail(job, "cannot sign the certificate with the CA key");
        X509_free(x);
        return NULL;
    }
    return x;
bad:
    fail(job, "cannot build the certificate");
    X509_free(x);
    return NULL;
}

/* Fills the job's results from the signed certificate. */
static int describe(const cb_issuer *is, cb_issue_job *job, X509 *x)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len;
    if (serial_hex(X509_get0_serialNumber(x), job->serial, sizeof job->serial) < 0 ||
        !X509_digest(x, is->sha256, md, &len))
        return -1;
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(job->sha256 + 2 * i, 3, "%02X", md[i]);
    cb_instant_format(cb_asn1_time_instant(X509_get0_notBefore(x)), job->not_before);
    cb_instant_format(cb_asn1_time_instant(X509_get0_notAfter(x)), job->not_after);
    job->subject = name_string(X509_get_subject_name(x));
    BIO *b = BIO_new(BIO_s_mem());
    if (job->subject == NULL || b == NULL || !PEM_write_bio_X509(b, x)) {
        BIO_free(b);
        return -1;
    }
    char *p;
    long l = BIO_get_mem_data(b, &p);
    job->cert_pem = malloc((size_t)l + 1);
    if (job->cert_pem) {
        memcpy(job->cert_pem, p, (size_t)l);
        job->cert_pem[l] = '\0';
        job->cert_pem_len = (size_t)l;
    }
    BIO_free(b);
    return job->cert_pem ? 0 : -1;
}

int cb_issue_job_again(const cb_issuer *is, cb_issue_job *job, const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    int rc = x && describe(is, job, x) == 0 ? 0 : -1;
    X509_free(x);
    if (rc == 0)
        job->status = CB_JOB_AGAIN;
    return rc;
}

static EVP_PKEY *generate_key(const char *alg)
{
    if (strcmp(alg, "ec-p256") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)(strcmp(alg, "rsa3072") == 0 ? 3072 : 2048));
}

/* The subscriber's CSR from csr_pem or csr_file; NULL (and job rejected)
 * when given but unusable; *given says whether there was one. */
static X509_REQ *read_csr(const cb_issue_ctx *ctx, cb_issue_job *job, int *given)
{
    const cb_issue_cols *c = ctx->cols;
    const char *pem = c->csr_pem >= 0 ? cb_record_get(job->rec, c->csr_pem) : "";
    char path[4096];
    fld(job->rec, c->csr_file, path, sizeof path);
    *given = *pem || *path;
    if (!*given)
        return NULL;
    const char *field = *pem ? "csr_pem" : "csr_file";
    BIO *b = *pem ? BIO_new_mem_buf(pem, -1) : BIO_new_file(path, "rb");
    if (b == NULL) {
        ERR_clear_error();
        reject(job, field, "cannot read the CSR file %s", path);
        return NULL;
    }
    X509_REQ *req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
    if (req == NULL && !*pem) {
        (void)BIO_reset(b);
        req = d2i_X509_REQ_bio(b, NULL);
    }
    BIO_free(b);
    ERR_clear_error();
    if (req == NULL) {
        reject(job, field, "the certificate signing request cannot be read (PEM or DER expected)");
        return NULL;
    }
    EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
    if (pk == NULL || X509_REQ_verify(req, pk) != 1) {
        ERR_clear_error();
        reject(job, field,
               "the certificate signing request's signature does not verify: it was changed or "
               "not made with its key");
        X509_REQ_free(req);
        return NULL;
    }
    return req;
}

/* The trimmed length of a field, as fld() would copy it. */
static size_t fld_len(const cb_record *r, int col)
{
    if (col < 0)
        return 0;
    const char *s = cb_record_get(r, col);
    while (*s == ' ' || *s == '\t')
        s++;
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r' || s[l - 1] == '\n'))
        l--;
    return l;
}

/* A field longer than its buffer would be certified cut short: another
 * identity. Rejects the job naming the first such field; 0 when all fit. */
static int identity_fits(cb_issue_job *job, const cb_record *r, const int *cols, const size_t *caps,
                         const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        if (fld_len(r, cols[i]) >= caps[i]) {
            reject(job, names[i], "%s is longer than %zu bytes: a certificate is never issued for a "
                                  "shortened identity", names[i], caps[i] - 1);
            return -1;
        }
    }
    return 0;
}

static int64_t cap_at_ca(const cb_issue_ctx *ctx, int64_t na)
{
    return na > ctx->issuer->ca_not_after ? ctx->issuer->ca_not_after : na;
}

static void run_issue(const cb_issue_ctx *ctx, cb_issue_job *job)
{
    const cb_issue_cols *c = ctx->cols;
    const cb_record *r = job->rec;
    char type[32], subj[32], form[8], name[512], org[512], agency[512], province[256],
        email[320], idn[64], tax[64], pos[256];
    fld(r, c->subject_type, subj, sizeof subj);
    fld(r, c->form, form, sizeof form);
    fld(r, c->request_type, type, sizeof type);
    if (*type && strcmp(type, "issue") != 0) {
        reject(job, "request_type", "a '%s' request, not a new certificate: use sign-batch %s",
               type, strcmp(type, "renew") == 0 ? "renew" : "for issue requests only");
        return;
    }
    if (!*type && (strcmp(form, "03") == 0 || strcmp(form, "04") == 0)) {
        reject(job, "form", "form %s is a renewal: use sign-batch renew", form);
        return;
    }
    int org_subject = strcmp(subj, "organization") == 0 || (!*subj && strcmp(form, "04") == 0);
    if (*subj && !org_subject && strcmp(subj, "individual") != 0) {
        reject(job, "subject_type", "subject_type '%s' is neither individual nor organization",
               subj);
        return;
    }
    const int cols[] = {c->full_name, c->org_name, c->agency, c->province, c->email, c->id_number,
                        c->tax_code, c->position};
    const size_t caps[] = {sizeof name, sizeof org, sizeof agency, sizeof province, sizeof email,
                           sizeof idn, sizeof tax, sizeof pos};
    static const char *const names[] = {"full_name", "org_name", "agency", "province", "email",
                                        "id_number", "tax_code", "position"};
    if (identity_fits(job, r, cols, caps, names, 8) < 0)
        return;
    fld(r, c->full_name, name, sizeof name);
    fld(r, c->org_name, org, sizeof org);
    fld(r, c->agency, agency, sizeof agency);
    fld(r, c->province, province, sizeof province);
    fld(r, c->email, email, sizeof email);
    fld(r, c->id_number, idn, sizeof idn);
    fld(r, c->tax_code, tax, sizeof tax);
    fld(r, c->position, pos, sizeof pos);
    if (!org_subject && !*name) {
        reject(job, "full_name", "the full name is missing");
        return;
    }
    if (org_subject && !*org) {
        reject(job, "org_name", "the organisation's name is missing");
        return;
    }
    if (!*agency) {
        reject(job, "agency", "the agency is missing");
        return;
    }
    if (!*province) {
        reject(job, "province", "the province is missing");
        return;
    }
    if (!cb_email_check(email, NULL)) {
        reject(job, "email", "the e-mail address is missing or not valid");
        return;
    }
    int months = row_months(ctx, r);
    if (months < 0) {
        reject(job, "validity_months", "validity_months is not a whole number of months");
        return;
    }
    if (months > CB_MAX_ISSUE_MONTHS) {
        reject(job, "validity_months",
               "a new certificate is valid for at most %d months (Nghị định 68/2024/NĐ-CP "
               "Điều 9); %d asked",
               CB_MAX_ISSUE_MONTHS, months);
        return;
    }
    if (months == 0)
        months = ctx->months;

    X509_NAME *sn = X509_NAME_new();
    if (sn == NULL) {
        fail(job, "out of memory");
        return;
    }
    const char *cn = org_subject ? org : name;
    const char *uid = org_subject ? tax : idn;
    int okn = add_name(sn, NID_countryName, "VN", MBSTRING_ASC) &&
              add_name(sn, NID_stateOrProvinceName, province, MBSTRING_UTF8) &&
              add_name(sn, NID_organizationName, agency, MBSTRING_UTF8) &&
              (org_subject || add_name(sn, NID_title, pos, MBSTRING_UTF8)) &&
              add_name(sn, NID_userId, uid, MBSTRING_UTF8) &&
              add_name(sn, NID_commonName, cn, MBSTRING_UTF8);
    if (!okn) {
        ERR_clear_error();
        X509_NAME_free(sn);
        reject(job, org_subject ? "org_name" : "full_name",
               "a name is too long for a certificate (64 characters at most for the name, "
               "agency and province)");
        return;
    }
    int has_csr;
    X509_REQ *req = read_csr(ctx, job, &has_csr);
    if (has_csr && req == NULL) {
        X509_NAME_free(sn);
        return;
    }
    EVP_PKEY *key = NULL;
    EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
    if (req == NULL) {
        if ((key = generate_key(ctx->key_alg)) == NULL) {
            X509_NAME_free(sn);
            fail(job, "cannot generate a key pair");
            return;
        }
        pub = key;
    }
    X509_EXTENSION *san = NULL;
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gen = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    if (gens && gen && ia5 && ASN1_STRING_set(ia5, email, -1)) {
        GENERAL_NAME_set0_value(gen, GEN_EMAIL, ia5);
        ia5 = NULL;
        if (sk_GENERAL_NAME_push(gens, gen)) {
            gen = NULL;
            san = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
        }
    }
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gen);
    GENERAL_NAMES_free(gens);
    X509 *x = NULL;
    if (san == NULL) {
        fail(job, "cannot build subjectAltName");
    } else {
        int64_t na = cap_at_ca(ctx, cb_instant_add_months(ctx->now, months));
        if (na <= ctx->now)
            reject(job, NULL, "the CA certificate has expired: nothing can be issued under it");
        else
            x = build(ctx, job, sn, pub, NULL, san, ctx->now, na);
    }
    X509_EXTENSION_free(san);
    X509_NAME_free(sn);
    if (x != NULL && describe(ctx->issuer, job, x) < 0)
        fail(job, "cannot encode the certificate");
    if (x != NULL && job->status == CB_JOB_TODO && key != NULL && ctx->want_p12) {
        STACK_OF(X509) *cas = sk_X509_new_null();
        PKCS12 *p12 = NULL;
        if (cas && sk_X509_push(cas, ctx->issuer->ca) && cb_pin_generate(job->pin) == 0)
            p12 = PKCS12_create_ex(job->pin, cn, key, x, cas, 0, 0, 0, 0, 0, NULL, NULL);
        sk_X509_free(cas);
        unsigned char *der = NULL;
        int len = p12 ? i2d_PKCS12(p12, &der) : -1;
        PKCS12_free(p12);
        if (len <= 0)
            fail(job, "cannot make the PKCS#12 file");
        else {
            job->p12 = der;
            job->p12_len = (size_t)len;
        }
    }
    if (job->status == CB_JOB_TODO && x != NULL)
        job->status = CB_JOB_OK;
    X509_free(x);
    EVP_PKEY_free(key);
    X509_REQ_free(req);
}

static void renew_from(const cb_issue_ctx *ctx, cb_issue_job *job, const unsigned char *der,
                       size_t len, const char *serial);

static void run_renew(const cb_issue_ctx *ctx, cb_issue_job *job)
{
    const cb_issue_cols *c = ctx->cols;
    const cb_record *r = job->rec;
    char type[32], serial[128];
    fld(r, c->request_type, type, sizeof type);
    if (*type && strcmp(type, "renew") != 0) {
        reject(job, "request_type", "a '%s' request, not a renewal: use sign-batch %s", type,
               strcmp(type, "issue") == 0 ? "issue" : "for renewals only");
        return;
    }
    fld(r, c->old_serial, serial, sizeof serial);
    if (!*serial) {
        reject(job, "old_serial", "the serial of the certificate to renew is missing");
        return;
    }
    cb_serial_key(serial, job->old_serial, sizeof job->old_serial);
    if (job->old_serial[0] == '\0') {
        reject(job, "old_serial", "'%s' is not a hexadecimal serial number", serial);
        return;
    }
    const unsigned char *der;
    size_t len;
    if (!cb_certindex_find_der(ctx->old, serial, &der, &len)) {
        reject(job, "old_serial", "no certificate with serial %s among the old certificates",
               serial);
        return;
    }
    renew_from(ctx, job, der, len, serial);
}

static void renew_old(const cb_issue_ctx *ctx, cb_issue_job *job, const old_cert *old,
                      const char *serial);

static void renew_from(const cb_issue_ctx *ctx, cb_issue_job *job, const unsigned char *der,
                       size_t len, const char *serial)
{
    old_cert old;
    if (old_cert_read(&old, der, len) < 0) {
        reject(job, "old_serial", "the certificate %s cannot be read", serial);
        return;
    }
    /* the ledger keeps the serial the way openssl prints it */
    snprintf(job->old_serial, sizeof job->old_serial, "%s", old.serial);
    if (!old_cert_from_ca(ctx->issuer, &old, der, len))
        reject(job, "old_serial", "the certificate %s was not issued by this CA", serial);
    else
        renew_old(ctx, job, &old, serial);
    old_cert_free(&old);
}

/* Bits of an RSA modulus from the DER of an RSAPublicKey (inside the
 * SPKI's BIT STRING), read without decoding the key; 0 when unreadable. */
static int rsa_modulus_bits(const unsigned char *p, long len)
{
    const unsigned char *end = p + len;
    long l;
    int tag, cls;
    if (len < 1 || *p++ != 0)   /* unused bits of the BIT STRING */
        return 0;
    if ((ASN1_get_object(&p, &l, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_SEQUENCE ||
        (ASN1_get_object(&p, &l, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_INTEGER || l > end - p)
        return 0;
    while (l > 0 && *p == 0)
        p++, l--;
    int bits = (int)l * 8;
    for (unsigned char b = l > 0 ? *p : 0; bits > 0 && !(b & 0x80); b <<= 1)
        bits--;
    return bits;
}

/* The key policy for a key certified again: what the profile's key types
 * give a new key pair at the least (RSA of 2048 bits, EC on P-256, P-384 or
 * P-521), read from the SPKI's algorithm and parameters. NULL when it is
 * allowed, else why not. */
static const char *renew_key_refused(const old_cert *o, char *why, size_t n)
{
    const unsigned char *p = o->s.spki, *end = o->s.spki + o->s.spki_len;
    long l;
    int tag, cls;
    if (ASN1_get_object(&p, &l, &tag, &cls, end - p) & 0x80)
        return "its public key cannot be read";
    X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, end - p);
    if (alg == NULL || (ASN1_get_object(&p, &l, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_BIT_STRING) {
        X509_ALGOR_free(alg);
        ERR_clear_error();
        return "its public key cannot be read";
    }
    int nid = OBJ_obj2nid(alg->algorithm), bits;
    const ASN1_TYPE *param = alg->parameter;
    const char *no = NULL;
    if (nid == NID_rsaEncryption) {
        if ((bits = rsa_modulus_bits(p, l)) < 2048) {
            snprintf(why, n, "its RSA key has %d bits, fewer than the 2048 the profile's keys have", bits);
            no = why;
        }
    } else if (nid == NID_X9_62_id_ecPublicKey) {
        int curve = param && param->type == V_ASN1_OBJECT ? OBJ_obj2nid(param->value.object) : NID_undef;
        if (curve != NID_X9_62_prime256v1 && curve != NID_secp384r1 && curve != NID_secp521r1) {
            snprintf(why, n, "its EC key is on %s, not on P-256, P-384 or P-521",
                     curve == NID_undef ? "explicit or unknown parameters" : OBJ_nid2sn(curve));
            no = why;
        }
    } else {
        snprintf(why, n, "its key type %s is none of the profile's (RSA, EC)", OBJ_nid2sn(nid));
        no = why;
    }
    X509_ALGOR_free(alg);
    ERR_clear_error();
    return no;
}

static void renew_old(const cb_issue_ctx *ctx, cb_issue_job *job, const old_cert *old,
                      const char *serial)
{
    const cb_issue_cols *c = ctx->cols;
    const cb_record *r = job->rec;
    char rd[64], why[160];
    const char *refused = renew_key_refused(old, why, sizeof why);
    if (refused != NULL) {
        reject(job, "old_serial", "the certificate %s is not renewed: %s", serial, refused);
        return;
    }
    int64_t old_na = cb_asn1_time_instant(old->validity->notAfter);
    if (old_na <= ctx->now) {
        reject(job, "old_serial", "the certificate %s has already expired; an expired "
                                  "certificate cannot be renewed, request a new one", serial);
        return;
    }
    fld(r, c->received_date, rd, sizeof rd);
    if (*rd) {
        cb_date recv;
        if (cb_date_parse(rd, &recv) < 0) {
            reject(job, "received_date", "'%s' is not a date", rd);
            return;
        }
        long left = (long)cb_date_of_instant(old_na) - (long)recv;
        if (left < 60) {
            reject(job, "old_serial",
                   "the certificate had %ld days of validity left on the day the request was "
                   "received; a renewal needs at least 60 (Nghị định 130/2018/NĐ-CP Điều 63)",
                   left);
            return;
        }
    }
    int months = row_months(ctx, r);
    if (months < 0) {
        reject(job, "validity_months", "validity_months is not a whole number of months");
        return;
    }
    if (months > CB_MAX_RENEW_MONTHS) {
        reject(job, "validity_months",
               "a renewal extends a certificate by at most %d months (Nghị định 68/2024/NĐ-CP "
               "Điều 9); %d asked",
               CB_MAX_RENEW_MONTHS, months);
        return;
    }
    if (months == 0)
        months = ctx->months;
    int64_t na = cap_at_ca(ctx, cb_instant_add_months(old_na, months));
    if (na <= old_na) {
        reject(job, "old_serial", "the CA certificate expires before the old certificate does: "
                                  "the renewal would not extend it");
        return;
    }
    int idx = old->exts ? X509v3_get_ext_by_NID(old->exts, NID_subject_alt_name, -1) : -1;
    X509_EXTENSION *san = idx >= 0 ? X509v3_get_ext(old->exts, idx) : NULL;
    X509 *x = build(ctx, job, old->subject, NULL, old, san, ctx->now, na);
    if (x != NULL && describe(ctx->issuer, job, x) < 0)
        fail(job, "cannot encode the certificate");
    if (x != NULL && job->status == CB_JOB_TODO)
        job->status = CB_JOB_OK;
    X509_free(x);
}

void cb_issue_job_run(const cb_issue_ctx *ctx, cb_issue_job *job)
{
    char id[8];
    if (job->status != CB_JOB_TODO)
        return;
    if (*fld(job->rec, ctx->cols->request_id, id, sizeof id) == '\0') {
        reject(job, "request_id", "the request id is missing");
        return;
    }
    if (ctx->mode == CB_ISSUE_RENEW)
        run_renew(ctx, job);
    else
        run_issue(ctx, job);
    ERR_clear_error();
}

/* ---- threads ---- */

typedef struct pf_state {
    void (*fn)(void *, size_t);
    void *arg;
    size_t n;
    size_t next;
    pthread_mutex_t lock;
} pf_state;

static void *pf_worker(void *p)
{
    pf_state *st = p;
    for (;;) {
        pthread_mutex_lock(&st->lock);
        size_t i = st->next++;
        pthread_mutex_unlock(&st->lock);
        if (i >= st->n)
            break;
        st->fn(st->arg, i);
    }
    ERR_clear_error();
    return NULL;
}

int cb_parallel_for(size_t n, int nthreads, void (*fn)(void *arg, size_t i), void *arg,
                    cb_err *err)
{
    if (nthreads <= 1 || n <= 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i);
        return 0;
    }
    if ((size_t)nthreads > n)
        nthreads = (int)n;
    pf_state st = {fn, arg, n, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t tid[256];
    int started = 0;
    if (nthreads > 256)
        nthreads = 256;
    for (; started < nthreads - 1; started++)
        if (pthread_create(&tid[started], NULL, pf_worker, &st) != 0)
            break;
    pf_worker(&st);  /* the caller works too */
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&st.lock);
    (void)err;
    return 0;
}
