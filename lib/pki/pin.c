/* PINs for PKCS#12 files: see pin.h. */
#include "pin.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

int cb_pin_generate(char out[CB_PIN_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789#"; /* 32: no bias */
    unsigned char b[CB_PIN_LEN];
    if (RAND_priv_bytes(b, sizeof b) != 1)
        return -1;
    for (int i = 0; i < CB_PIN_LEN; i++)
        out[i] = alphabet[b[i] & 31];
    out[CB_PIN_LEN] = '\0';
    OPENSSL_cleanse(b, sizeof b);
    return 0;
}
