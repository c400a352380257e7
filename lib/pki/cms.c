/* Detached CMS signatures over batch files: see cms.h. */
#include "cms.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "keyload.h"
#include "trust.h"

int cb_cms_sign(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain, BIO *data, BIO *out,
                cb_err *err)
{
    if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        return cb_err_set(err, EX_DATAERR, "the key does not belong to the signing certificate");
    }
    CMS_ContentInfo *cms = CMS_sign(cert, key, chain, data, CMS_DETACHED | CMS_BINARY);
    if (cms == NULL) {
        return cb_err_ssl(err, EX_DATAERR, "cannot sign");
    }
    int ok = PEM_write_bio_CMS(out, cms);
    CMS_ContentInfo_free(cms);
    if (!ok) {
        return cb_err_ssl(err, EX_IOERR, "cannot write the signature");
    }
    return 0;
}

static CMS_ContentInfo *read_sig(const char *path, cb_err *err)
{
    BIO *in = BIO_new_file(path, "rb");
    if (in == NULL) {
        ERR_clear_error();
        cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
        return NULL;
    }
    CMS_ContentInfo *cms = PEM_read_bio_CMS(in, NULL, NULL, NULL);
    if (cms == NULL) {
        (void)BIO_reset(in);
        cms = d2i_CMS_bio(in, NULL);
    }
    BIO_free(in);
    ERR_clear_error();
    if (cms == NULL)
        cb_err_set(err, EX_DATAERR, "%s: not a CMS signature (PEM or DER)", path);
    return cms;
}

/* The data whole in memory: it is read twice when the binary check fails
 * and the text-mode one is tried, and stdin cannot be rewound. */
static BIO *read_data(const char *path, FILE *fp, cb_err *err)
{
    BIO *mem = BIO_new(BIO_s_mem());
    FILE *f = fp;
    if (mem == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    if (path != NULL && (f = fopen(path, "rb")) == NULL) {
        cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
        BIO_free(mem);
        return NULL;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (BIO_write(mem, buf, (int)n) != (int)n) {
            cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
    int bad = ferror(f);
    if (path != NULL)
        fclose(f);
    if (bad) {
        cb_err_sys(err, EX_IOERR, "cannot read %s", path ? path : "stdin");
        BIO_free(mem);
        return NULL;
    }
    BIO_set_mem_eof_return(mem, 0);
    return mem;
}

int cb_cms_verify(const char *ca_file, const char *sig_path, const char *data_path, FILE *data_fp,
                  char *signer, size_t signer_len, cb_err *err)
{
    int rc = -1;
    char why[512];
    CMS_ContentInfo *cms = NULL;
    BIO *data = NULL;
    /* The anchors as every program takes them (lib/pki/trust.h): self-signed
     * CAs only; an intermediate in the file helps build the path. */
    cb_trust *trust = cb_trust_new(NULL, err);
    if (trust == NULL || cb_trust_load(trust, &ca_file, 1, NULL, 0, NULL, 0, err) < 0)
        goto out;
    X509_STORE *store = cb_trust_store(trust);
    /* The signer is a CA or an officer's certificate, not an S/MIME one:
     * what matters is the chain to the anchors, not the e-mail purpose. */
    X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
    if ((cms = read_sig(sig_path, err)) == NULL)
        goto out;
    /* CMS_verify builds the signer's path from the certificates inside
     * the signature only: the intermediates of --ca join them there. */
    STACK_OF(X509) *inter = cb_trust_intermediates(trust);
    for (int i = 0; i < sk_X509_num(inter); i++)
        CMS_add1_cert(cms, sk_X509_value(inter, i));   /* fails harmlessly when already there */
    ERR_clear_error();
    if ((data = read_data(data_path, data_fp, err)) == NULL)
        goto out;
    char *mem;
    long len = BIO_get_mem_data(data, &mem);
    BIO *in = BIO_new_mem_buf(mem, (int)len);
    int ok = in && CMS_verify(cms, cb_trust_intermediates(trust), store, in, NULL, CMS_BINARY) == 1;
    BIO_free(in);
    if (!ok) {
        unsigned long e = ERR_peek_last_error();
        int digest_mismatch = ERR_GET_LIB(e) == ERR_LIB_CMS &&
                              (ERR_GET_REASON(e) == CMS_R_VERIFICATION_FAILURE ||
                               ERR_GET_REASON(e) == CMS_R_CONTENT_VERIFY_ERROR);
        if (!digest_mismatch) {
            const char *data_s = NULL;
            int flags = 0;
            ERR_peek_last_error_data(&data_s, &flags);
            ERR_error_string_n(e, why, sizeof why);
            if (data_s && (flags & ERR_TXT_STRING) && *data_s) {
                size_t l = strlen(why);
                snprintf(why + l, sizeof why - l, " (%s)", data_s);
            }
            ERR_clear_error();
            cb_err_set(err, EX_DATAERR, "%s: the signature cannot be trusted: %s", sig_path, why);
            goto out;
        }
        ERR_clear_error();
        in = BIO_new_mem_buf(mem, (int)len);
        ok = in && CMS_verify(cms, cb_trust_intermediates(trust), store, in, NULL, 0) == 1;
        BIO_free(in);
        ERR_clear_error();
        if (!ok) {
            cb_err_set(err, EX_DATAERR,
                       "%s does not match the signature %s: the file or the signature was "
                       "changed after signing",
                       data_path ? data_path : "stdin", sig_path);
            goto out;
        }
    }
    if (signer != NULL && signer_len > 0) {
        signer[0] = '\0';
        STACK_OF(X509) *signers = CMS_get0_signers(cms);
        if (signers != NULL && sk_X509_num(signers) > 0) {
            BIO *b = BIO_new(BIO_s_mem());
            if (b != NULL) {
                X509_NAME_print_ex(b, X509_get_subject_name(sk_X509_value(signers, 0)), 0,
                                   (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_SPC_EQ));
                char *p;
                long n = BIO_get_mem_data(b, &p);
                snprintf(signer, signer_len, "%.*s", (int)n, p);
                BIO_free(b);
            }
        }
        sk_X509_free(signers);
    }
    rc = 0;
out:
    CMS_ContentInfo_free(cms);
    BIO_free(data);
    cb_trust_free(trust);
    return rc;
}
