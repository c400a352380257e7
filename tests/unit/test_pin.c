/* Unit tests for lib/pin.c: length, an alphabet without look-alike
 * characters (no 0/O, 1/I/L), every symbol used, fresh each time. */
#include <string.h>

#include "pin.h"
#include "tap.h"

int main(void)
{
    static const char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789#";
    int seen[256] = {0}, bad = 0, len_ok = 1;
    char pin[CB_PIN_LEN + 1];
    for (int n = 0; n < 1000; n++) {
        if (cb_pin_generate(pin) != 0) {
            bad++;
            continue;
        }
        len_ok &= strlen(pin) == 12;
        for (const char *c = pin; *c; c++) {
            seen[(unsigned char)*c]++;
            if (strchr(alphabet, *c) == NULL || strchr("0O1IL", *c) != NULL)
                bad++;
        }
    }
    ok(len_ok, "a PIN has 12 characters");
    is_int(bad, 0, "every character is of the alphabet, none of 0 O 1 I L");
    int symbols = 0;
    for (const char *c = alphabet; *c; c++)
        symbols += seen[(unsigned char)*c] > 0;
    /* 12,000 draws over 32 symbols: each is expected 375 times */
    is_int(symbols, 32, "all 32 symbols of the alphabet occur");
    char a[CB_PIN_LEN + 1], b[CB_PIN_LEN + 1];
    ok(cb_pin_generate(a) == 0 && cb_pin_generate(b) == 0 && strcmp(a, b) != 0, "two PINs differ");
    return done_testing();
}
