/* Trust anchors, intermediates, CRLs and the path check: see trust.h. */
#include "trust.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "certread.h"
#include "date.h"
#include "strmap.h"

#define MAX_WARNINGS 64

struct cb_trust {
    cb_trust_opts opts;
    X509_STORE *store;
    X509_STORE_CTX *ctx;
    STACK_OF(X509) *anchors;        /* as loaded, for the CRL issuer warning */
    STACK_OF(X509) *untrusted;      /* --chain, demoted --ca, CA certificates of the input */
    STACK_OF(X509_CRL) *crls;
    char **crl_files;               /* parallel to crls */
    char *warnings[MAX_WARNINGS];
    size_t nwarn;
    int warned_crls;
    /* For the fast path of lib/trustfast.c: every serial any CRL lists,
     * and whether a CRL has a scope (an issuingDistributionPoint), which
     * makes the CRL that covers a certificate depend on the certificate. */
    cb_strmap listed;
    int crl_scoped, crl_check;
    /* Threads verify at once (a read lock over the intermediates);
     * cb_trust_add_intermediate writes, and counts what it added. */
    pthread_rwlock_t lock;
    atomic_ulong generation;
};

/* What the verify callback saw when it stopped the check. */
typedef struct seen {
    const cb_trust_opts *opts;
    int error, depth;
    X509 *cert;                     /* the certificate at fault (a reference) */
    X509_CRL *crl;                  /* the CRL being checked, if any (a reference) */
    /* The first error in the path of a CRL's signer, which OpenSSL checks in
     * a context of its own (and may not pass on). */
    int crl_path_error;
    X509 *crl_path_cert;
    X509_CRL *crl_path_crl;
} seen;

cb_trust *cb_trust_new(const cb_trust_opts *opts, cb_err *err)
{
    cb_trust *t = calloc(1, sizeof *t);
    if (t != NULL)
        pthread_rwlock_init(&t->lock, NULL);
    if (t == NULL || (t->store = X509_STORE_new()) == NULL || (t->ctx = X509_STORE_CTX_new()) == NULL ||
        (t->anchors = sk_X509_new_null()) == NULL || (t->untrusted = sk_X509_new_null()) == NULL ||
        (t->crls = sk_X509_CRL_new_null()) == NULL) {
        cb_trust_free(t);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    if (opts != NULL)
        t->opts = *opts;
    /* What `openssl verify -x509_strict` checks; partial chains only when
     * the operator asks for them. */
    unsigned long flags = X509_V_FLAG_X509_STRICT;
    if (t->opts.partial_chain)
        flags |= X509_V_FLAG_PARTIAL_CHAIN;
    X509_STORE_set_flags(t->store, flags);
    return t;
}

void cb_trust_free(cb_trust *t)
{
    if (t == NULL)
        return;
    X509_STORE_CTX_free(t->ctx);
    X509_STORE_free(t->store);
    sk_X509_pop_free(t->anchors, X509_free);
    sk_X509_pop_free(t->untrusted, X509_free);
    for (int i = 0; t->crl_files && i < sk_X509_CRL_num(t->crls); i++)
        free(t->crl_files[i]);
    free(t->crl_files);
    sk_X509_CRL_pop_free(t->crls, X509_CRL_free);
    for (size_t i = 0; i < t->nwarn; i++)
        free(t->warnings[i]);
    cb_strmap_clear(&t->listed);
    pthread_rwlock_destroy(&t->lock);
    free(t);
}

static void warn(cb_trust *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(cb_trust *t, const char *fmt, ...)
{
    if (t->nwarn == MAX_WARNINGS)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if ((t->warnings[t->nwarn] = strdup(buf)) != NULL)
        t->nwarn++;
}

/* A certificate's or CRL issuer's name for a sentence: its CN, else the
 * whole name in one line, UTF-8. */
static void name_text(const X509_NAME *name, char *out, size_t size)
{
    out[0] = '\0';
    if (name == NULL)
        return;
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i >= 0) {
        unsigned char *u = NULL;
        int n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
        if (n >= 0) {
            snprintf(out, size, "%.*s", n, (const char *)u);
            OPENSSL_free(u);
            return;
        }
    }
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return;
    X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    snprintf(out, size, "%.*s", (int)n, p);
    BIO_free(b);
}

static int add_anchor(cb_trust *t, X509 *x, const char *path, long index);

/* Reads the certificates of a file (any format lib/updates' reader knows)
 * and hands each to add. */
static int load_certs(cb_trust *t, const char *path, const char *opt,
                      int (*add)(cb_trust *, X509 *, const char *, long), cb_err *err)
{
    cb_certs_reader *r = cb_certs_open(path, err);
    if (r == NULL)
        return -1;
    X509 *x;
    long line, index;
    int rc, n = 0;
    while ((rc = cb_certs_next(r, &x, &line, &index, err)) != CB_CERTS_EOF) {
        if (rc == CB_CERTS_FATAL || rc == CB_CERTS_UNREADABLE) {
            if (rc == CB_CERTS_UNREADABLE)
                cb_err_set(err, EX_DATAERR, "%s %s:%ld: %s", opt, path, line, err->msg);
            cb_certs_close(r);
            return -1;
        }
        int ok = add(t, x, path, index);
        X509_free(x);
        if (ok < 0) {
            cb_certs_close(r);
            return cb_err_set(err, EX_OSERR, "out of memory");
        }
        n++;
    }
    cb_certs_close(r);
    /* No intermediates is a PKI of one level: an empty --chain is no error. */
    if (n == 0 && add == add_anchor)
        return cb_err_set(err, EX_DATAERR, "%s %s: no certificate in it", opt, path);
    return 0;
}

static int push_ref(STACK_OF(X509) *sk, X509 *x)
{
    if (X509_up_ref(x) != 1)
        return -1;
    if (!sk_X509_push(sk, x)) {
        X509_free(x);
        return -1;
    }
    return 0;
}

static int add_anchor(cb_trust *t, X509 *x, const char *path, long index)
{
    if (!t->opts.partial_chain && !X509_self_signed(x, 0)) {
        /* An anchor is a self-signed CA the operator trusts; an
         * intermediate given as one is checked up to such an anchor. */
        char cn[256];
        name_text(X509_get_subject_name(x), cn, sizeof cn);
        warn(t, "--ca %s#%ld: \"%s\" is not self-signed: used as an intermediate, not as a trust anchor "
                "(--partial-chain trusts it as it is)", path, index, cn);
        return push_ref(t->untrusted, x);
    }
    if (!X509_STORE_add_cert(t->store, x))
        return -1;
    return push_ref(t->anchors, x);
}

static int add_chain(cb_trust *t, X509 *x, const char *path, long index)
{
    (void)path;
    (void)index;
    return push_ref(t->untrusted, x);
}

int cb_trust_add_anchors(cb_trust *t, const char *path, cb_err *err)
{
    return load_certs(t, path, "--ca", add_anchor, err);
}

int cb_trust_add_chain(cb_trust *t, const char *path, cb_err *err)
{
    return load_certs(t, path, "--chain", add_chain, err);
}

int cb_trust_load(cb_trust *t, const char *const *cas, int nca, const char *const *chains, int nchain,
                  const char *const *crls, int ncrl, cb_err *err)
{
    for (int i = 0; i < nca; i++)
        if (cb_trust_add_anchors(t, cas[i], err) < 0)
            return -1;
    for (int i = 0; i < nchain; i++)
        if (cb_trust_add_chain(t, chains[i], err) < 0)
            return -1;
    for (int i = 0; i < ncrl; i++)
        if (cb_trust_add_crls(t, crls[i], err) < 0)
            return -1;
    if (sk_X509_num(t->anchors) == 0)
        return cb_err_set(err, EX_DATAERR, "--ca: no trust anchor (a self-signed CA certificate) in it; "
                                           "--partial-chain trusts an intermediate as an anchor");
    return 0;
}

int cb_trust_anchor_count(const cb_trust *t)
{
    return sk_X509_num(t->anchors);
}

/* RFC 5280 5.2.3: conforming CRL issuers MUST include the CRL number, by
 * which a CRL replaces the one before. Path validation (6.3.3) does not
 * need it, nor does openssl verify, and `openssl ca` without a crlnumber
 * file makes such CRLs: a warning, and the CRL is used. */
static int has_crl_number(X509_CRL *crl)
{
    ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    ASN1_INTEGER_free(n);
    ERR_clear_error();
    return n != NULL;
}

/* The CRL's serials into the set the fast path looks a certificate up in:
 * a serial listed anywhere sends the certificate to the full verifier. */
static int list_serials(cb_trust *t, X509_CRL *crl, cb_err *err)
{
    if (X509_CRL_get_ext_by_NID(crl, NID_issuing_distribution_point, -1) >= 0)
        t->crl_scoped = 1;
    ERR_clear_error();
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
        char *hex = cb_asn1_int_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)));
        int rc = hex == NULL ? -1 : cb_strmap_put(&t->listed, hex, "");
        free(hex);
        if (rc < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return 0;
}

static int keep_crl(cb_trust *t, X509_CRL *crl, const char *path, cb_err *err)
{
    if (!has_crl_number(crl)) {
        char cn[256];
        name_text(X509_CRL_get_issuer(crl), cn, sizeof cn);
        warn(t, "--crl %s: the CRL of \"%s\" has no CRL number (RFC 5280 5.2.3 requires one)", path, cn);
    }
    int n = sk_X509_CRL_num(t->crls);
    char **files = realloc(t->crl_files, (size_t)(n + 1) * sizeof *files);
    if (files == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    t->crl_files = files;
    if ((files[n] = strdup(path)) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (!X509_STORE_add_crl(t->store, crl) || !sk_X509_CRL_push(t->crls, crl)) {
        free(files[n]);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return list_serials(t, crl, err);
}

int cb_trust_add_crls(cb_trust *t, const char *path, cb_err *err)
{
    BIO *bio = BIO_new_file(path, "rb");
    if (bio == NULL) {
        ERR_clear_error();
        return cb_err_sys(err, EX_NOINPUT, "--crl %s", path);
    }
    /* Revocation of the whole path, each CRL's signer found by path
     * building (a separate CRL-signing key, a re-keyed CA), deltas; on as
     * soon as CRLs are asked for, even if none of them is usable. */
    X509_STORE_set_flags(t->store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL |
                                       X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS);
    t->crl_check = 1;
    int n = 0, rc = 0;
    X509_CRL *crl;
    while (rc == 0 && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
        X509_CRL_up_ref(crl);
        rc = keep_crl(t, crl, path, err);
        X509_CRL_free(crl);
        X509_CRL_free(crl);
        n++;
    }
    ERR_clear_error();
    if (rc == 0 && n == 0) {
        (void)BIO_reset(bio);
        if ((crl = d2i_X509_CRL_bio(bio, NULL)) != NULL) {
            rc = keep_crl(t, crl, path, err);
            X509_CRL_free(crl);
            n++;
        }
        ERR_clear_error();
    }
    BIO_free(bio);
    if (rc == 0 && n == 0)
        rc = cb_err_set(err, EX_DATAERR, "--crl %s: not a CRL (PEM or DER)", path);
    t->warned_crls = 0;
    return rc;
}

static int known_name(const STACK_OF(X509) *sk, const X509_NAME *name)
{
    for (int i = 0; i < sk_X509_num(sk); i++)
        if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(sk, i)), name) == 0)
            return 1;
    return 0;
}

const char *cb_trust_warning(cb_trust *t, size_t i)
{
    if (!t->warned_crls) {
        t->warned_crls = 1;
        for (int k = 0; k < sk_X509_CRL_num(t->crls); k++) {
            const X509_NAME *iss = X509_CRL_get_issuer(sk_X509_CRL_value(t->crls, k));
            if (known_name(t->anchors, iss) || known_name(t->untrusted, iss))
                continue;
            char cn[256];
            name_text(iss, cn, sizeof cn);
            warn(t, "--crl %s: issued by \"%s\", which is none of the --ca and --chain certificates: "
                    "this CRL serves only if that CA appears in the input", t->crl_files[k], cn);
        }
    }
    return i < t->nwarn ? t->warnings[i] : NULL;
}

static int is_intermediate(const cb_trust *t, X509 *x)
{
    for (int i = 0; i < sk_X509_num(t->untrusted); i++)
        if (X509_cmp(sk_X509_value(t->untrusted, i), x) == 0)
            return 1;
    return 0;
}

int cb_trust_add_intermediate(cb_trust *t, X509 *x, cb_err *err)
{
    if (!(X509_get_extension_flags(x) & EXFLAG_CA))
        return 0;
    pthread_rwlock_wrlock(&t->lock);
    int rc = 0;
    if (!is_intermediate(t, x)) {
        if (push_ref(t->untrusted, x) < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
        else
            atomic_fetch_add(&t->generation, 1);
    }
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

unsigned long cb_trust_generation(cb_trust *t)
{
    return atomic_load(&t->generation);
}

const cb_trust_opts *cb_trust_options(const cb_trust *t)
{
    return &t->opts;
}

int cb_trust_crl_lists(const cb_trust *t, const char *serial_hex)
{
    return cb_strmap_get(&t->listed, serial_hex) != NULL;
}

int cb_trust_checks_crls(const cb_trust *t)
{
    return t->crl_check;
}

int cb_trust_crls_scoped(const cb_trust *t)
{
    return t->crl_scoped;
}

X509_STORE *cb_trust_store(cb_trust *t)
{
    return t->store;
}

STACK_OF(X509) *cb_trust_intermediates(cb_trust *t)
{
    return t->untrusted;
}

/* The errors that only say revocation could not be established. */
static int crl_unusable(int e)
{
    switch (e) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* An ASN.1 time as the calendar date in Vietnam, "?" when unreadable. */
static void date_text(const ASN1_TIME *a, char out[11])
{
    struct tm tm;
    if (a == NULL || !ASN1_TIME_to_tm(a, &tm)) {
        strcpy(out, "?");
        return;
    }
    cb_date_format(cb_date_of_instant(cb_instant_from_utc_tm(&tm)), out);
}

/* When the certificate is listed on the CRL: the revocation date. */
static void revoked_on(X509_CRL *crl, X509 *x, char out[11])
{
    X509_REVOKED *rev = NULL;
    if (crl != NULL && X509_CRL_get0_by_cert(crl, &rev, x) == 1)
        date_text(X509_REVOKED_get0_revocationDate(rev), out);
    else
        strcpy(out, "?");
}

/* What a sentence of describe() says when, besides who and the issuer. */
enum { WHEN_NONE, WHEN_REVOKED, WHEN_CRL_NEXT, WHEN_CRL_LAST, WHEN_NOT_AFTER, WHEN_NOT_BEFORE };

/* The operator's sentences, one row per kind of failure: up to three
 * OpenSSL codes, the date the sentence cites, and the English and
 * Vietnamese text with {ca} ("CA " above the certificate itself), {who}
 * (the certificate at fault), {iss} (its issuer, or the CRL's), {day} and
 * {why} (OpenSSL's own text, for the codes without a row). */
static const struct path_sentence {
    int codes[3];
    int when;
    const char *en, *vi;
} path_sentences[] = {
    {{X509_V_ERR_CERT_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE,
      X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY}, WHEN_NONE,
     "the signature on the {ca}certificate of \"{who}\" does not verify with the key of \"{iss}\"",
     "chữ ký trên chứng thư số của {ca}\"{who}\" không khớp với khóa của \"{iss}\""},
    {{X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY}, WHEN_NONE,
     "the certificate of \"{iss}\" (the issuer of \"{who}\") is in neither --ca nor --chain: no path to a trust anchor",
     "không có chứng thư số của \"{iss}\" (CA cấp cho \"{who}\") trong --ca hay --chain: "
     "không dựng được đường tới một CA gốc tin cậy"},
    {{X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN}, WHEN_NONE,
     "\"{who}\" is self-signed but not a trust anchor of --ca",
     "\"{who}\" tự ký nhưng không phải CA gốc tin cậy của --ca"},
    {{X509_V_ERR_CERT_REVOKED}, WHEN_REVOKED,
     "the {ca}certificate of \"{who}\" is revoked since {day} (CRL of \"{iss}\")",
     "chứng thư số của {ca}\"{who}\" đã bị thu hồi từ ngày {day} (CRL của \"{iss}\")"},
    {{X509_V_ERR_UNABLE_TO_GET_CRL}, WHEN_NONE,
     "no usable CRL of \"{iss}\" covers \"{who}\": its revocation cannot be established",
     "không có CRL dùng được của \"{iss}\" cho \"{who}\": không xác định được tình trạng thu hồi"},
    {{X509_V_ERR_CRL_HAS_EXPIRED}, WHEN_CRL_NEXT,
     "the CRL of \"{iss}\" expired on {day}: the revocation of \"{who}\" cannot be established",
     "CRL của \"{iss}\" đã hết hạn ngày {day}: không xác định được tình trạng thu hồi của \"{who}\""},
    {{X509_V_ERR_CRL_NOT_YET_VALID}, WHEN_CRL_LAST,
     "the CRL of \"{iss}\" is only valid from {day}",
     "CRL của \"{iss}\" chỉ có hiệu lực từ ngày {day}"},
    {{X509_V_ERR_CRL_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE}, WHEN_NONE,
     "the signature on the CRL of \"{iss}\" does not verify",
     "chữ ký trên CRL của \"{iss}\" không đúng"},
    {{X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, X509_V_ERR_CRL_PATH_VALIDATION_ERROR}, WHEN_NONE,
     "the certificate that signed the CRL of \"{iss}\" is missing or does not verify",
     "chứng thư số đã ký CRL của \"{iss}\" không tìm thấy hoặc không kiểm tra được"},
    {{X509_V_ERR_KEYUSAGE_NO_CRL_SIGN}, WHEN_NONE,
     "the CRL of \"{iss}\" is signed by a certificate without the cRLSign key usage",
     "CRL của \"{iss}\" được ký bằng chứng thư số không có mục đích cRLSign"},
    {{X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION}, WHEN_NONE,
     "the CRL of \"{iss}\" has a critical extension that is not understood",
     "CRL của \"{iss}\" có một phần mở rộng critical không được hỗ trợ"},
    {{X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION}, WHEN_NONE,
     "the {ca}certificate of \"{who}\" has a critical extension that is not understood",
     "chứng thư số của {ca}\"{who}\" có một phần mở rộng critical không được hỗ trợ"},
    {{X509_V_ERR_PATH_LENGTH_EXCEEDED}, WHEN_NONE,
     "the path under \"{who}\" is longer than its pathLenConstraint allows",
     "đường chứng thực dưới \"{who}\" dài hơn giới hạn pathLenConstraint của nó"},
    {{X509_V_ERR_INVALID_CA}, WHEN_NONE,
     "\"{who}\" signed a certificate but is no CA allowed to "
     "(basicConstraints CA:TRUE and the keyCertSign key usage)",
     "\"{who}\" đã ký chứng thư số khác nhưng không phải là CA được phép ký "
     "(basicConstraints CA:TRUE và mục đích keyCertSign)"},
    {{X509_V_ERR_KEYUSAGE_NO_CERTSIGN}, WHEN_NONE,
     "\"{who}\" signed a certificate but its key usage lacks keyCertSign",
     "\"{who}\" đã ký chứng thư số khác nhưng không có mục đích keyCertSign"},
    {{X509_V_ERR_CERT_HAS_EXPIRED}, WHEN_NOT_AFTER,
     "the {ca}certificate of \"{who}\" expired on {day}",
     "chứng thư số của {ca}\"{who}\" đã hết hạn ngày {day}"},
    {{X509_V_ERR_CERT_NOT_YET_VALID}, WHEN_NOT_BEFORE,
     "the {ca}certificate of \"{who}\" is only valid from {day}",
     "chứng thư số của {ca}\"{who}\" chỉ có hiệu lực từ ngày {day}"},
    {{X509_V_ERR_CA_CERT_MISSING_KEY_USAGE}, WHEN_NONE,
     "the CA certificate of \"{who}\" has no keyUsage extension (RFC 5280 4.2.1.3)",
     "chứng thư số của CA \"{who}\" không có phần mở rộng keyUsage (RFC 5280 4.2.1.3)"},
    {{X509_V_ERR_CA_BCONS_NOT_CRITICAL}, WHEN_NONE,
     "the basicConstraints of the CA \"{who}\" are not marked critical (RFC 5280 4.2.1.9)",
     "basicConstraints của CA \"{who}\" không được đánh dấu critical (RFC 5280 4.2.1.9)"},
    {{X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER}, WHEN_NONE,
     "the {ca}certificate of \"{who}\" lacks a key identifier (authorityKeyIdentifier, RFC 5280 4.2.1.1-2)",
     "chứng thư số của {ca}\"{who}\" thiếu định danh khóa (authorityKeyIdentifier, RFC 5280 4.2.1.1-2)"},
    {{X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER}, WHEN_NONE,
     "the {ca}certificate of \"{who}\" lacks a key identifier (subjectKeyIdentifier, RFC 5280 4.2.1.1-2)",
     "chứng thư số của {ca}\"{who}\" thiếu định danh khóa (subjectKeyIdentifier, RFC 5280 4.2.1.1-2)"},
};

static const struct path_sentence path_other = {
    {0}, WHEN_NONE, "the path of \"{who}\" does not verify: {why}",
    "đường chứng thực của \"{who}\" không hợp lệ: {why} (OpenSSL)"};

static const struct path_sentence *path_sentence_of(int e)
{
    for (size_t i = 0; i < sizeof path_sentences / sizeof path_sentences[0]; i++)
        for (int k = 0; k < 3 && path_sentences[i].codes[k]; k++)
            if (path_sentences[i].codes[k] == e)
                return &path_sentences[i];
    return &path_other;
}

/* The date a sentence cites. */
static void when_text(int when, X509 *x, X509_CRL *crl, char day[11])
{
    switch (when) {
    case WHEN_REVOKED: revoked_on(crl, x, day); break;
    case WHEN_CRL_NEXT: date_text(crl ? X509_CRL_get0_nextUpdate(crl) : NULL, day); break;
    case WHEN_CRL_LAST: date_text(crl ? X509_CRL_get0_lastUpdate(crl) : NULL, day); break;
    case WHEN_NOT_AFTER: date_text(X509_get0_notAfter(x), day); break;
    case WHEN_NOT_BEFORE: date_text(X509_get0_notBefore(x), day); break;
    default: day[0] = '\0'; break;
    }
}

/* tmpl with its {name}s replaced by the values of names, into out
 * (cut at size like snprintf). */
static void fill_sentence(const char *tmpl, const char *const names[], const char *const values[],
                          char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 1 < size; p++) {
        const char *v = NULL;
        size_t len = 0;
        for (int k = 0; *p == '{' && names[k] && v == NULL; k++)
            if (strncmp(p + 1, names[k], len = strlen(names[k])) == 0 && p[1 + len] == '}')
                v = values[k];
        if (v == NULL) {
            out[n++] = *p;
            continue;
        }
        for (; *v && n + 1 < size; v++)
            out[n++] = *v;
        p += len + 1;
    }
    if (size > 0)
        out[n] = '\0';
}

/* The operator's sentence for what stopped the path check: who (the
 * certificate at fault, a CA above the certificate itself, the CRL's
 * issuer), what, and since when. English, or Vietnamese with vi. */
static void describe(int e, int depth, X509 *x, X509_CRL *crl, int vi, char *out, size_t size)
{
    char who[256], iss[256], day[11];
    name_text(X509_get_subject_name(x), who, sizeof who);
    name_text(crl ? X509_CRL_get_issuer(crl) : X509_get_issuer_name(x), iss, sizeof iss);
    const struct path_sentence *s = path_sentence_of(e);
    when_text(s->when, x, crl, day);
    static const char *const names[] = {"ca", "who", "iss", "day", "why", NULL};
    const char *const values[] = {depth > 0 ? "CA " : "", who, iss, day,
                                  s == &path_other ? X509_verify_cert_error_string(e) : ""};
    fill_sentence(vi ? s->vi : s->en, names, values, out, size);
}

/* The sentence for a CRL whose signer's own path fails. */
static void describe_crl_signer(int e, X509 *x, X509_CRL *crl, int vi, char *out, size_t size)
{
    char who[256], iss[256], why[400];
    name_text(x ? X509_get_subject_name(x) : NULL, who, sizeof who);
    name_text(crl ? X509_CRL_get_issuer(crl) : NULL, iss, sizeof iss);
    if (e == X509_V_ERR_INVALID_PURPOSE) {
        snprintf(out, size, vi ? "CRL của \"%s\" được ký bằng chứng thư số không có mục đích cRLSign"
                               : "the CRL of \"%s\" is signed by a certificate without the cRLSign key usage",
                 iss);
        return;
    }
    if (x == NULL)
        snprintf(why, sizeof why, "%s", X509_verify_cert_error_string(e));
    else
        describe(e, 0, x, NULL, vi, why, sizeof why);
    snprintf(out, size, vi ? "chứng thư số đã ký CRL của \"%s\" không hợp lệ: %s"
                           : "the certificate that signed the CRL of \"%s\" is not valid: %s",
             iss, why);
}

static void hold_cert(X509 **slot, X509 *x)
{
    X509_free(*slot);
    *slot = x != NULL && X509_up_ref(x) == 1 ? x : NULL;
}

static void hold_crl(X509_CRL **slot, X509_CRL *crl)
{
    X509_CRL_free(*slot);
    *slot = crl != NULL && X509_CRL_up_ref(crl) == 1 ? crl : NULL;
}

/* An error in the path of a CRL's signer (RFC 5280 6.3.3 (f)): the CRL
 * cannot be relied on, even where OpenSSL goes on using it. */
static int crl_path_cb(seen *s, X509_STORE_CTX *ctx, X509_STORE_CTX *parent)
{
    if (s->opts->crl_optional)
        return 1;
    if (s->crl_path_error == 0) {
        s->crl_path_error = X509_STORE_CTX_get_error(ctx);
        hold_cert(&s->crl_path_cert, X509_STORE_CTX_get_current_cert(ctx));
        hold_crl(&s->crl_path_crl, X509_STORE_CTX_get0_current_crl(parent));
    }
    return 0;
}

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
    if (ok)
        return 1;
    X509_STORE_CTX *parent = X509_STORE_CTX_get0_parent_ctx(ctx);
    if (parent != NULL)
        return crl_path_cb(X509_STORE_CTX_get_app_data(parent), ctx, parent);
    seen *s = X509_STORE_CTX_get_app_data(ctx);
    int e = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);
    if (depth == 0 && ((e == X509_V_ERR_CERT_NOT_YET_VALID && s->opts->leaf != CB_TRUST_LEAF_DATES) ||
                       (e == X509_V_ERR_CERT_HAS_EXPIRED && s->opts->leaf == CB_TRUST_LEAF_ANY_DATES)))
        return 1;
    if (s->opts->crl_optional && crl_unusable(e))
        return 1;
    s->error = e;
    s->depth = depth;
    hold_cert(&s->cert, X509_STORE_CTX_get_current_cert(ctx));
    hold_crl(&s->crl, X509_STORE_CTX_get0_current_crl(ctx));
    return 0;
}

/* The verdict from what the callback saw. */
static void conclude(cb_trust *t, X509 *x, int ok, seen *s, cb_trust_result *res)
{
    if (s->crl_path_error != 0 && (ok == 1 || s->error == X509_V_ERR_CRL_PATH_VALIDATION_ERROR)) {
        res->verdict = CB_TRUST_UNTRUSTED;
        res->error = X509_V_ERR_CRL_PATH_VALIDATION_ERROR;
        describe_crl_signer(s->crl_path_error, s->crl_path_cert, s->crl_path_crl, t->opts.lang_vi, res->problem,
                            sizeof res->problem);
    } else if (ok == 1) {
        res->verdict = CB_TRUST_OK;
    } else {
        res->verdict = s->error == X509_V_ERR_CERT_REVOKED && s->depth == 0 ? CB_TRUST_REVOKED
                                                                             : CB_TRUST_UNTRUSTED;
        res->error = s->error;
        res->depth = s->depth;
        describe(s->error, s->depth, s->cert ? s->cert : x, s->crl, t->opts.lang_vi, res->problem,
                 sizeof res->problem);
    }
}

/* The intermediates for x: a CA certificate of the input is among them
 * when it is itself checked (as when it was added before), so a copy of the
 * list with it when it is not there yet. Under the read lock. */
static STACK_OF(X509) *untrusted_for(cb_trust *t, X509 *x, int with_self, STACK_OF(X509) **copy)
{
    *copy = NULL;
    if (!with_self || !(X509_get_extension_flags(x) & EXFLAG_CA) || is_intermediate(t, x))
        return t->untrusted;
    if ((*copy = sk_X509_dup(t->untrusted)) == NULL || !sk_X509_push(*copy, x)) {
        sk_X509_free(*copy);
        *copy = NULL;
        return NULL;
    }
    return *copy;
}

int cb_trust_verify_in(cb_trust *t, X509_STORE_CTX *ctx, X509 *x, int with_self, int64_t at,
                       cb_trust_result *res, STACK_OF(X509) **chain, cb_err *err)
{
    memset(res, 0, sizeof *res);
    if (chain != NULL)
        *chain = NULL;
    seen s = {.opts = &t->opts};
    pthread_rwlock_rdlock(&t->lock);
    res->generation = atomic_load(&t->generation);
    STACK_OF(X509) *copy, *untrusted = untrusted_for(t, x, with_self, &copy);
    if (untrusted == NULL || !X509_STORE_CTX_init(ctx, t->store, x, untrusted)) {
        pthread_rwlock_unlock(&t->lock);
        sk_X509_free(copy);
        ERR_clear_error();
        return cb_err_set(err, EX_SOFTWARE, "cannot set up a certificate check (OpenSSL)");
    }
    X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
    X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
    X509_STORE_CTX_set_app_data(ctx, &s);
    int ok = X509_verify_cert(ctx);
    if (ok != 1 && s.error == 0) {
        /* stopped without the callback: no anchor at all, or an internal error */
        s.error = X509_STORE_CTX_get_error(ctx);
        s.depth = X509_STORE_CTX_get_error_depth(ctx);
        if (s.error == X509_V_OK)
            s.error = X509_V_ERR_UNSPECIFIED;
    }
    if (ok == 1 && chain != NULL)
        *chain = X509_STORE_CTX_get1_chain(ctx);
    X509_STORE_CTX_cleanup(ctx);
    pthread_rwlock_unlock(&t->lock);
    sk_X509_free(copy);
    ERR_clear_error();
    conclude(t, x, ok, &s, res);
    X509_free(s.cert);
    X509_CRL_free(s.crl);
    X509_free(s.crl_path_cert);
    X509_CRL_free(s.crl_path_crl);
    return (int)res->verdict;
}

int cb_trust_verify(cb_trust *t, X509 *x, int64_t at, cb_trust_result *res, cb_err *err)
{
    return cb_trust_verify_in(t, t->ctx, x, 0, at, res, NULL, err);
}
