/* The identifiers on the request forms, checked for their shape (FORMS.md):
 * the 12-digit personal identification number (CCCD, whose first digits
 * name a province, hence provinces.h), passport numbers, mobile phones,
 * official e-mail addresses, agency, tax and budget codes. Apart from
 * vntext so that provinces (which uses vntext's keys) and these checks
 * (which use provinces) form no cycle.
 *
 * The *_check functions return 1 when the value is valid and 0 when it is
 * not. No state is kept between calls. */
#ifndef CB_IDENTIFIERS_H
#define CB_IDENTIFIERS_H

#include <stddef.h>

enum { CB_SEX_UNKNOWN = 0, CB_SEX_MALE = 1, CB_SEX_FEMALE = 2 };

/* The 12-digit personal identification number (CCCD/định danh cá nhân):
 * digits 1-3 the code of one of the 63 former provinces where the birth was
 * registered, digit 4 century and sex (0/1 1900-1999, 2/3 2000-2099, 4/5
 * 2100-2199; even male, odd female), digits 5-6 the last two digits of the
 * birth year. birth_year -1 skips the comparison with a known birth year.
 * Returns 1 when valid, setting *sex_out (if not NULL) to CB_SEX_MALE or
 * CB_SEX_FEMALE; otherwise 0, *sex_out CB_SEX_UNKNOWN, and `why` (if not
 * NULL) a short English reason such as "digits 1-3 (097) are not a province
 * code". */
int cb_cccd_check(const char *id, int birth_year, int *sex_out, char *why, size_t whylen);

/* cb_cccd_check with the reason in Vietnamese, for --lang vi. */
int cb_cccd_check_vi(const char *id, int birth_year, int *sex_out, char *why, size_t whylen);

/* A passport number: one capital letter A-Z and 7 digits ("C1234567"). */
int cb_passport_check(const char *s);

/* A Vietnamese mobile number, written with or without spaces, dots and
 * dashes and with a +84 or 84 prefix (a 0 after the prefix is tolerated):
 * on success out gets the 10 digits starting 03, 05, 07, 08 or 09 and the
 * function returns 1; otherwise out is "" and it returns 0. */
int cb_phone_normalize(const char *in, char out[11]);

/* local@domain with one '@', a dot-atom local part of 1-64 ASCII characters,
 * a domain of ASCII labels (letters, digits, inner '-', 1-63 each, at least
 * two, alphabetic top level) and no white space or control characters; and
 * the domain equal to one of official_domains (a comma-separated list such
 * as "gov.vn,cand.vn", compared ignoring case) or a subdomain of it.
 * official_domains NULL or "" accepts any domain. */
int cb_email_check(const char *email, const char *official_domains);

/* The electronic identifier of a state agency (Quyết định 20/2020/QĐ-TTg):
 * 3, 2 and 2 digits and a capital letter with 2 digits, dot-separated:
 * "000.00.15.H41". */
int cb_agency_code_check(const char *s);

/* A tax code: 10 digits, or 10 digits, '-' and 3 digits (a branch). Only
 * the shape is checked, not the check digit. */
int cb_tax_code_check(const char *s);

/* A budget relation code (mã quan hệ ngân sách): 7 digits. */
int cb_budget_code_check(const char *s);

#endif
