/* The certificate reader: see certread.h. A PKCS#7 bundle is decoded whole
 * (it is one DER object) and its certificates handed out one by one as the
 * DER they were read from; DER input is read whole and split at the
 * element boundaries, without decoding. */
#include "certread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>

#include "atomic.h"
#include "pemscan.h"

struct cb_certs_reader {
    FILE *fp;
    int own_fp;
    char *name;
    int der;                   /* whole input is binary */
    int empty;
    cb_pem_scanner pem;
    unsigned char *buf;        /* DER input */
    size_t len, pos;
    STACK_OF(X509) *queue;     /* certificates of a PKCS#7 bundle */
    int qpos;
    long qline;
    unsigned char *enc;        /* the DER of the last certificate handed out from queue */
    long index, blocks;
    char label[64];            /* of the last certificate block */
};

/* The certificates of a PKCS#7 SignedData (its certificates field, not its
 * signers), or NULL when it is not one. */
static STACK_OF(X509) *p7_certs(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
    if (p7 == NULL) {
        ERR_clear_error();
        return NULL;
    }
    STACK_OF(X509) *out = NULL;
    if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL) {
        STACK_OF(X509) *certs = p7->d.sign->cert;
        out = sk_X509_new_null();
        for (int i = 0; out != NULL && certs != NULL && i < sk_X509_num(certs); i++) {
            X509 *x = sk_X509_value(certs, i);
            if (X509_up_ref(x) != 1 || !sk_X509_push(out, x)) {
                sk_X509_pop_free(out, X509_free);
                out = NULL;
            }
        }
    }
    PKCS7_free(p7);
    return out;
}

static int open_input(cb_certs_reader *r, const char *path, cb_err *err)
{
    if (path == NULL || strcmp(path, "-") == 0) {
        r->fp = stdin;
        r->name = strdup("stdin");
    } else {
        r->fp = fopen(path, "rb");
        r->own_fp = 1;
        if (r->fp == NULL)
            return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
        r->name = strdup(path);
    }
    return r->name == NULL ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

cb_certs_reader *cb_certs_open(const char *path, cb_err *err)
{
    cb_certs_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    if (open_input(r, path, err) < 0) {
        cb_certs_close(r);
        return NULL;
    }
    /* DER always starts with a SEQUENCE tag; PEM with text. */
    int c = getc(r->fp);
    if (c != EOF)
        ungetc(c, r->fp);
    else if (ferror(r->fp)) {
        cb_err_sys(err, EX_IOERR, "cannot read %s", r->name);
        cb_certs_close(r);
        return NULL;
    } else {
        r->empty = 1;
    }
    if (c == 0x30) {
        r->der = 1;
        if (cb_read_all(r->fp, &r->buf, &r->len) < 0) {
            cb_err_sys(err, EX_IOERR, "cannot read %s", r->name);
            cb_certs_close(r);
            return NULL;
        }
        r->queue = p7_certs(r->buf, r->len);
        if (r->queue != NULL)
            r->pos = r->len;
    } else {
        cb_pem_scanner_init(&r->pem, r->fp);
    }
    return r;
}

void cb_certs_close(cb_certs_reader *r)
{
    if (r == NULL)
        return;
    if (r->own_fp && r->fp)
        fclose(r->fp);
    if (!r->der)
        cb_pem_scanner_free(&r->pem);
    free(r->buf);
    OPENSSL_free(r->enc);
    sk_X509_pop_free(r->queue, X509_free);
    free(r->name);
    free(r);
}

const char *cb_certs_name(const cb_certs_reader *r)
{
    return r->name;
}

long cb_certs_blocks(const cb_certs_reader *r)
{
    return r->blocks;
}

int cb_certs_empty(const cb_certs_reader *r)
{
    return r->empty;
}

static int is_p7_label(const char *label)
{
    return strcmp(label, "PKCS7") == 0 || strcmp(label, "PKCS #7 SIGNED DATA") == 0 ||
           strcmp(label, "CMS") == 0;
}

/* The next certificate of a PKCS#7 bundle, re-encoded (i2d of a decoded
 * certificate gives back the bytes it was decoded from). */
static int next_queued(cb_certs_reader *r, const unsigned char **der, size_t *len, long *line,
                       long *index, cb_err *err)
{
    X509 *x = sk_X509_value(r->queue, r->qpos++);
    OPENSSL_free(r->enc);
    r->enc = NULL;
    int n = i2d_X509(x, &r->enc);
    *line = r->qline;
    *index = ++r->index;
    if (n <= 0) {
        ERR_clear_error();
        cb_err_set(err, EX_DATAERR, "certificate %ld of the PKCS#7 bundle cannot be encoded", *index);
        return CB_CERTS_UNREADABLE;
    }
    *der = r->enc;
    *len = (size_t)n;
    return CB_CERTS_CERT;
}

/* The next DER element of a binary input, found by its header alone. */
static int next_der(cb_certs_reader *r, const unsigned char **der, size_t *len, long *line,
                    long *index, cb_err *err)
{
    const unsigned char *p = r->buf + r->pos, *q = p;
    long l;
    int tag, cls;
    *line = 0;
    *index = ++r->index;
    int rc = ASN1_get_object(&q, &l, &tag, &cls, (long)(r->len - r->pos));
    if ((rc & 0x80) || (rc & 0x01) || tag != V_ASN1_SEQUENCE || l > (long)(r->len - r->pos) - (q - p)) {
        ERR_clear_error();
        cb_err_set(err, EX_DATAERR, "the bytes at offset %zu are neither a certificate nor a PKCS#7 bundle",
                   r->pos);
        r->pos = r->len;
        return CB_CERTS_UNREADABLE;
    }
    *der = p;
    *len = (size_t)(q - p) + (size_t)l;
    r->pos += *len;
    return CB_CERTS_CERT;
}

/* A PKCS7 block: its certificates go to the queue. */
static int take_p7(cb_certs_reader *r, const cb_pem_block *blk, long *index, cb_err *err)
{
    sk_X509_pop_free(r->queue, X509_free);
    r->queue = p7_certs(blk->der, blk->der_len);
    r->qpos = 0;
    r->qline = blk->line;
    if (r->queue == NULL || sk_X509_num(r->queue) == 0) {
        *index = ++r->index;
        cb_err_set(err, EX_DATAERR, "the %s block is not a PKCS#7 bundle of certificates", blk->label);
        return CB_CERTS_UNREADABLE;
    }
    return 0;
}

int cb_certs_next_der(cb_certs_reader *r, const unsigned char **der, size_t *len, long *line,
                      long *index, cb_err *err)
{
    for (;;) {
        if (r->queue != NULL && r->qpos < sk_X509_num(r->queue))
            return next_queued(r, der, len, line, index, err);
        if (r->der)
            return r->pos >= r->len ? CB_CERTS_EOF : next_der(r, der, len, line, index, err);
        cb_pem_block blk;
        int rc = cb_pem_next(&r->pem, &blk);
        if (rc < 0) {
            cb_err_sys(err, EX_IOERR, "cannot read %s", r->name);
            return CB_CERTS_FATAL;
        }
        if (rc == 0)
            return CB_CERTS_EOF;
        r->blocks++;
        *line = blk.line;
        int cert_block = cb_pem_is_cert_label(blk.label), p7_block = is_p7_label(blk.label);
        if (!cert_block && !p7_block) {
            /* Never the content: it may be a private key. */
            cb_err_set(err, EX_DATAERR, "%s", blk.label);
            return CB_CERTS_SKIPPED;
        }
        if (blk.error != NULL) {
            *index = ++r->index;
            cb_err_set(err, EX_DATAERR, "%s", blk.error);
            return CB_CERTS_UNREADABLE;
        }
        if (cert_block) {
            *index = ++r->index;
            snprintf(r->label, sizeof r->label, "%s", blk.label);
            *der = blk.der;
            *len = blk.der_len;
            return CB_CERTS_CERT;
        }
        int t = take_p7(r, &blk, index, err);
        if (t != 0)
            return t;
    }
}

int cb_certs_next(cb_certs_reader *r, X509 **cert, long *line, long *index, cb_err *err)
{
    *cert = NULL;
    const unsigned char *der;
    size_t len;
    int rc;
    while ((rc = cb_certs_next_der(r, &der, &len, line, index, err)) == CB_CERTS_SKIPPED)
        ;
    if (rc != CB_CERTS_CERT)
        return rc;
    const unsigned char *p = der;
    *cert = d2i_X509(NULL, &p, (long)len);
    if (*cert == NULL) {
        ERR_clear_error();
        if (r->der)
            cb_err_set(err, EX_DATAERR, "certificate %ld is not a valid X.509 certificate (bad DER)", *index);
        else
            cb_err_set(err, EX_DATAERR, "the %s block is not a valid X.509 certificate", r->label);
        return CB_CERTS_UNREADABLE;
    }
    return CB_CERTS_CERT;
}
