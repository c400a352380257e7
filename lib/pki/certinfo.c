/* Fast certificate reading, CRL sets and trust checks: see certinfo.h. */
#include "certinfo.h"
#include "date.h"
#include "strmap.h"

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 5280 Name, without the canonical encoding X509_NAME computes on
 * every decode: SEQUENCE OF SET OF AttributeTypeAndValue. */
typedef STACK_OF(X509_NAME_ENTRY) CB_RDN;
typedef STACK_OF(CB_RDN) CB_NAME;
DEFINE_STACK_OF(CB_RDN)

ASN1_ITEM_TEMPLATE(CB_RDN) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, RDN, X509_NAME_ENTRY)
ASN1_ITEM_TEMPLATE_END(CB_RDN)

ASN1_ITEM_TEMPLATE(CB_NAME) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, Name, CB_RDN)
ASN1_ITEM_TEMPLATE_END(CB_NAME)

typedef struct {
    ASN1_INTEGER *version;
    ASN1_INTEGER *serial;
    X509_ALGOR *sig_alg;
    CB_NAME *issuer;
    X509_VAL *validity;
    CB_NAME *subject;
    ASN1_TYPE *spki;              /* kept opaque: the costly part */
    ASN1_BIT_STRING *issuer_uid;
    ASN1_BIT_STRING *subject_uid;
    STACK_OF(X509_EXTENSION) *extensions;
} CB_TBS;

ASN1_SEQUENCE(CB_TBS) = {
    ASN1_EXP_OPT(CB_TBS, version, ASN1_INTEGER, 0),
    ASN1_SIMPLE(CB_TBS, serial, ASN1_INTEGER),
    ASN1_SIMPLE(CB_TBS, sig_alg, X509_ALGOR),
    ASN1_SIMPLE(CB_TBS, issuer, CB_NAME),
    ASN1_SIMPLE(CB_TBS, validity, X509_VAL),
    ASN1_SIMPLE(CB_TBS, subject, CB_NAME),
    ASN1_SIMPLE(CB_TBS, spki, ASN1_ANY),
    ASN1_IMP_OPT(CB_TBS, issuer_uid, ASN1_BIT_STRING, 1),
    ASN1_IMP_OPT(CB_TBS, subject_uid, ASN1_BIT_STRING, 2),
    ASN1_EXP_SEQUENCE_OF_OPT(CB_TBS, extensions, X509_EXTENSION, 3)
} ASN1_SEQUENCE_END(CB_TBS)

typedef struct {
    CB_TBS *tbs;
    X509_ALGOR *sig_alg;
    ASN1_BIT_STRING *signature;
} CB_CERT;

ASN1_SEQUENCE(CB_CERT) = {
    ASN1_SIMPLE(CB_CERT, tbs, CB_TBS),
    ASN1_SIMPLE(CB_CERT, sig_alg, X509_ALGOR),
    ASN1_SIMPLE(CB_CERT, signature, ASN1_BIT_STRING)
} ASN1_SEQUENCE_END(CB_CERT)

int cb_certinfo_ctx_init(cb_certinfo_ctx *ctx, cb_err *err)
{
    ctx->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (ctx->sha256 == NULL)
        return cb_err_set(err, EX_SOFTWARE, "OpenSSL has no SHA-256");
    return 0;
}

void cb_certinfo_ctx_free(cb_certinfo_ctx *ctx)
{
    EVP_MD_free(ctx->sha256);
    ctx->sha256 = NULL;
}

void cb_cert_info_clear(cb_cert_info *ci)
{
    free(ci->serial);
    free(ci->subject_cn);
    free(ci->subject_o);
    free(ci->subject_ou);
    free(ci->subject_l);
    free(ci->subject_st);
    free(ci->email);
    free(ci->uid);
    free(ci->issuer_cn);
    memset(ci, 0, sizeof *ci);
}

char *cb_asn1_int_hex(const ASN1_INTEGER *ai)
{
    static const char hex[] = "0123456789ABCDEF";
    int len = ASN1_STRING_length(ai);
    const unsigned char *d = ASN1_STRING_get0_data(ai);
    int neg = ASN1_STRING_type(ai) == V_ASN1_NEG_INTEGER;
    char *s = malloc((size_t)len * 2 + 4);
    if (s == NULL)
        return NULL;
    char *p = s;
    if (neg)
        *p++ = '-';
    if (len == 0) {
        *p++ = '0';
        *p++ = '0';
    }
    for (int i = 0; i < len; i++) {
        *p++ = hex[d[i] >> 4];
        *p++ = hex[d[i] & 15];
    }
    *p = '\0';
    return s;
}

char *cb_der_cert_serial(const unsigned char *der, size_t len)
{
    /* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
     * OPTIONAL, serialNumber INTEGER, ... } ... }: two headers, perhaps
     * the version, then the INTEGER, read with OpenSSL's DER primitives. */
    const unsigned char *p = der, *end = der + len;
    long l;
    int tag, cls;
    for (int level = 0; level < 2; level++) {
        int r = ASN1_get_object(&p, &l, &tag, &cls, end - p);
        if ((r & 0x80) || !(r & V_ASN1_CONSTRUCTED) || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL)
            return NULL;
    }
    const unsigned char *q = p;
    int r = ASN1_get_object(&q, &l, &tag, &cls, end - p);
    if (r & 0x80)
        return NULL;
    if (cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0) {
        if (l > end - q)
            return NULL;
        p = q + l;
    }
    ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, end - p);
    if (ai == NULL) {
        ERR_clear_error();
        return NULL;
    }
    char *hex = cb_asn1_int_hex(ai);
    ASN1_INTEGER_free(ai);
    return hex;
}

/* The next DER element at *p (before end): its start and whole length;
 * *p moves past it. With inside, *p moves into it instead. */
static int der_next(const unsigned char **p, const unsigned char *end, int *tag, int *cls,
                    const unsigned char **start, size_t *total, int inside)
{
    const unsigned char *q = *p;
    long l;
    if (*p >= end)
        return -1;
    int r = ASN1_get_object(&q, &l, tag, cls, end - *p);
    /* 0x80: error; 0x01: indefinite length, which DER never uses. */
    if ((r & 0x80) || (r & 0x01) || l > end - q)
        return -1;
    *start = *p;
    *total = (size_t)(q - *p) + (size_t)l;
    *p = inside ? q : q + l;
    return 0;
}

int cb_cert_slice(const unsigned char *der, size_t len, cb_cert_slices *s)
{
    const unsigned char *p = der, *end = der + len, *st, *tend;
    size_t tl;
    int tag, cls;
    memset(s, 0, sizeof *s);
    if (der_next(&p, end, &tag, &cls, &st, &tl, 1) < 0 || tag != V_ASN1_SEQUENCE)
        return -1;
    end = st + tl;
    if (der_next(&p, end, &tag, &cls, &s->tbs, &s->tbs_len, 1) < 0 || tag != V_ASN1_SEQUENCE)
        return -1;
    tend = s->tbs + s->tbs_len;
    if (der_next(&p, tend, &tag, &cls, &st, &tl, 0) < 0)
        return -1;
    if (cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0 &&   /* [0] version */
        der_next(&p, tend, &tag, &cls, &st, &tl, 0) < 0)
        return -1;
    if (tag != V_ASN1_INTEGER || cls != V_ASN1_UNIVERSAL)
        return -1;
    s->serial = st;
    s->serial_len = tl;
    if (der_next(&p, tend, &tag, &cls, &s->tbs_sig_alg, &s->tbs_sig_alg_len, 0) < 0 ||
        der_next(&p, tend, &tag, &cls, &s->issuer, &s->issuer_len, 0) < 0 ||
        der_next(&p, tend, &tag, &cls, &s->validity, &s->validity_len, 0) < 0 ||
        der_next(&p, tend, &tag, &cls, &s->subject, &s->subject_len, 0) < 0 ||
        der_next(&p, tend, &tag, &cls, &s->spki, &s->spki_len, 0) < 0)
        return -1;
    while (p < tend) {   /* issuerUniqueID [1], subjectUniqueID [2], extensions [3] */
        if (der_next(&p, tend, &tag, &cls, &st, &tl, 0) < 0)
            return -1;
        if (cls == V_ASN1_CONTEXT_SPECIFIC && tag == 3) {
            const unsigned char *q = st;
            if (der_next(&q, st + tl, &tag, &cls, &st, &tl, 1) < 0 ||
                der_next(&q, st + tl, &tag, &cls, &s->exts, &s->exts_len, 0) < 0)
                return -1;
        }
    }
    p = tend;
    if (der_next(&p, end, &tag, &cls, &s->sig_alg, &s->sig_alg_len, 0) < 0 ||
        der_next(&p, end, &tag, &cls, &s->sig, &s->sig_len, 0) < 0 || tag != V_ASN1_BIT_STRING)
        return -1;
    return 0;
}

/* The entry's value as UTF-8, whatever its ASN.1 string type; NULL when
 * it is not text in its own type (a UTF8String that is not UTF-8). */
static char *entry_utf8(X509_NAME_ENTRY *e)
{
    unsigned char *out = NULL;
    int n = ASN1_STRING_to_UTF8(&out, X509_NAME_ENTRY_get_data(e));
    if (n < 0) {
        ERR_clear_error();
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (s != NULL) {
        memcpy(s, out, (size_t)n);
        s[n] = '\0';
    }
    OPENSSL_free(out);
    return s;
}

/* Sets *slot to the value, or appends "; value" when the attribute
 * repeats (several OUs). */
static void add_value(char **slot, char *v)
{
    if (v == NULL)
        return;
    if (*slot == NULL) {
        *slot = v;
        return;
    }
    size_t a = strlen(*slot), b = strlen(v);
    char *p = realloc(*slot, a + b + 3);
    if (p != NULL) {
        memcpy(p + a, "; ", 2);
        memcpy(p + a + 2, v, b + 1);
        *slot = p;
    }
    free(v);
}

/* Reads the attributes scan-expiry reports; returns the short name of the
 * first whose value is not text, or NULL. */
static const char *read_name(CB_NAME *name, cb_cert_info *ci, int is_subject)
{
    for (int i = 0; i < sk_CB_RDN_num(name); i++) {
        CB_RDN *rdn = sk_CB_RDN_value(name, i);
        for (int j = 0; j < sk_X509_NAME_ENTRY_num(rdn); j++) {
            X509_NAME_ENTRY *e = sk_X509_NAME_ENTRY_value(rdn, j);
            int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
            char **slot = NULL;
            if (!is_subject) {
                if (nid == NID_commonName)
                    slot = &ci->issuer_cn;
            } else {
                switch (nid) {
                case NID_commonName: slot = &ci->subject_cn; break;
                case NID_organizationName: slot = &ci->subject_o; break;
                case NID_organizationalUnitName: slot = &ci->subject_ou; break;
                case NID_localityName: slot = &ci->subject_l; break;
                case NID_stateOrProvinceName: slot = &ci->subject_st; break;
                case NID_pkcs9_emailAddress: slot = &ci->email; break;
                case NID_userId: slot = &ci->uid; break;
                default: break;
                }
            }
            if (slot == NULL)
                continue;
            char *v = entry_utf8(e);
            if (v == NULL)
                return OBJ_nid2sn(nid);
            if (nid == NID_pkcs9_emailAddress && *slot != NULL) {
                /* One address: the column is where notify sends. */
                ci->more_emails++;
                free(v);
                continue;
            }
            add_value(slot, v);
        }
    }
    return NULL;
}

static void read_san_email(STACK_OF(X509_EXTENSION) *exts, cb_cert_info *ci)
{
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name)
            continue;
        GENERAL_NAMES *gens = X509V3_EXT_d2i(ext);
        if (gens == NULL)
            return;
        for (int j = 0; j < sk_GENERAL_NAME_num(gens); j++) {
            GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);
            if (g->type == GEN_EMAIL) {
                const ASN1_STRING *s = g->d.rfc822Name;
                int n = ASN1_STRING_length(s);
                ci->email = malloc((size_t)n + 1);
                if (ci->email) {
                    memcpy(ci->email, ASN1_STRING_get0_data(s), (size_t)n);
                    ci->email[n] = '\0';
                }
                break;
            }
        }
        GENERAL_NAMES_free(gens);
        return;
    }
}

static int time_of(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return -1;
    *out = cb_instant_from_utc_tm(&tm);
    return 0;
}

int cb_cert_info_parse(cb_certinfo_ctx *ctx, const unsigned char *der, size_t len,
                       cb_cert_info *ci, cb_err *err)
{
    memset(ci, 0, sizeof *ci);
    const unsigned char *p = der;
    CB_CERT *c = (CB_CERT *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(CB_CERT));
    if (c == NULL) {
        ERR_clear_error();
        return cb_err_set(err, EX_DATAERR, "not a readable X.509 certificate (bad DER)");
    }
    CB_TBS *tbs = c->tbs;
    int rc = 0;
    if (time_of(tbs->validity->notBefore, &ci->not_before) < 0 ||
        time_of(tbs->validity->notAfter, &ci->not_after) < 0) {
        rc = cb_err_set(err, EX_DATAERR, "the certificate's validity dates cannot be read");
        goto out;
    }
    ci->serial = cb_asn1_int_hex(tbs->serial);
    const char *bad = read_name(tbs->subject, ci, 1);
    if (bad == NULL && (bad = read_name(tbs->issuer, ci, 0)) != NULL)
        bad = "issuer CN";
    if (bad != NULL) {
        rc = cb_err_set(err, EX_DATAERR, "the certificate's %s is not valid text in its string type "
                                         "(for a UTF8String: not UTF-8)", bad);
        goto out;
    }
    if (ci->email == NULL)
        read_san_email(tbs->extensions, ci);
    if (!EVP_Digest(der, (size_t)(p - der), ci->sha256, NULL, ctx->sha256, NULL))
        rc = cb_err_set(err, EX_SOFTWARE, "SHA-256 failed");
out:
    ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(CB_CERT));
    if (rc < 0)
        cb_cert_info_clear(ci);
    return rc;
}

/* A small hash table from serial (hex) to the CRLs that list it. */
typedef struct crl_entry {
    char *serial;
    X509_CRL *crl;
    struct crl_entry *next;
} crl_entry;

struct cb_crlset {
    crl_entry **slots;
    size_t nslots, n;
    STACK_OF(X509_CRL) *crls;
};

cb_crlset *cb_crlset_new(void)
{
    cb_crlset *set = calloc(1, sizeof *set);
    if (set == NULL)
        return NULL;
    set->nslots = 1024;
    set->slots = calloc(set->nslots, sizeof *set->slots);
    set->crls = sk_X509_CRL_new_null();
    if (set->slots == NULL || set->crls == NULL) {
        cb_crlset_free(set);
        return NULL;
    }
    return set;
}

void cb_crlset_free(cb_crlset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; set->slots && i < set->nslots; i++) {
        for (crl_entry *e = set->slots[i], *next; e; e = next) {
            next = e->next;
            free(e->serial);
            free(e);
        }
    }
    free(set->slots);
    sk_X509_CRL_pop_free(set->crls, X509_CRL_free);
    free(set);
}

static int crlset_grow(cb_crlset *set)
{
    size_t n = set->nslots * 2;
    crl_entry **slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < set->nslots; i++) {
        for (crl_entry *e = set->slots[i], *next; e; e = next) {
            next = e->next;
            size_t h = (size_t)cb_str_hash(e->serial) & (n - 1);
            e->next = slots[h];
            slots[h] = e;
        }
    }
    free(set->slots);
    set->slots = slots;
    set->nslots = n;
    return 0;
}

int cb_crlset_load(cb_crlset *set, const char *path, cb_err *err)
{
    BIO *bio = BIO_new_file(path, "rb");
    if (bio == NULL)
        return cb_err_sys(err, EX_NOINPUT, "--crl %s", path);
    X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
    if (crl == NULL) {
        ERR_clear_error();
        (void)BIO_reset(bio);
        crl = d2i_X509_CRL_bio(bio, NULL);
    }
    BIO_free(bio);
    if (crl == NULL) {
        ERR_clear_error();
        return cb_err_set(err, EX_DATAERR, "--crl %s: not a CRL (PEM or DER)", path);
    }
    if (!sk_X509_CRL_push(set->crls, crl)) {
        X509_CRL_free(crl);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
        const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i));
        crl_entry *e = calloc(1, sizeof *e);
        if (e == NULL || (e->serial = cb_asn1_int_hex(sn)) == NULL) {
            free(e);
            return cb_err_set(err, EX_OSERR, "out of memory");
        }
        e->crl = crl;
        if (set->n + 1 > set->nslots && crlset_grow(set) < 0) {
            free(e->serial);
            free(e);
            return cb_err_set(err, EX_OSERR, "out of memory");
        }
        size_t h = (size_t)cb_str_hash(e->serial) & (set->nslots - 1);
        e->next = set->slots[h];
        set->slots[h] = e;
        set->n++;
    }
    return 0;
}

int cb_crlset_is_revoked(const cb_crlset *set, const char *serial_hex,
                         const unsigned char *der, size_t len)
{
    if (set == NULL || set->n == 0)
        return 0;
    size_t h = (size_t)cb_str_hash(serial_hex) & (set->nslots - 1);
    X509 *x = NULL;
    int revoked = 0;
    for (crl_entry *e = set->slots[h]; e && !revoked; e = e->next) {
        if (strcmp(e->serial, serial_hex) != 0)
            continue;
        /* The serial is listed: only now is the full certificate worth
         * decoding, to match the CRL's issuer. */
        if (x == NULL) {
            const unsigned char *p = der;
            x = d2i_X509(NULL, &p, (long)len);
            if (x == NULL)
                break;
        }
        X509_REVOKED *rev = NULL;
        if (X509_CRL_get0_by_cert(e->crl, &rev, x) == 1)
            revoked = 1;
    }
    X509_free(x);
    ERR_clear_error();
    return revoked;
}
