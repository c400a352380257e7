/* libFuzzer harness: the Vietnamese text functions (lib/text/vntext.c) on any
 * bytes: cleaning, keys, slugs; and the identifier checks (lib/text/identifiers.c):
 * identity numbers, phones, e-mail, codes.
 * Each must return, and a slug must be as short as asked. */
#include <string.h>

#include "fuzz.h"
#include "identifiers.h"
#include "vntext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strdup(data, size);
    (void)cb_utf8_valid((const char *)data, size);
    if (cb_utf8_valid_prefix((const char *)data, size) > size)
        abort();
    free(cb_text_clean(s));
    free(cb_text_key(s));
    free(cb_agency_key(s));
    size_t max = size ? data[0] % 64 + 1 : 16;
    char *slug = cb_slug(s, max);
    if (slug != NULL && strlen(slug) > max)
        abort();
    free(slug);
    char why[256];
    int sex;
    (void)cb_cccd_check(s, 1990, &sex, why, sizeof why);
    (void)cb_cccd_check_vi(s, 1990, &sex, why, sizeof why);
    (void)cb_passport_check(s);
    char phone[11];
    if (cb_phone_normalize(s, phone) == 1 && strlen(phone) != 10)
        abort();
    (void)cb_email_check(s, NULL);
    (void)cb_email_check(s, "gov.vn,lamdong.gov.vn");
    (void)cb_agency_code_check(s);
    (void)cb_tax_code_check(s);
    (void)cb_budget_code_check(s);
    free(s);
    return 0;
}
