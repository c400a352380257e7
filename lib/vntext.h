/* Vietnamese text and identifiers, shared by every program: cleaning the
 * values clerks type into spreadsheets, the comparison keys that make
 * "SỞ TÀI CHÍNH", an NFD-encoded "Sở Tài chính" and "Uỷ ban"/"Ủy ban" compare
 * equal, safe file names made from data, and the shape checks for the
 * identifiers on the request forms (CCCD, passport, mobile phone, e-mail,
 * agency, tax and budget codes; see FORMS.md).
 *
 * Every function that returns char * returns a new malloc'ed, NUL-terminated
 * string the caller frees, or NULL with errno set: EILSEQ when the input is
 * not UTF-8 (check it with cb_utf8_valid first), EINVAL when it is NULL,
 * ENOMEM when memory ran out.
 * The *_check functions return 1 when the value is valid and 0 when it is not.
 * No function keeps state between calls, so all are safe from several
 * threads. */
#ifndef CB_VNTEXT_H
#define CB_VNTEXT_H

#include <stddef.h>

/* 1 when s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF; NUL bytes are allowed), else 0. */
int cb_utf8_valid(const char *s, size_t len);

/* Length of the longest well-formed UTF-8 prefix of s[0..len): where the
 * first bad byte is, for a message that points at it. */
size_t cb_utf8_valid_prefix(const char *s, size_t len);

/* The value as it should be stored: leading and trailing white space removed
 * (ASCII white space and the Unicode spaces, NBSP included), every inner run
 * of white space (line breaks too) made one U+0020, zero-width spaces and
 * BOMs dropped, then NFC. Other control characters are kept: rejecting them
 * is the validator's job. */
char *cb_text_clean(const char *s);

/* The comparison key for header labels, person names and agency names:
 * cb_text_clean, case folding, default-ignorable characters dropped, and the
 * tone mark of each Vietnamese syllable put on one vowel whichever way it
 * was typed (the traditional placement: "uỷ" -> "ủy", "hoà" -> "hòa",
 * "thuỷ" -> "thủy", "khoẻ" -> "khỏe"), in NFC. Two strings are the same
 * name when their keys are equal (strcmp). */
char *cb_text_key(const char *s);

/* What a search box compares when a name is typed without tone marks:
 * cb_text_clean, case folding, every combining mark dropped and đ made d,
 * so "Nguyễn Thị Hoà" and "nguyen thi hoa" fold the same. The same fold
 * as the public page's script (NFD, marks removed, đ -> d, lower case). */
char *cb_text_fold(const char *s);

/* cb_text_key, spaces around dashes removed ("Lao động - Thương binh" ==
 * "Lao động-Thương binh"), and the usual abbreviations in agency names
 * expanded as whole words: UBND, HĐND, UBMTTQ, MTTQ, TP/TP./Tp (also glued,
 * "TP.HCM"), TPHCM, HCM,
 * BHXH, BHYT, KBNN, TW, ĐHQG, TNHH, BQL, CNTT, and the departments GD&ĐT,
 * KH&ĐT, KH&CN, TN&MT, NN&PTNT, TT&TT, LĐ-TB&XH, GTVT, VHTTDL (with or
 * without "&" or "-"). Used to group requests by agency. */
char *cb_agency_key(const char *s);

/* A file-name component made from data (an agency name, a subscriber's
 * name): NFC letters (Vietnamese included), digits and '_' kept; white
 * space, '/', '\\' and other punctuation become one '-' between words;
 * control and format characters (BiDi overrides, zero-width) and bytes that
 * are not UTF-8 are dropped; a '.' survives only between two letters or
 * digits ("000.00.15.H41"), so the result never starts with '.' or '-'.
 * At most max_bytes bytes (NUL not counted; 0 is taken as 1), cut on a
 * character boundary, never between a letter and its combining mark.
 * Never "", "." or "..": "_" instead (also for NULL). NULL only when memory
 * ran out. */
char *cb_slug(const char *s, size_t max_bytes);

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
