/* Certificates from request records: see issue.h. */
#include "issue.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
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

/* authorityInfoAccess: OCSP and caIssuers URLs, as one value. */
static int add_info_access(cb_issuer *is, X509V3_CTX *ctx, const cb_profile *profile, cb_err *err)
{
    char buf[4096], b2[2048];
    if (join(buf, sizeof buf, "", &profile->ocsp_urls, "OCSP;URI:") < 0 ||
        join(b2, sizeof b2, "", &profile->ca_issuers_urls, "caIssuers;URI:") < 0)
        return cb_err_set(err, EX_DATAERR, "profile: too many URLs");
    size_t l = strlen(buf);
    int n = snprintf(buf + l, sizeof buf - l, "%s%s", l && *b2 ? "," : "", b2);
    if (n < 0 || (size_t)n >= sizeof buf - l)
        return cb_err_set(err, EX_DATAERR, "profile: too many URLs");
    return add_conf_ext(is, ctx, NID_info_access, buf, err);
}

/* The extensions every certificate of the batch gets, from the profile,
 * in the order they are encoded. */
static int add_profile_exts(cb_issuer *is, const cb_profile *profile, cb_err *err)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, is->ca, NULL, NULL, NULL, 0);
    char buf[4096];
    if (add_conf_ext(is, &ctx, NID_basic_constraints, "critical,CA:FALSE", err) < 0)
        return -1;
    if (join(buf, sizeof buf, "critical,", &profile->key_usage, "") < 0)
        return cb_err_set(err, EX_DATAERR, "profile: too many key usages");
    if (add_conf_ext(is, &ctx, NID_key_usage, buf, err) < 0)
        return -1;
    if (profile->ext_key_usage.n && join(buf, sizeof buf, "", &profile->ext_key_usage, "") < 0)
        return cb_err_set(err, EX_DATAERR, "profile: too many extended key usages");
    if (profile->ext_key_usage.n && add_conf_ext(is, &ctx, NID_ext_key_usage, buf, err) < 0)
        return -1;
    if (profile->policies.n && add_policies(is, &profile->policies, err) < 0)
        return -1;
    if (profile->crl_urls.n && join(buf, sizeof buf, "", &profile->crl_urls, "URI:") < 0)
        return cb_err_set(err, EX_DATAERR, "profile: too many URLs");
    if (profile->crl_urls.n && add_conf_ext(is, &ctx, NID_crl_distribution_points, buf, err) < 0)
        return -1;
    if ((profile->ocsp_urls.n || profile->ca_issuers_urls.n) && add_info_access(is, &ctx, profile, err) < 0)
        return -1;
    /* keyid from the CA's own subjectKeyIdentifier, as RFC 5280 4.2.1.1 asks */
    return add_conf_ext(is, &ctx, NID_authority_key_identifier, "keyid:always", err);
}

/* OpenSSL 3.0 looks up the algorithms at every EVP_DigestSignInit, under
 * locks that cost more than an RSA signature when threads share them; a
 * context set up once and copied avoids that. Token keys keep the plain
 * path, and so does a key this fails for. */
static void prepare_signing(cb_issuer *is)
{
    if (is->serialize_signing)
        return;
    is->sign_tmpl = EVP_MD_CTX_new();
    if (is->sign_tmpl == NULL ||
        EVP_DigestSignInit_ex(is->sign_tmpl, NULL, EVP_MD_get0_name(is->md), NULL, NULL, is->key,
                              NULL) != 1) {
        EVP_MD_CTX_free(is->sign_tmpl);
        is->sign_tmpl = NULL;
        ERR_clear_error();
    }
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
    if (add_profile_exts(is, profile, err) < 0)
        goto fail;
    prepare_signing(is);
    return 0;
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

/* Where a field's value starts and how long it is once the blanks around
 * it are left out (0 when the column is absent). */
static const char *fld_span(const cb_record *r, int col, size_t *len)
{
    const char *s = col >= 0 ? cb_record_get(r, col) : "";
    while (*s == ' ' || *s == '\t')
        s++;
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r' || s[l - 1] == '\n'))
        l--;
    *len = l;
    return s;
}

/* A field with the blanks around it left out, into buf ("" when the
 * column is absent): 0, or -1 when it does not fit, buf then holding as
 * much as fits. A value cut short is another value: where it goes into a
 * certificate, a path or the ledger, the caller rejects the request. */
static int fld(const cb_record *r, int col, char *buf, size_t n)
{
    size_t l;
    const char *s = fld_span(r, col, &l);
    int cut = l >= n;
    if (cut)
        l = n - 1;
    memcpy(buf, s, l);
    buf[l] = '\0';
    return cut ? -1 : 0;
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

int cb_issue_file_name(const char *request_id, char *out, size_t outlen)
{
    size_t o = 0;
    const char *s = request_id;
    for (; *s && o + 1 < outlen; s++) {
        unsigned char c = (unsigned char)*s;
        int keep = (isalnum(c) && c < 128) || c == '-' || c == '_' || (c == '.' && o > 0);
        out[o++] = keep ? (char)c : '_';
    }
    out[o] = '\0';
    return *s ? -1 : 0;
}

/* The months a row asks for (validity_months), at most max by the law's
 * rule ("a new certificate is valid for", "a renewal extends a
 * certificate by"); the run's default when the row asks none. -1 with the
 * job rejected. */
static int months_asked(const cb_issue_ctx *ctx, cb_issue_job *job, int max, const char *rule)
{
    char b[32];
    long v = 0;
    if (fld(job->rec, ctx->cols->validity_months, b, sizeof b) < 0)
        v = -1;
    else if (*b != '\0') {
        char *end;
        v = strtol(b, &end, 10);
        if (*end != '\0' || v < 1 || v > 1000)
            v = -1;
    }
    if (v < 0) {
        reject(job, "validity_months", "validity_months is not a whole number of months");
        return -1;
    }
    if (v > max) {
        reject(job, "validity_months", "%s at most %d months (Nghị định 68/2024/NĐ-CP Điều 9); %ld asked",
               rule, max, v);
        return -1;
    }
    return v ? (int)v : ctx->months;
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

/* The serial, in hex, two digits a byte, as `openssl x509 -serial` prints
 * it: 0, or -1 when it does not fit. */
static int serial_hex(const ASN1_INTEGER *ai, char *out, size_t outlen)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    if (hex == NULL)
        return -1;
    /* two digits a byte, as `openssl x509 -serial` prints */
    size_t l = strlen(hex);
    int n = snprintf(out, outlen, "%s%s", (l % 2) ? "0" : "", hex);
    OPENSSL_free(hex);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
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
    int cut = fld(job->rec, c->csr_file, path, sizeof path) < 0;
    *given = *pem || *path;
    if (!*given)
        return NULL;
    if (cut && !*pem) {
        reject(job, "csr_file", "the CSR file's name is longer than %zu bytes", sizeof path - 1);
        return NULL;
    }
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

static int64_t cap_at_ca(const cb_issue_ctx *ctx, int64_t na)
{
    return na > ctx->issuer->ca_not_after ? ctx->issuer->ca_not_after : na;
}

/* What a request for a new certificate says, read and checked. */
typedef struct issue_row {
    int org_subject;
    int months;
    char name[512], org[512], agency[512], province[256], email[320], idn[64], tax[64], pos[256];
} issue_row;

/* The identity's columns, in the order they are checked. */
#define IDENTITY(col, buf) \
    {offsetof(cb_issue_cols, col), offsetof(issue_row, buf), sizeof(((issue_row *)0)->buf), #col}
static const struct identity_field {
    size_t col, buf, cap;
    const char *name;
} identity_fields[] = {
    IDENTITY(full_name, name), IDENTITY(org_name, org), IDENTITY(agency, agency),
    IDENTITY(province, province), IDENTITY(email, email), IDENTITY(id_number, idn),
    IDENTITY(tax_code, tax), IDENTITY(position, pos),
};

/* The kind of request: a new certificate (request_type, or a form that
 * is not a renewal's), for a person or an organisation. -1 with the job
 * rejected. */
static int issue_kind(const cb_issue_cols *c, cb_issue_job *job, int *org_subject)
{
    char type[32], subj[32], form[8];
    fld(job->rec, c->subject_type, subj, sizeof subj);
    fld(job->rec, c->form, form, sizeof form);
    fld(job->rec, c->request_type, type, sizeof type);
    if (*type && strcmp(type, "issue") != 0) {
        reject(job, "request_type", "a '%s' request, not a new certificate: use sign-batch %s",
               type, strcmp(type, "renew") == 0 ? "renew" : "for issue requests only");
        return -1;
    }
    if (!*type && (strcmp(form, "03") == 0 || strcmp(form, "04") == 0)) {
        reject(job, "form", "form %s is a renewal: use sign-batch renew", form);
        return -1;
    }
    *org_subject = strcmp(subj, "organization") == 0 || (!*subj && strcmp(form, "04") == 0);
    if (*subj && !*org_subject && strcmp(subj, "individual") != 0) {
        reject(job, "subject_type", "subject_type '%s' is neither individual nor organization",
               subj);
        return -1;
    }
    return 0;
}

/* The identity, whole: a field longer than its buffer would be
 * certified cut short, as another identity. Then what must be there. -1
 * with the job rejected. */
static int issue_identity(const cb_issue_cols *c, cb_issue_job *job, issue_row *row)
{
    for (size_t i = 0; i < sizeof identity_fields / sizeof *identity_fields; i++) {
        const struct identity_field *f = &identity_fields[i];
        int col = *(const int *)((const char *)c + f->col);
        if (fld(job->rec, col, (char *)row + f->buf, f->cap) < 0) {
            reject(job, f->name, "%s is longer than %zu bytes: a certificate is never issued for a "
                                 "shortened identity", f->name, f->cap - 1);
            return -1;
        }
    }
    if (!row->org_subject && !*row->name)
        reject(job, "full_name", "the full name is missing");
    else if (row->org_subject && !*row->org)
        reject(job, "org_name", "the organisation's name is missing");
    else if (!*row->agency)
        reject(job, "agency", "the agency is missing");
    else if (!*row->province)
        reject(job, "province", "the province is missing");
    else if (!cb_email_check(row->email, NULL))
        reject(job, "email", "the e-mail address is missing or not valid");
    else
        return 0;
    return -1;
}

/* The subject: C=VN, ST, O (the agency), title for a person, UID (the
 * identity or tax number), CN. NULL with the job rejected or failed. */
static X509_NAME *issue_subject(cb_issue_job *job, const issue_row *row)
{
    X509_NAME *sn = X509_NAME_new();
    if (sn == NULL) {
        fail(job, "out of memory");
        return NULL;
    }
    int org = row->org_subject;
    if (add_name(sn, NID_countryName, "VN", MBSTRING_ASC) &&
        add_name(sn, NID_stateOrProvinceName, row->province, MBSTRING_UTF8) &&
        add_name(sn, NID_organizationName, row->agency, MBSTRING_UTF8) &&
        (org || add_name(sn, NID_title, row->pos, MBSTRING_UTF8)) &&
        add_name(sn, NID_userId, org ? row->tax : row->idn, MBSTRING_UTF8) &&
        add_name(sn, NID_commonName, org ? row->org : row->name, MBSTRING_UTF8))
        return sn;
    ERR_clear_error();
    X509_NAME_free(sn);
    reject(job, org ? "org_name" : "full_name",
           "a name is too long for a certificate (64 characters at most for the name, "
           "agency and province)");
    return NULL;
}

/* subjectAltName: the e-mail address; NULL when it cannot be built. */
static X509_EXTENSION *email_san(const char *email)
{
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
    return san;
}

/* A generated key and its certificate as PKCS#12, under a fresh PIN. */
static void package_p12(const cb_issue_ctx *ctx, cb_issue_job *job, EVP_PKEY *key, X509 *x,
                        const char *friendly)
{
    STACK_OF(X509) *cas = sk_X509_new_null();
    PKCS12 *p12 = NULL;
    if (cas && sk_X509_push(cas, ctx->issuer->ca) && cb_pin_generate(job->pin) == 0)
        p12 = PKCS12_create_ex(job->pin, friendly, key, x, cas, 0, 0, 0, 0, 0, NULL, NULL);
    sk_X509_free(cas);
    unsigned char *der = NULL;
    int len = p12 ? i2d_PKCS12(p12, &der) : -1;
    PKCS12_free(p12);
    if (len <= 0) {
        fail(job, "cannot make the PKCS#12 file");
        return;
    }
    job->p12 = der;
    job->p12_len = (size_t)len;
}

/* The certificate of a checked request, for the subscriber's CSR key or
 * a key pair generated here (then packaged with a PIN). */
static void issue_cert(const cb_issue_ctx *ctx, cb_issue_job *job, const issue_row *row,
                       X509_NAME *sn)
{
    int has_csr;
    X509_REQ *req = read_csr(ctx, job, &has_csr);
    if (has_csr && req == NULL)
        return;
    EVP_PKEY *key = NULL, *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
    if (req == NULL && (pub = key = generate_key(ctx->key_alg)) == NULL) {
        fail(job, "cannot generate a key pair");
        return;
    }
    X509_EXTENSION *san = email_san(row->email);
    X509 *x = NULL;
    int64_t na = cap_at_ca(ctx, cb_instant_add_months(ctx->now, row->months));
    if (san == NULL)
        fail(job, "cannot build subjectAltName");
    else if (na <= ctx->now)
        reject(job, NULL, "the CA certificate has expired: nothing can be issued under it");
    else
        x = build(ctx, job, sn, pub, NULL, san, ctx->now, na);
    X509_EXTENSION_free(san);
    if (x != NULL && describe(ctx->issuer, job, x) < 0)
        fail(job, "cannot encode the certificate");
    if (x != NULL && job->status == CB_JOB_TODO && key != NULL && ctx->want_p12)
        package_p12(ctx, job, key, x, row->org_subject ? row->org : row->name);
    if (job->status == CB_JOB_TODO && x != NULL)
        job->status = CB_JOB_OK;
    X509_free(x);
    EVP_PKEY_free(key);
    X509_REQ_free(req);
}

static void run_issue(const cb_issue_ctx *ctx, cb_issue_job *job)
{
    issue_row row;
    if (issue_kind(ctx->cols, job, &row.org_subject) < 0 || issue_identity(ctx->cols, job, &row) < 0 ||
        (row.months = months_asked(ctx, job, CB_MAX_ISSUE_MONTHS, "a new certificate is valid for")) < 0)
        return;
    X509_NAME *sn = issue_subject(job, &row);
    if (sn == NULL)
        return;
    issue_cert(ctx, job, &row, sn);
    X509_NAME_free(sn);
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
    if (fld(r, c->old_serial, serial, sizeof serial) < 0) {
        reject(job, "old_serial", "'%.40s...' is too long for a serial number", serial);
        return;
    }
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
    /* the ledger keeps the serial the way openssl prints it, whole */
    int n = snprintf(job->old_serial, sizeof job->old_serial, "%s", old.serial);
    if (n < 0 || (size_t)n >= sizeof job->old_serial)
        reject(job, "old_serial", "the certificate %s has a serial longer than the ledger keeps", serial);
    else if (!old_cert_from_ca(ctx->issuer, &old, der, len))
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

/* The old certificate may be renewed at all: a key the profile would
 * still give, not expired. -1 with the job rejected. */
static int renewable(const cb_issue_ctx *ctx, cb_issue_job *job, const old_cert *old,
                     const char *serial, int64_t old_na)
{
    char why[160];
    const char *refused = renew_key_refused(old, why, sizeof why);
    if (refused != NULL) {
        reject(job, "old_serial", "the certificate %s is not renewed: %s", serial, refused);
        return -1;
    }
    if (old_na <= ctx->now) {
        reject(job, "old_serial", "the certificate %s has already expired; an expired "
                                  "certificate cannot be renewed, request a new one", serial);
        return -1;
    }
    return 0;
}

/* A renewal is asked with 60 days or more of validity left on the day
 * the request was received (when the row says that day). -1 with the
 * job rejected. */
static int renewal_in_time(const cb_issue_ctx *ctx, cb_issue_job *job, int64_t old_na)
{
    char rd[64];
    cb_date recv;
    int cut = fld(job->rec, ctx->cols->received_date, rd, sizeof rd) < 0;
    if (!*rd)
        return 0;
    if (cut || cb_date_parse(rd, &recv) < 0) {
        reject(job, "received_date", "'%s' is not a date", rd);
        return -1;
    }
    long left = (long)cb_date_of_instant(old_na) - (long)recv;
    if (left < 60) {
        reject(job, "old_serial",
               "the certificate had %ld days of validity left on the day the request was "
               "received; a renewal needs at least 60 (Nghị định 130/2018/NĐ-CP Điều 63)",
               left);
        return -1;
    }
    return 0;
}

/* The same subject, key and subjectAltName, a new serial, notAfter
 * extended from the old one's. */
static void renew_old(const cb_issue_ctx *ctx, cb_issue_job *job, const old_cert *old,
                      const char *serial)
{
    int64_t old_na = cb_asn1_time_instant(old->validity->notAfter);
    int months;
    if (renewable(ctx, job, old, serial, old_na) < 0 || renewal_in_time(ctx, job, old_na) < 0 ||
        (months = months_asked(ctx, job, CB_MAX_RENEW_MONTHS, "a renewal extends a certificate by")) < 0)
        return;
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
    fld(job->rec, ctx->cols->request_id, id, sizeof id);   /* only whether there is one */
    if (*id == '\0') {
        reject(job, "request_id", "the request id is missing");
        return;
    }
    if (ctx->mode == CB_ISSUE_RENEW)
        run_renew(ctx, job);
    else
        run_issue(ctx, job);
    ERR_clear_error();
}
