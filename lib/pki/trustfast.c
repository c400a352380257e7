/* Trust decided once per issuer: see trustfast.h. The end-entity checks
 * below are those `openssl verify -x509_strict` makes of a certificate at
 * depth 0 once its issuer's path is known good; each is written so that
 * whatever it does not recognise sends the certificate to the full
 * verifier rather than guessing. */
#include "trustfast.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "trustcache.h"

/* A run meets a handful of issuers; past this many, the others go through
 * the full verifier. */
#define MAX_ISSUERS 64

typedef struct issuer {
    unsigned char *key;             /* issuer name DER, then the AKID key id */
    size_t key_len;
    unsigned char *sig_alg;         /* the signature algorithm the first certificate used */
    size_t sig_alg_len;
    X509 *cert;                     /* the issuer path building chose */
    EVP_MD *md;                     /* of that signature algorithm */
    EVP_PKEY_CTX *verify;           /* its key, set up to verify such signatures */
    unsigned char *canon;           /* its subject, as X509_NAME_cmp compares it (see name_canon) */
    size_t canon_len;
    unsigned char spki[32];         /* SHA-256 of its public key (DER), for the trust cache */
} issuer;

/* The curves of the subjects' EC keys met so far (one, usually). */
#define MAX_CURVES 4

struct cb_trust_worker {
    cb_trust *t;
    int full;
    X509_STORE_CTX *ctx;
    issuer issuers[MAX_ISSUERS];
    size_t n;
    unsigned long generation;       /* of the issuers kept */
    unsigned long fast;
    int curve_nid[MAX_CURVES];
    EC_GROUP *curve[MAX_CURVES];
    size_t ncurves;
    cb_trustcache *cache;           /* certificates vouched for before (NULL: none) */
};

/* What the fast path reads of a certificate. */
typedef struct leaf {
    cb_cert_slices sl;
    unsigned char keyid[64];        /* authorityKeyIdentifier's key id */
    size_t keyid_len;
    char *serial;                   /* hex */
    unsigned char *canon;           /* the subject, as X509_NAME_cmp compares it */
    size_t canon_len;
} leaf;

cb_trust_worker *cb_trust_worker_new(cb_trust *t, int full, cb_err *err)
{
    cb_trust_worker *w = calloc(1, sizeof *w);
    if (w == NULL || (w->ctx = X509_STORE_CTX_new()) == NULL) {
        cb_trust_worker_free(w);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    w->t = t;
    w->full = full;
    w->generation = cb_trust_generation(t);
    return w;
}

static void drop_issuers(cb_trust_worker *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->issuers[i].key);
        free(w->issuers[i].sig_alg);
        X509_free(w->issuers[i].cert);
        EVP_MD_free(w->issuers[i].md);
        EVP_PKEY_CTX_free(w->issuers[i].verify);
        free(w->issuers[i].canon);
    }
    w->n = 0;
}

void cb_trust_worker_free(cb_trust_worker *w)
{
    if (w == NULL)
        return;
    drop_issuers(w);
    X509_STORE_CTX_free(w->ctx);
    for (size_t i = 0; i < w->ncurves; i++)
        EC_GROUP_free(w->curve[i]);
    free(w);
}

void cb_trust_worker_use_trustcache(cb_trust_worker *w, cb_trustcache *c)
{
    w->cache = c;
}

unsigned long cb_trust_worker_fast_count(const cb_trust_worker *w)
{
    return w->fast;
}

static void leaf_clear(leaf *l)
{
    free(l->serial);
    free(l->canon);
}

/* An end-entity's basicConstraints: cA false, no pathLenConstraint. */
static int plain_bcons(X509_EXTENSION *ext)
{
    BASIC_CONSTRAINTS *bc = X509V3_EXT_d2i(ext);
    int ok = bc != NULL && !bc->ca && bc->pathlen == NULL;
    BASIC_CONSTRAINTS_free(bc);
    return ok;
}

/* keyUsage without keyCertSign (-x509_strict: not for an end-entity). */
static int plain_key_usage(X509_EXTENSION *ext)
{
    ASN1_BIT_STRING *ku = X509V3_EXT_d2i(ext);
    int ok = ku != NULL && !ASN1_BIT_STRING_get_bit(ku, 5);
    ASN1_BIT_STRING_free(ku);
    return ok;
}

/* An authorityKeyIdentifier of a key id only (path building then matches
 * the issuer by name and key id alone), not critical. */
static int take_akid(X509_EXTENSION *ext, leaf *l)
{
    if (X509_EXTENSION_get_critical(ext))
        return 0;
    AUTHORITY_KEYID *ak = X509V3_EXT_d2i(ext);
    int ok = ak != NULL && ak->keyid != NULL && ak->issuer == NULL && ak->serial == NULL;
    AUTHORITY_KEYID_free(ak);
    if (!ok)
        return 0;
    /* The key id's bytes, found again in the extension's own DER: the
     * OCTET STRING inside [0]. */
    const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
    const unsigned char *p = ASN1_STRING_get0_data(v), *end = p + ASN1_STRING_length(v);
    long n;
    int tag, cls;
    if ((ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_SEQUENCE ||
        (ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80) || cls != V_ASN1_CONTEXT_SPECIFIC || tag != 0 ||
        n > end - p || n == 0 || (size_t)n > sizeof l->keyid)
        return 0;
    memcpy(l->keyid, p, (size_t)n);
    l->keyid_len = (size_t)n;
    return 1;
}

/* A subjectAltName with at least one name; a CRL distribution point list
 * without reasons or CRL issuers (whose CRL then depends on the
 * certificate); the other known extensions decodable. */
static int decodes_plainly(X509_EXTENSION *ext, int nid)
{
    void *v = X509V3_EXT_d2i(ext);
    int ok = v != NULL;
    if (ok && nid == NID_subject_alt_name)
        ok = sk_GENERAL_NAME_num(v) > 0;
    if (ok && nid == NID_crl_distribution_points) {
        for (int i = 0; ok && i < sk_DIST_POINT_num(v); i++) {
            DIST_POINT *dp = sk_DIST_POINT_value(v, i);
            ok = dp->reasons == NULL && dp->CRLissuer == NULL;
        }
    }
    const X509V3_EXT_METHOD *m = X509V3_EXT_get(ext);
    if (v != NULL && m != NULL && m->it != NULL)
        ASN1_item_free(v, ASN1_ITEM_ptr(m->it));
    return ok;
}

/* One extension of an end-entity: 1 when OpenSSL would find nothing to
 * say of it at depth 0. */
static int plain_extension(X509_EXTENSION *ext, leaf *l)
{
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    switch (nid) {
    case NID_basic_constraints: return plain_bcons(ext);
    case NID_key_usage: return plain_key_usage(ext);
    case NID_authority_key_identifier: return take_akid(ext, l);
    case NID_subject_key_identifier:
    case NID_info_access:
        return !X509_EXTENSION_get_critical(ext) && decodes_plainly(ext, nid);
    case NID_ext_key_usage:
    case NID_subject_alt_name:
    case NID_crl_distribution_points:
    case NID_certificate_policies:
        return decodes_plainly(ext, nid);
    default:
        /* Unknown and not critical: ignored by OpenSSL too. Critical, or
         * one of those that constrain a path (names, policies, proxies,
         * RFC 3779 resources, Netscape's types): the full verifier. */
        return !X509_EXTENSION_get_critical(ext) && X509_supported_extension(ext) == 0 &&
               nid != NID_proxyCertInfo && nid != NID_netscape_cert_type && nid != NID_freshest_crl;
    }
}

static int plain_extensions(const leaf *cl, leaf *l)
{
    const unsigned char *p = cl->sl.exts;
    if (p == NULL)
        return 0;   /* a v3 end-entity without authorityKeyIdentifier */
    X509_EXTENSIONS *exts = d2i_X509_EXTENSIONS(NULL, &p, (long)cl->sl.exts_len);
    int n = sk_X509_EXTENSION_num(exts), ok = exts != NULL && p == cl->sl.exts + cl->sl.exts_len;
    for (int i = 0; ok && i < n; i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
        for (int j = 0; ok && j < i; j++)   /* a duplicate makes the certificate invalid */
            ok = OBJ_cmp(X509_EXTENSION_get_object(e), X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, j))) != 0;
        ok = ok && plain_extension(e, l);
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok && l->keyid_len > 0;
}

/* The subject's key as OpenSSL's decoder would take it: RSA, or EC on a
 * named curve with a point on it (explicit curves fail -x509_strict). */
static const EC_GROUP *curve(cb_trust_worker *w, int nid)
{
    for (size_t i = 0; i < w->ncurves; i++)
        if (w->curve_nid[i] == nid)
            return w->curve[i];
    if (w->ncurves == MAX_CURVES || (w->curve[w->ncurves] = EC_GROUP_new_by_curve_name(nid)) == NULL)
        return NULL;
    w->curve_nid[w->ncurves] = nid;
    return w->curve[w->ncurves++];
}

static int plain_key(cb_trust_worker *w, const cb_cert_slices *sl)
{
    const unsigned char *p = sl->spki, *end = sl->spki + sl->spki_len;
    long n;
    int tag, cls;
    if ((ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_SEQUENCE)
        return 0;
    X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, end - p);
    ASN1_BIT_STRING *bits = alg ? d2i_ASN1_BIT_STRING(NULL, &p, end - p) : NULL;
    int ok = 0;
    if (bits != NULL && p == end) {
        const ASN1_OBJECT *oid;
        int ptype;
        const void *pval;
        X509_ALGOR_get0(&oid, &ptype, &pval, alg);
        int nid = OBJ_obj2nid(oid);
        if (nid == NID_rsaEncryption && ptype == V_ASN1_NULL) {
            const unsigned char *k = ASN1_STRING_get0_data(bits);
            EVP_PKEY *pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &k, ASN1_STRING_length(bits));
            ok = pk != NULL;
            EVP_PKEY_free(pk);
        } else if (nid == NID_X9_62_id_ecPublicKey && ptype == V_ASN1_OBJECT) {
            const EC_GROUP *g = curve(w, OBJ_obj2nid(pval));
            EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
            ok = pt != NULL && EC_POINT_oct2point(g, pt, ASN1_STRING_get0_data(bits),
                                                  (size_t)ASN1_STRING_length(bits), NULL) == 1;
            EC_POINT_free(pt);
        }
    }
    ASN1_BIT_STRING_free(bits);
    X509_ALGOR_free(alg);
    return ok;
}

/* A name the way X509_NAME_cmp compares it (OpenSSL's x509_name_canon):
 * each non-empty RDN, then each attribute's type and value, a text value
 * as UTF-8 with its spaces trimmed and collapsed and its ASCII in lower
 * case, another as it is. Decoding the subject as an X509_NAME costs more
 * than the rest of the short check; this reads it where it lies. The
 * bytes only serve to compare two names. */
typedef struct canon {
    unsigned char *b;
    size_t len, cap;
} canon;

static int put(canon *c, const void *p, size_t n)
{
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        while (cap < c->len + n)
            cap *= 2;
        unsigned char *q = realloc(c->b, cap);
        if (q == NULL)
            return -1;
        c->b = q;
        c->cap = cap;
    }
    memcpy(c->b + c->len, p, n);
    c->len += n;
    return 0;
}

#define TEXT_TYPES (B_ASN1_UTF8STRING | B_ASN1_BMPSTRING | B_ASN1_UNIVERSALSTRING | B_ASN1_PRINTABLESTRING | \
                    B_ASN1_T61STRING | B_ASN1_IA5STRING | B_ASN1_VISIBLESTRING)

static int is_space(unsigned char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* One attribute: OID bytes, then the value's type and canonical bytes;
 * -1 when the value does not convert (the certificate would not decode). */
static int put_attribute(canon *c, const unsigned char *oid, size_t oid_len, const ASN1_STRING *v)
{
    unsigned char hdr[3] = {(unsigned char)(oid_len >> 8), (unsigned char)oid_len, 0};
    unsigned char *u = NULL;
    const unsigned char *from = ASN1_STRING_get0_data(v);
    int n = ASN1_STRING_length(v), type = ASN1_STRING_type(v), text = (ASN1_tag2bit(type) & TEXT_TYPES) != 0;
    if (text) {
        if ((n = ASN1_STRING_to_UTF8(&u, v)) < 0)
            return -1;
        from = u;
        type = V_ASN1_UTF8STRING;
    }
    hdr[2] = (unsigned char)type;
    const unsigned char *end = from + n;
    int rc = put(c, hdr, 3) < 0 || put(c, oid, oid_len) < 0 ? -1 : 0;
    if (rc == 0 && !text)
        rc = put(c, from, (size_t)n);
    while (text && from < end && is_space(*from))
        from++;
    while (text && end > from && is_space(end[-1]))
        end--;
    for (; rc == 0 && text && from < end; from++) {
        unsigned char ch = *from;
        if (ch < 0x80 && is_space(ch)) {
            while (from + 1 < end && is_space(from[1]))
                from++;
            ch = ' ';
        } else if (ch >= 'A' && ch <= 'Z') {
            ch = (unsigned char)(ch - 'A' + 'a');
        }
        rc = put(c, &ch, 1);
    }
    unsigned char sep = 0;   /* ends the value: "ab" + "c" is not "a" + "bc" */
    if (rc == 0)
        rc = put(c, &sep, 1);
    OPENSSL_free(u);
    return rc;
}

static const unsigned char rdn_mark = 0xff;

/* The subject as it lies in the certificate: -1 when it is not a plain
 * Name (the full verifier then decodes it), else the number of attributes. */
static int name_canon(const unsigned char *der, size_t len, canon *c)
{
    const unsigned char *p = der, *end = der + len;
    long n;
    int tag, cls, count = 0;
    if ((ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_SEQUENCE || p + n != end)
        return -1;
    while (p < end) {
        if ((ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_SET || n > end - p)
            return -1;
        const unsigned char *set_end = p + n;
        if (p < set_end && put(c, &rdn_mark, 1) < 0)
            return -1;
        while (p < set_end) {
            const unsigned char *oid, *val;
            long ol, vl;
            int ret;
            if ((ASN1_get_object(&p, &n, &tag, &cls, set_end - p) & 0x80) || tag != V_ASN1_SEQUENCE ||
                (ret = ASN1_get_object(&p, &ol, &tag, &cls, set_end - p)) & 0x80 || tag != V_ASN1_OBJECT)
                return -1;
            oid = p;
            p += ol;
            if (((ret = ASN1_get_object(&p, &vl, &tag, &cls, set_end - p)) & 0x80) || (ret & V_ASN1_CONSTRUCTED) ||
                cls != V_ASN1_UNIVERSAL || !(ASN1_tag2bit(tag) & (TEXT_TYPES | B_ASN1_NUMERICSTRING)))
                return -1;
            val = p;
            p += vl;
            ASN1_STRING *v = ASN1_STRING_type_new(tag);
            int ok = v != NULL && ASN1_STRING_set(v, val, (int)vl) && put_attribute(c, oid, (size_t)ol, v) == 0;
            ASN1_STRING_free(v);
            if (!ok)
                return -1;
            count++;
        }
    }
    return count;
}

/* The same of a decoded name (an issuer's subject). */
static int x509_name_canon_of(const X509_NAME *name, canon *c)
{
    int set = -1;
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *o = X509_NAME_ENTRY_get_object(e);
        if (X509_NAME_ENTRY_set(e) != set && put(c, &rdn_mark, 1) < 0)
            return -1;
        set = X509_NAME_ENTRY_set(e);
        if (put_attribute(c, OBJ_get0_data(o), OBJ_length(o), X509_NAME_ENTRY_get_data(e)) < 0)
            return -1;
    }
    return 0;
}

/* notBefore and notAfter in RFC 5280's own form (YYMMDDHHMMSSZ or
 * YYYYMMDDHHMMSSZ), which is what OpenSSL's verifier accepts: another form
 * is an error even where the dates are the caller's to judge. */
static int plain_times(const cb_cert_slices *sl)
{
    const unsigned char *p = sl->validity, *end = sl->validity + sl->validity_len;
    long n;
    int tag, cls;
    if ((ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_SEQUENCE)
        return 0;
    for (int k = 0; k < 2; k++) {
        if ((ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80) || cls != V_ASN1_UNIVERSAL ||
            !((tag == V_ASN1_UTCTIME && n == 13) || (tag == V_ASN1_GENERALIZEDTIME && n == 15)) || n > end - p)
            return 0;
        for (long i = 0; i < n - 1; i++)
            if (p[i] < '0' || p[i] > '9')
                return 0;
        if (p[n - 1] != 'Z')
            return 0;
        p += n;
    }
    return p == end;
}

/* Everything of the certificate alone that the fast path can vouch for.
 * 1 when it is an end-entity the fast path may judge. */
static int read_leaf(cb_trust_worker *w, const unsigned char *der, size_t len, leaf *l)
{
    memset(l, 0, sizeof *l);
    if (cb_cert_slice(der, len, &l->sl) < 0)
        return 0;
    const cb_cert_slices *sl = &l->sl;
    /* v3 (RFC 5280 4.1.2.1), one signature algorithm inside and out */
    static const unsigned char v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    if (sl->serial - sl->tbs < 5 || memcmp(sl->serial - 5, v3, 5) != 0 ||
        sl->sig_alg_len != sl->tbs_sig_alg_len || memcmp(sl->sig_alg, sl->tbs_sig_alg, sl->sig_alg_len) != 0)
        return 0;
    const unsigned char *p = sl->serial;
    ASN1_INTEGER *sn = d2i_ASN1_INTEGER(NULL, &p, (long)sl->serial_len);
    l->serial = sn ? cb_asn1_int_hex(sn) : NULL;
    ASN1_INTEGER_free(sn);
    canon c = {0};
    int entries = name_canon(sl->subject, sl->subject_len, &c);
    l->canon = c.b;
    l->canon_len = c.len;
    return l->serial != NULL && entries > 0 &&
           plain_times(sl) && plain_extensions(l, l) && plain_key(w, sl);
}

static issuer *find_issuer(cb_trust_worker *w, const leaf *l)
{
    for (size_t i = 0; i < w->n; i++) {
        issuer *is = &w->issuers[i];
        if (is->key_len == l->sl.issuer_len + l->keyid_len && memcmp(is->key, l->sl.issuer, l->sl.issuer_len) == 0 &&
            memcmp(is->key + l->sl.issuer_len, l->keyid, l->keyid_len) == 0)
            return is;
    }
    return NULL;
}

/* The issuer's key set up once for the signature algorithm its first
 * certificate used: the digest and the public-key operation that
 * X509_verify makes (ASN1_item_verify), apart. 0 when the algorithm is
 * not one of a digest and a key type (RSA-PSS, EdDSA): the full verifier. */
static int setup_verify(issuer *is)
{
    const unsigned char *p = is->sig_alg;
    X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, (long)is->sig_alg_len);
    EVP_PKEY *key = X509_get0_pubkey(is->cert);
    int md, pk, ok = alg != NULL && key != NULL && OBJ_find_sigid_algs(OBJ_obj2nid(alg->algorithm), &md, &pk) &&
                     md != NID_undef && EVP_PKEY_is_a(key, OBJ_nid2sn(pk));
    X509_ALGOR_free(alg);
    unsigned char *spki = NULL;
    int spki_len = ok ? i2d_PUBKEY(key, &spki) : -1;
    unsigned int n = 0;
    ok = ok && spki_len > 0 && EVP_Digest(spki, (size_t)spki_len, is->spki, &n, EVP_sha256(), NULL) == 1;
    OPENSSL_free(spki);
    if (ok && ((is->md = EVP_MD_fetch(NULL, OBJ_nid2sn(md), NULL)) == NULL ||
               (is->verify = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL ||
               EVP_PKEY_verify_init(is->verify) != 1 || EVP_PKEY_CTX_set_signature_md(is->verify, is->md) != 1))
        ok = 0;
    ERR_clear_error();
    return ok;
}

/* The signature over the TBS bytes with the issuer's key, as X509_verify
 * checks it: a BIT STRING without unused bits, then the digest of the TBS
 * verified. */
static int signature_ok(const issuer *is, const leaf *l)
{
    const unsigned char *p = l->sl.sig;
    ASN1_BIT_STRING *sig = d2i_ASN1_BIT_STRING(NULL, &p, (long)l->sl.sig_len);
    unsigned char dgst[EVP_MAX_MD_SIZE];
    unsigned int n;
    int ok = sig != NULL && (sig->flags & 0x07) == 0 &&
             EVP_Digest(l->sl.tbs, l->sl.tbs_len, dgst, &n, is->md, NULL) == 1 &&
             EVP_PKEY_verify(is->verify, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), dgst, n) == 1;
    ASN1_BIT_STRING_free(sig);
    ERR_clear_error();
    return ok;
}

/* 1 when the fast path vouches for the certificate, *by the issuer. */
static int fast_ok(cb_trust_worker *w, const leaf *l, const issuer **by)
{
    const issuer *is = *by = find_issuer(w, l);
    if (is == NULL || is->sig_alg_len != l->sl.sig_alg_len || memcmp(is->sig_alg, l->sl.sig_alg, is->sig_alg_len) != 0)
        return 0;
    /* self-issued: pathLenConstraint and the path differ */
    if (is->canon_len == l->canon_len && memcmp(is->canon, l->canon, l->canon_len) == 0)
        return 0;
    if (cb_trust_checks_crls(w->t) && cb_trust_crl_lists(w->t, l->serial))
        return 0;
    return signature_ok(is, l);
}

/* A path cert that constrains what is below it by the certificate's own
 * contents (names, RFC 3779 resources): its verdict is not the issuer's. */
static int constrains(X509 *x)
{
    return X509_get_ext_by_NID(x, NID_name_constraints, -1) >= 0 ||
           X509_get_ext_by_NID(x, NID_sbgp_ipAddrBlock, -1) >= 0 ||
           X509_get_ext_by_NID(x, NID_sbgp_autonomousSysNum, -1) >= 0;
}

/* After a full verification that passed: the issuer kept for the next. */
static void keep_issuer(cb_trust_worker *w, const leaf *l, STACK_OF(X509) *chain, unsigned long generation)
{
    if (w->n == MAX_ISSUERS || generation != w->generation || sk_X509_num(chain) < 2 || find_issuer(w, l))
        return;
    for (int i = 1; i < sk_X509_num(chain); i++)
        if (constrains(sk_X509_value(chain, i)))
            return;
    issuer *is = &w->issuers[w->n];
    is->key_len = l->sl.issuer_len + l->keyid_len;
    is->key = malloc(is->key_len);
    is->sig_alg = malloc(l->sl.sig_alg_len);
    X509 *x = sk_X509_value(chain, 1);
    if (is->key == NULL || is->sig_alg == NULL || X509_up_ref(x) != 1) {
        free(is->key);
        free(is->sig_alg);
        return;
    }
    memcpy(is->key, l->sl.issuer, l->sl.issuer_len);
    memcpy(is->key + l->sl.issuer_len, l->keyid, l->keyid_len);
    memcpy(is->sig_alg, l->sl.sig_alg, l->sl.sig_alg_len);
    is->sig_alg_len = l->sl.sig_alg_len;
    is->cert = x;
    canon c = {0};
    int named = x509_name_canon_of(X509_get_subject_name(x), &c) == 0;
    is->canon = c.b;
    is->canon_len = c.len;
    /* A self-issued certificate counts differently in pathLenConstraint:
     * its verdict is not the one of the others. */
    if (named && is->canon_len == l->canon_len && memcmp(is->canon, l->canon, l->canon_len) == 0)
        named = 0;
    if (!named || !setup_verify(is)) {
        free(is->key);
        free(is->sig_alg);
        X509_free(is->cert);
        EVP_MD_free(is->md);
        EVP_PKEY_CTX_free(is->verify);
        free(is->canon);
        memset(is, 0, sizeof *is);
        return;
    }
    w->n++;
}

/* The full verifier, the certificate decoded. */
static int judge_full(cb_trust_worker *w, const unsigned char *der, size_t len, int64_t at, cb_trust_result *res,
                      X509 **ca, STACK_OF(X509) **chain, cb_err *err)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        ERR_clear_error();
        memset(res, 0, sizeof *res);
        res->generation = cb_trust_generation(w->t);
        res->verdict = CB_TRUST_UNTRUSTED;
        snprintf(res->problem, sizeof res->problem, "%s",
                 cb_trust_options(w->t)->lang_vi ? "chứng thư số không giải mã được" : "the certificate cannot be decoded");
        return res->verdict;
    }
    int rc = cb_trust_verify_in(w->t, w->ctx, x, 1, at, res, chain, err);
    if (rc >= 0 && (X509_get_extension_flags(x) & EXFLAG_CA))
        *ca = x;
    else
        X509_free(x);
    return rc;
}

/* The trust cache's key of a certificate vouched for by an issuer: the
 * issuer's public key and the certificate's exact bytes. */
static int cache_key(const issuer *is, const unsigned char *sha256, unsigned char key[CB_TRUSTCACHE_KEY])
{
    unsigned char both[64];
    unsigned int n = 0;
    memcpy(both, is->spki, 32);
    memcpy(both + 32, sha256, 32);
    return EVP_Digest(both, sizeof both, key, &n, EVP_sha256(), NULL) == 1 && n == CB_TRUSTCACHE_KEY;
}

/* 1 when the cache knows the certificate: the fast path vouched for these
 * very bytes, under the key of an issuer kept now (found by the name the
 * certificate names; the key tells two issuers of one name apart), on an
 * earlier run. What it vouched for depends on those alone: the encoding,
 * the extensions, the subject's key, the signature. What may change
 * between runs is judged again: the issuer's path (kept issuers come from
 * this run's full verifications) and the CRLs. */
static int known_leaf(cb_trust_worker *w, const unsigned char *der, size_t len, const unsigned char *sha256)
{
    cb_cert_slices sl;
    if (cb_cert_slice(der, len, &sl) < 0)
        return 0;
    const issuer *is = NULL;
    unsigned char key[CB_TRUSTCACHE_KEY];
    for (size_t i = 0; is == NULL && i < w->n; i++) {
        const issuer *c = &w->issuers[i];
        if (c->key_len > sl.issuer_len && memcmp(c->key, sl.issuer, sl.issuer_len) == 0 &&
            c->sig_alg_len == sl.sig_alg_len && memcmp(c->sig_alg, sl.sig_alg, sl.sig_alg_len) == 0 &&
            cache_key(c, sha256, key) && cb_trustcache_known(w->cache, key))
            is = c;
    }
    if (is == NULL)
        return 0;
    if (!cb_trust_checks_crls(w->t))
        return 1;
    const unsigned char *p = sl.serial;
    ASN1_INTEGER *sn = d2i_ASN1_INTEGER(NULL, &p, (long)sl.serial_len);
    char *hex = sn ? cb_asn1_int_hex(sn) : NULL;
    int listed = hex == NULL || cb_trust_crl_lists(w->t, hex);
    ASN1_INTEGER_free(sn);
    free(hex);
    return !listed;
}

int cb_trust_judge(cb_trust_worker *w, const unsigned char *der, size_t len, const unsigned char *sha256,
                   int64_t at, cb_trust_result *res, X509 **ca, cb_err *err)
{
    *ca = NULL;
    const cb_trust_opts *o = cb_trust_options(w->t);
    unsigned long generation = cb_trust_generation(w->t);
    if (generation != w->generation) {
        drop_issuers(w);
        w->generation = generation;
    }
    leaf l = {0};
    const issuer *by;
    int may = !w->full && !o->partial_chain && o->leaf == CB_TRUST_LEAF_ANY_DATES && !cb_trust_crls_scoped(w->t);
    int cached = may && w->cache != NULL && sha256 != NULL;
    if (cached && known_leaf(w, der, len, sha256)) {
        memset(res, 0, sizeof *res);
        res->generation = generation;
        res->verdict = CB_TRUST_OK;
        w->fast++;
        return CB_TRUST_OK;
    }
    int eligible = may && read_leaf(w, der, len, &l);
    if (eligible && fast_ok(w, &l, &by)) {
        unsigned char key[CB_TRUSTCACHE_KEY];
        if (cached && cache_key(by, sha256, key))
            cb_trustcache_add(w->cache, key);  /* out of memory: only not remembered */
        memset(res, 0, sizeof *res);
        res->generation = generation;
        res->verdict = CB_TRUST_OK;
        w->fast++;
        leaf_clear(&l);
        return CB_TRUST_OK;
    }
    STACK_OF(X509) *chain = NULL;
    int rc = judge_full(w, der, len, at, res, ca, eligible ? &chain : NULL, err);
    if (eligible && rc == CB_TRUST_OK)
        keep_issuer(w, &l, chain, res->generation);
    sk_X509_pop_free(chain, X509_free);
    leaf_clear(&l);
    return rc;
}
