/* Unit tests for lib/identifiers: the identifier checks of the forms.
 * Every expected value is written by hand from FORMS.md and the numbering
 * rules it cites. */
#include "identifiers.h"
#include "tap.h"

#include <string.h>

static void cccd_is(const char *id, int year, int want_ok, int want_sex, const char *want_in_why,
                    const char *name)
{
    char why[128];
    int sex = -1;
    int r = cb_cccd_check(id, year, &sex, why, sizeof why);
    int pass = r == want_ok && sex == want_sex &&
               (want_in_why ? strstr(why, want_in_why) != NULL : why[0] == '\0');
    ok(pass, "cccd: %s", name);
    if (!pass)
        printf("#   got %d sex %d why '%s'\n", r, sex, why);
}

static void test_ids(void)
{
    cccd_is("068095001234", 1995, 1, CB_SEX_MALE, NULL, "man born 1995 in Lâm Đồng");
    cccd_is("001300001234", 2000, 1, CB_SEX_FEMALE, NULL, "woman born 2000 in Hà Nội");
    cccd_is("096195001234", 1995, 1, CB_SEX_FEMALE, NULL, "woman born 1995 in Cà Mau");
    cccd_is("068095001234", -1, 1, CB_SEX_MALE, NULL, "no birth year given");
    cccd_is("097095001234", 1995, 0, CB_SEX_UNKNOWN, "097", "097 is no province");
    cccd_is("003095001234", 1995, 0, CB_SEX_UNKNOWN, "003", "003 is no province");
    cccd_is("000095001234", -1, 0, CB_SEX_UNKNOWN, "000", "000 is no province");
    cccd_is("068295001234", 1995, 0, CB_SEX_UNKNOWN, "2000-2099",
            "century digit 2 for a birth in 1995");
    cccd_is("068095001234", 2095, 0, CB_SEX_UNKNOWN, "1900-1999",
            "century digit 0 for a birth in 2095");
    cccd_is("068094001234", 1995, 0, CB_SEX_UNKNOWN, "94", "year digits 94 for 1995");
    cccd_is("068695001234", -1, 0, CB_SEX_UNKNOWN, "digit 4", "century digit 6");
    cccd_is("06809500123", -1, 0, CB_SEX_UNKNOWN, "12 digits", "11 digits");
    cccd_is("0680950012345", -1, 0, CB_SEX_UNKNOWN, "12 digits", "13 digits");
    cccd_is("06809500123A", -1, 0, CB_SEX_UNKNOWN, "12 digits", "a letter");
    cccd_is("", -1, 0, CB_SEX_UNKNOWN, "12 digits", "empty");
    ok(cb_cccd_check("068095001234", 1995, NULL, NULL, 0), "cccd: NULL outputs are allowed");
    char why[128];
    ok(!cb_cccd_check_vi("097095001234", 1995, NULL, why, sizeof why) &&
           strstr(why, "mã tỉnh") != NULL,
       "cccd: reason in Vietnamese");
    ok(!cb_cccd_check("068295001234", 1995, NULL, why, 10) && strlen(why) == 9,
       "cccd: reason cut to the buffer");

    ok(cb_passport_check("C1234567"), "passport: C1234567");
    ok(!cb_passport_check("c1234567"), "passport: lower-case letter");
    ok(!cb_passport_check("C123456"), "passport: 6 digits");
    ok(!cb_passport_check("C12345678"), "passport: 8 digits");
    ok(!cb_passport_check("CC123456"), "passport: two letters");
    ok(!cb_passport_check("Đ1234567"), "passport: non-ASCII letter");

    char out[11];
    ok(cb_phone_normalize("+84 912 345 678", out) && strcmp(out, "0912345678") == 0,
       "phone: +84 912 345 678 -> 0912345678");
    ok(cb_phone_normalize("84-912-345-678", out) && strcmp(out, "0912345678") == 0,
       "phone: 84 prefix with dashes");
    ok(cb_phone_normalize("0912.345.678", out) && strcmp(out, "0912345678") == 0,
       "phone: dots");
    ok(cb_phone_normalize("+84 0912 345 678", out) && strcmp(out, "0912345678") == 0,
       "phone: +84 followed by 0");
    ok(cb_phone_normalize("0312345678", out) && strcmp(out, "0312345678") == 0, "phone: 03");
    ok(cb_phone_normalize("0587654321", out), "phone: 05");
    ok(cb_phone_normalize("0787654321", out), "phone: 07");
    ok(cb_phone_normalize("0887654321", out), "phone: 08");
    ok(!cb_phone_normalize("0212345678", out) && out[0] == '\0', "phone: 02 is a landline");
    ok(!cb_phone_normalize("0412345678", out), "phone: 04");
    ok(!cb_phone_normalize("0612345678", out), "phone: 06");
    ok(!cb_phone_normalize("091234567", out), "phone: 9 digits");
    ok(!cb_phone_normalize("09123456789", out), "phone: 11 digits");
    ok(!cb_phone_normalize("0912a45678", out), "phone: a letter");
    ok(!cb_phone_normalize("+1 912 345 678", out), "phone: foreign country code");
    ok(!cb_phone_normalize("+84 212 345 678", out), "phone: +84 landline");
    ok(!cb_phone_normalize("", out), "phone: empty");
    ok(!cb_phone_normalize("0912345678901234567890", out), "phone: very long");

    ok(cb_email_check("a@lamdong.gov.vn", "gov.vn"), "email: a@lamdong.gov.vn");
    ok(cb_email_check("a@gov.vn", "gov.vn"), "email: the official domain itself");
    ok(cb_email_check("nguyen.van.a@stc.lamdong.gov.vn", "gov.vn"), "email: dotted local part");
    ok(cb_email_check("A@LAMDONG.GOV.VN", "gov.vn"), "email: capitals");
    ok(cb_email_check("x@bocongan.cand.vn", "gov.vn, cand.vn"), "email: second domain in list");
    ok(cb_email_check("x@gmail.com", NULL), "email: no list accepts any domain");
    ok(!cb_email_check("a@gmail.com", "gov.vn"), "email: gmail.com");
    ok(!cb_email_check("a@evilgov.vn", "gov.vn"), "email: evilgov.vn is not gov.vn");
    ok(!cb_email_check("a@gov.vn.evil.com", "gov.vn"), "email: gov.vn in the middle");
    ok(!cb_email_check("a@b@gov.vn", "gov.vn"), "email: two @");
    ok(!cb_email_check("a b@gov.vn", "gov.vn"), "email: space");
    ok(!cb_email_check("a\n@gov.vn", "gov.vn"), "email: newline");
    ok(!cb_email_check(".a@gov.vn", "gov.vn"), "email: leading dot");
    ok(!cb_email_check("a.@gov.vn", "gov.vn"), "email: trailing dot in local part");
    ok(!cb_email_check("a..b@gov.vn", "gov.vn"), "email: two dots");
    ok(!cb_email_check("a@gov..vn", "gov.vn"), "email: empty label");
    ok(!cb_email_check("a@-x.gov.vn", "gov.vn"), "email: label starts with -");
    ok(!cb_email_check("a@gov.vn.", "gov.vn"), "email: trailing dot in domain");
    ok(!cb_email_check("@gov.vn", "gov.vn"), "email: no local part");
    ok(!cb_email_check("a@", "gov.vn"), "email: no domain");
    ok(!cb_email_check("agov.vn", "gov.vn"), "email: no @");
    ok(!cb_email_check("nguyễn@gov.vn", "gov.vn"), "email: non-ASCII local part");

    ok(cb_agency_code_check("000.00.15.H41"), "agency code: 000.00.15.H41");
    ok(!cb_agency_code_check("000.00.15.h41"), "agency code: lower-case letter");
    ok(!cb_agency_code_check("00.00.15.H41"), "agency code: short first group");
    ok(!cb_agency_code_check("000.00.15.H4"), "agency code: one digit after the letter");
    ok(!cb_agency_code_check("000-00-15-H41"), "agency code: dashes");
    ok(!cb_agency_code_check("000.00.15.H41 "), "agency code: trailing space");
    ok(!cb_agency_code_check("000.00.15.141"), "agency code: digit for the letter");

    ok(cb_tax_code_check("0312345678"), "tax code: 10 digits");
    ok(cb_tax_code_check("0312345678-001"), "tax code: branch");
    ok(!cb_tax_code_check("031234567"), "tax code: 9 digits");
    ok(!cb_tax_code_check("0312345678-01"), "tax code: 2-digit branch");
    ok(!cb_tax_code_check("0312345678001"), "tax code: 13 digits without dash");
    ok(!cb_tax_code_check("03123456a8"), "tax code: a letter");

    ok(cb_budget_code_check("1234567"), "budget code: 7 digits");
    ok(!cb_budget_code_check("123456"), "budget code: 6 digits");
    ok(!cb_budget_code_check("12345678"), "budget code: 8 digits");
    ok(!cb_budget_code_check("12345a7"), "budget code: a letter");
}

int main(void)
{
    test_ids();
    return done_testing();
}
