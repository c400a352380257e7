/* libFuzzer harness: the update-file reader of split-updates
 * (lib/pki/updates.c: PEM bundles, PKCS#7 in DER or PEM, DER certificates one
 * after another), read to the end. */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "fuzz.h"
#include "updates.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    cb_err err = {0};
    cb_certs_reader *r = cb_certs_open(path, &err);
    if (r != NULL) {
        X509 *x;
        long line, index;
        int rc;
        while ((rc = cb_certs_next(r, &x, &line, &index, &err)) != CB_CERTS_EOF && rc != CB_CERTS_FATAL)
            if (rc == CB_CERTS_CERT)
                X509_free(x);
        cb_certs_close(r);
    }
    close(fd);
    ERR_clear_error();   /* see fuzz_certder.c */
    return 0;
}
