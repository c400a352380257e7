/* libFuzzer harness: the certificate DER reader scan-expiry uses
 * (lib/pki/certinfo.c): slicing a certificate into its elements, reading its
 * serial without decoding, and decoding the fields a scan reports. Any
 * bytes must give an answer or a refusal, never a crash or a leak. */
#include <openssl/err.h>

#include "certinfo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cb_certinfo_ctx ctx;
    static int ready;
    cb_err err = {0};
    if (!ready) {
        if (cb_certinfo_ctx_init(&ctx, &err) < 0)
            abort();
        ready = 1;
    }
    cb_cert_slices sl;
    (void)cb_cert_slice(data, size, &sl);
    free(cb_der_cert_serial(data, size));
    cb_cert_info ci = {0};
    if (cb_cert_info_parse(&ctx, data, size, &ci, &err) == 0)
        cb_cert_info_clear(&ci);
    /* OpenSSL's error queue keeps what a refusal pushed (allocated); left
     * there it looks like a leak to libFuzzer, which then scans for leaks
     * after every input. */
    ERR_clear_error();
    return 0;
}
