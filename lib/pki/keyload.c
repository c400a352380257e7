/* Keys, secrets and certificates from files and tokens: see keyload.h. */
#include "keyload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

static int read_first_line(int fd, const char *what, char **out, cb_err *err)
{
    size_t cap = 256, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= 65536) {
                explicit_bzero(buf, len);
                free(buf);
                return cb_err_set(err, EX_DATAERR, "%s: the secret is too long", what);
            }
            char *nb = malloc(cap * 2);
            if (nb == NULL) {
                explicit_bzero(buf, len);
                free(buf);
                return cb_err_set(err, EX_OSERR, "out of memory");
            }
            memcpy(nb, buf, len);
            explicit_bzero(buf, len);
            free(buf);
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            explicit_bzero(buf, len);
            free(buf);
            return cb_err_sys(err, EX_IOERR, "cannot read %s", what);
        }
        if (r == 0 || buf[len] == '\n')
            break;
        len++;
    }
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    *out = buf;
    return 0;
}

int cb_secret_read(const cb_secret_src *src, char **out, cb_err *err)
{
    *out = NULL;
    if (src->file != NULL) {
        FILE *fp = fopen(src->file, "r");
        if (fp == NULL)
            return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s",
                              src->file);
        int rc = read_first_line(fileno(fp), src->file, out, err);
        fclose(fp);
        return rc;
    }
    if (src->fd >= 0) {
        char what[32];
        snprintf(what, sizeof what, "file descriptor %d", src->fd);
        /* One byte at a time: the rest of the descriptor is not ours. */
        return read_first_line(src->fd, what, out, err);
    }
    if (src->env != NULL) {
        const char *v = getenv(src->env);
        if (v != NULL) {
            *out = strdup(v);
            if (*out == NULL)
                return cb_err_set(err, EX_OSERR, "out of memory");
        }
    }
    return 0;
}

void cb_secret_free(char *s)
{
    if (s == NULL)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static int load_key_file(cb_signing_key *k, const char *path, const char *secret, cb_err *err)
{
    BIO *in = BIO_new_file(path, "rb");
    if (in == NULL) {
        ERR_clear_error();
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
    }
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL,
                                                           EVP_PKEY_KEYPAIR, NULL, NULL);
    if (dctx == NULL) {
        BIO_free(in);
        return cb_err_set(err, EX_SOFTWARE, "cannot create a key decoder");
    }
    /* An empty passphrase rather than none: without one the decoder would
     * try to prompt on the terminal. */
    OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)(secret ? secret : ""),
                                    secret ? strlen(secret) : 0);
    int ok = OSSL_DECODER_from_bio(dctx, in);
    OSSL_DECODER_CTX_free(dctx);
    BIO_free(in);
    if (!ok || pkey == NULL) {
        ERR_clear_error();
        EVP_PKEY_free(pkey);
        if (secret == NULL)
            return cb_err_set(err, EX_DATAERR,
                              "cannot read the private key %s: not a key, or encrypted and no "
                              "passphrase given (--pass-file, --pass-fd or CB_CA_PASS)",
                              path);
        return cb_err_set(err, EX_DATAERR,
                          "cannot read the private key %s: wrong passphrase, or not a key", path);
    }
    k->pkey = pkey;
    return 0;
}

int cb_key_load(cb_signing_key *k, const char *spec, const char *secret, const char *module,
                cb_err *err)
{
    memset(k, 0, sizeof *k);
    if (strncmp(spec, "pkcs11:", 7) != 0)
        return load_key_file(k, spec, secret, err);
    k->token = cb_pkcs11_open(module, secret, err);
    if (k->token == NULL)
        return -1;
    k->pkey = cb_pkcs11_load_key(k->token, spec, err);
    if (k->pkey == NULL) {
        cb_pkcs11_close(k->token);
        k->token = NULL;
        return -1;
    }
    return 0;
}

void cb_key_free(cb_signing_key *k)
{
    EVP_PKEY_free(k->pkey);
    cb_pkcs11_close(k->token);
    k->pkey = NULL;
    k->token = NULL;
}

int cb_certs_load(const char *path, STACK_OF(X509) *certs, cb_err *err)
{
    BIO *in = BIO_new_file(path, "rb");
    if (in == NULL) {
        ERR_clear_error();
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
    }
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(certs, x)) {
            X509_free(x);
            BIO_free(in);
            return cb_err_set(err, EX_OSERR, "out of memory");
        }
        n++;
    }
    ERR_clear_error();
    if (n == 0) {
        /* Not PEM: perhaps one DER certificate. */
        (void)BIO_reset(in);
        x = d2i_X509_bio(in, NULL);
        ERR_clear_error();
        if (x != NULL) {
            if (!sk_X509_push(certs, x)) {
                X509_free(x);
                BIO_free(in);
                return cb_err_set(err, EX_OSERR, "out of memory");
            }
            n = 1;
        }
    }
    BIO_free(in);
    if (n == 0)
        return cb_err_set(err, EX_DATAERR, "%s: no certificate in the file", path);
    return n;
}

X509 *cb_cert_load(const char *path, cb_err *err)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (sk == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    X509 *x = NULL;
    if (cb_certs_load(path, sk, err) > 0)
        x = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    return x;
}
