/* Certificates by serial: see certindex.h. */
#include "certindex.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "certinfo.h"
#include "certread.h"
#include "serial.h"

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
    if (cb_array_grow(&ix->e, ix->n, &ix->cap, sizeof *ix->e, 256) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
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
        (void)snprintf(p, l, "%s/%s", path, de->d_name);   /* l is its length */
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
