/* Vietnamese text, shared by every program: cleaning the values clerks
 * type into spreadsheets, the comparison keys that make "SỞ TÀI CHÍNH", an
 * NFD-encoded "Sở Tài chính" and "Uỷ ban"/"Ủy ban" compare equal, and safe
 * file names made from data. The identifier checks of the forms are in
 * identifiers.h.
 *
 * Every function that returns char * returns a new malloc'ed, NUL-terminated
 * string the caller frees, or NULL with errno set: EILSEQ when the input is
 * not UTF-8 (check it with cb_utf8_valid first), EINVAL when it is NULL,
 * ENOMEM when memory ran out.
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

#endif
