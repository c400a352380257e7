/* Vietnamese text and identifiers: see vntext.h.
 *
 * Speed matters here (validate-form cleans every field of every row), so the
 * white-space pass works on bytes and leaves utf8proc alone when a string is
 * ASCII or made only of characters that are NFC whatever follows them (below
 * U+0300, or the precomposed Vietnamese letters of U+1E00..U+1EFF), which is
 * what most Vietnamese text typed on a modern system is. */
#include "vntext.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* ---- UTF-8 ---- */

/* Length of the well-formed sequence at p, 0 if none; *cp gets the code
 * point. The library's one UTF-8 decoder is utf8proc's (Unicode Table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_decode(const unsigned char *p, size_t avail, int32_t *cp)
{
    if (p[0] < 0x80) {   /* the common case, without the call */
        *cp = p[0];
        return 1;
    }
    utf8proc_int32_t c = -1;
    utf8proc_ssize_t n = utf8proc_iterate(p, avail > 4 ? 4 : (utf8proc_ssize_t)avail, &c);
    *cp = c;   /* -1 when ill-formed */
    return n > 0 ? (size_t)n : 0;
}

size_t cb_utf8_valid_prefix(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            uint64_t w;
            while (len - i >= 8 && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ULL) == 0))
                i += 8;
            while (i < len && p[i] < 0x80)
                i++;
            continue;
        }
        int32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

int cb_utf8_valid(const char *s, size_t len)
{
    return cb_utf8_valid_prefix(s, len) == len;
}

/* ---- cleaning ---- */

static int is_space_cp(int32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Zero-width space and BOM come in from Excel and web forms, invisible to
 * the clerk; dropping them beats rejecting the row. */
static int is_zero_width(int32_t c)
{
    return c == 0x200B || c == 0xFEFF;
}

/* Characters that are NFC and stay NFC next to any neighbour in this class
 * (test_vntext checks the ranges against utf8proc). */
static int is_nfc_quick(int32_t c)
{
    return c < 0x300 || (c >= 0x1E00 && c <= 0x1EFF);
}

enum { SQ_ASCII = 1, SQ_NFC = 2 };

/* Trims, collapses white space and drops zero-width characters into buf
 * when it is large enough (saving a malloc on the per-row path), else into
 * a new string; *flags tells whether the result is ASCII and whether it is
 * known to be NFC already. */
static char *squeeze(const char *s, char *buf, size_t bufsize, size_t *outlen, int *flags)
{
    if (s == NULL) {
        errno = EINVAL;
        return NULL;
    }
    size_t len = strlen(s);
    char *out = len < bufsize ? buf : malloc(len + 1);
    if (out == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t o = 0;
    int pending = 0, ascii = 1, quick = 1;
    while (p < end) {
        int32_t c;
        size_t n;
        if (*p < 0x80) {
            c = *p;
            n = 1;
        } else {
            n = utf8_decode(p, (size_t)(end - p), &c);
            if (n == 0) {
                if (out != buf)
                    free(out);
                errno = EILSEQ;
                return NULL;
            }
        }
        if (is_space_cp(c)) {
            pending = o > 0;
            p += n;
            continue;
        }
        if (is_zero_width(c)) {
            p += n;
            continue;
        }
        if (pending) {
            out[o++] = ' ';
            pending = 0;
        }
        if (n > 1) {
            ascii = 0;
            if (!is_nfc_quick(c))
                quick = 0;
        }
        memcpy(out + o, p, n);
        o += n;
        p += n;
    }
    out[o] = '\0';
    *outlen = o;
    *flags = (ascii ? SQ_ASCII : 0) | (quick ? SQ_NFC : 0);
    return out;
}

static void set_errno_from_utf8proc(utf8proc_ssize_t r)
{
    errno = r == UTF8PROC_ERROR_NOMEM || r == UTF8PROC_ERROR_OVERFLOW ? ENOMEM : EILSEQ;
}

char *cb_text_clean(const char *s)
{
    size_t len;
    int flags;
    char *sq = squeeze(s, NULL, 0, &len, &flags);
    if (sq == NULL || (flags & SQ_NFC))
        return sq;
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)sq, (utf8proc_ssize_t)len, &nfc,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    free(sq);
    if (r < 0) {
        set_errno_from_utf8proc(r);
        return NULL;
    }
    return (char *)nfc;
}

/* ---- tone marks ---- */

/* Vietnamese writes one tone per syllable; schools taught two placements
 * for the open syllables oa, oe, uy (old "hòa, thủy", new "hoà, thuỷ"), and
 * typists mix them, so the key takes the tone off and puts it where the
 * traditional rule says. A run of letters that does not parse as one
 * Vietnamese syllable is left as it is. */

enum { Q_NONE, Q_CIRC, Q_BREVE, Q_HORN };
enum { T_NONE, T_GRAVE, T_ACUTE, T_TILDE, T_HOOK, T_DOT };
static const int32_t qual_mark[] = {0, 0x0302, 0x0306, 0x031B};
static const int32_t tone_mark[] = {0, 0x0300, 0x0301, 0x0303, 0x0309, 0x0323};

/* The lower-case precomposed vowels, [vowel_index][tone], and every
 * precomposed Vietnamese letter (either case) split into its parts, sorted
 * by code point. Generated from Unicode's decompositions; test_vntext
 * checks every character against utf8proc. They let the key skip utf8proc
 * for ordinary NFC Vietnamese text, several times faster. */
static const uint16_t vn_composed[12][6] = {
    {0x0061, 0x00E0, 0x00E1, 0x00E3, 0x1EA3, 0x1EA1}, /* a à á ã ả ạ */
    {0x0103, 0x1EB1, 0x1EAF, 0x1EB5, 0x1EB3, 0x1EB7}, /* ă ằ ắ ẵ ẳ ặ */
    {0x00E2, 0x1EA7, 0x1EA5, 0x1EAB, 0x1EA9, 0x1EAD}, /* â ầ ấ ẫ ẩ ậ */
    {0x0065, 0x00E8, 0x00E9, 0x1EBD, 0x1EBB, 0x1EB9}, /* e è é ẽ ẻ ẹ */
    {0x00EA, 0x1EC1, 0x1EBF, 0x1EC5, 0x1EC3, 0x1EC7}, /* ê ề ế ễ ể ệ */
    {0x0069, 0x00EC, 0x00ED, 0x0129, 0x1EC9, 0x1ECB}, /* i ì í ĩ ỉ ị */
    {0x006F, 0x00F2, 0x00F3, 0x00F5, 0x1ECF, 0x1ECD}, /* o ò ó õ ỏ ọ */
    {0x00F4, 0x1ED3, 0x1ED1, 0x1ED7, 0x1ED5, 0x1ED9}, /* ô ồ ố ỗ ổ ộ */
    {0x01A1, 0x1EDD, 0x1EDB, 0x1EE1, 0x1EDF, 0x1EE3}, /* ơ ờ ớ ỡ ở ợ */
    {0x0075, 0x00F9, 0x00FA, 0x0169, 0x1EE7, 0x1EE5}, /* u ù ú ũ ủ ụ */
    {0x01B0, 0x1EEB, 0x1EE9, 0x1EEF, 0x1EED, 0x1EF1}, /* ư ừ ứ ữ ử ự */
    {0x0079, 0x1EF3, 0x00FD, 0x1EF9, 0x1EF7, 0x1EF5}, /* y ỳ ý ỹ ỷ ỵ */
};
static const struct vn_char { uint16_t cp; char base; unsigned char qual, tone; } vn_chars[] = {
    {0x00C0, 'a', Q_NONE, T_GRAVE}, /* À */
    {0x00C1, 'a', Q_NONE, T_ACUTE}, /* Á */
    {0x00C2, 'a', Q_CIRC, T_NONE}, /* Â */
    {0x00C3, 'a', Q_NONE, T_TILDE}, /* Ã */
    {0x00C8, 'e', Q_NONE, T_GRAVE}, /* È */
    {0x00C9, 'e', Q_NONE, T_ACUTE}, /* É */
    {0x00CA, 'e', Q_CIRC, T_NONE}, /* Ê */
    {0x00CC, 'i', Q_NONE, T_GRAVE}, /* Ì */
    {0x00CD, 'i', Q_NONE, T_ACUTE}, /* Í */
    {0x00D2, 'o', Q_NONE, T_GRAVE}, /* Ò */
    {0x00D3, 'o', Q_NONE, T_ACUTE}, /* Ó */
    {0x00D4, 'o', Q_CIRC, T_NONE}, /* Ô */
    {0x00D5, 'o', Q_NONE, T_TILDE}, /* Õ */
    {0x00D9, 'u', Q_NONE, T_GRAVE}, /* Ù */
    {0x00DA, 'u', Q_NONE, T_ACUTE}, /* Ú */
    {0x00DD, 'y', Q_NONE, T_ACUTE}, /* Ý */
    {0x00E0, 'a', Q_NONE, T_GRAVE}, /* à */
    {0x00E1, 'a', Q_NONE, T_ACUTE}, /* á */
    {0x00E2, 'a', Q_CIRC, T_NONE}, /* â */
    {0x00E3, 'a', Q_NONE, T_TILDE}, /* ã */
    {0x00E8, 'e', Q_NONE, T_GRAVE}, /* è */
    {0x00E9, 'e', Q_NONE, T_ACUTE}, /* é */
    {0x00EA, 'e', Q_CIRC, T_NONE}, /* ê */
    {0x00EC, 'i', Q_NONE, T_GRAVE}, /* ì */
    {0x00ED, 'i', Q_NONE, T_ACUTE}, /* í */
    {0x00F2, 'o', Q_NONE, T_GRAVE}, /* ò */
    {0x00F3, 'o', Q_NONE, T_ACUTE}, /* ó */
    {0x00F4, 'o', Q_CIRC, T_NONE}, /* ô */
    {0x00F5, 'o', Q_NONE, T_TILDE}, /* õ */
    {0x00F9, 'u', Q_NONE, T_GRAVE}, /* ù */
    {0x00FA, 'u', Q_NONE, T_ACUTE}, /* ú */
    {0x00FD, 'y', Q_NONE, T_ACUTE}, /* ý */
    {0x0102, 'a', Q_BREVE, T_NONE}, /* Ă */
    {0x0103, 'a', Q_BREVE, T_NONE}, /* ă */
    {0x0110, 'D', Q_NONE, T_NONE}, /* Đ */
    {0x0111, 'D', Q_NONE, T_NONE}, /* đ */
    {0x0128, 'i', Q_NONE, T_TILDE}, /* Ĩ */
    {0x0129, 'i', Q_NONE, T_TILDE}, /* ĩ */
    {0x0168, 'u', Q_NONE, T_TILDE}, /* Ũ */
    {0x0169, 'u', Q_NONE, T_TILDE}, /* ũ */
    {0x01A0, 'o', Q_HORN, T_NONE}, /* Ơ */
    {0x01A1, 'o', Q_HORN, T_NONE}, /* ơ */
    {0x01AF, 'u', Q_HORN, T_NONE}, /* Ư */
    {0x01B0, 'u', Q_HORN, T_NONE}, /* ư */
    {0x1EA0, 'a', Q_NONE, T_DOT}, /* Ạ */
    {0x1EA1, 'a', Q_NONE, T_DOT}, /* ạ */
    {0x1EA2, 'a', Q_NONE, T_HOOK}, /* Ả */
    {0x1EA3, 'a', Q_NONE, T_HOOK}, /* ả */
    {0x1EA4, 'a', Q_CIRC, T_ACUTE}, /* Ấ */
    {0x1EA5, 'a', Q_CIRC, T_ACUTE}, /* ấ */
    {0x1EA6, 'a', Q_CIRC, T_GRAVE}, /* Ầ */
    {0x1EA7, 'a', Q_CIRC, T_GRAVE}, /* ầ */
    {0x1EA8, 'a', Q_CIRC, T_HOOK}, /* Ẩ */
    {0x1EA9, 'a', Q_CIRC, T_HOOK}, /* ẩ */
    {0x1EAA, 'a', Q_CIRC, T_TILDE}, /* Ẫ */
    {0x1EAB, 'a', Q_CIRC, T_TILDE}, /* ẫ */
    {0x1EAC, 'a', Q_CIRC, T_DOT}, /* Ậ */
    {0x1EAD, 'a', Q_CIRC, T_DOT}, /* ậ */
    {0x1EAE, 'a', Q_BREVE, T_ACUTE}, /* Ắ */
    {0x1EAF, 'a', Q_BREVE, T_ACUTE}, /* ắ */
    {0x1EB0, 'a', Q_BREVE, T_GRAVE}, /* Ằ */
    {0x1EB1, 'a', Q_BREVE, T_GRAVE}, /* ằ */
    {0x1EB2, 'a', Q_BREVE, T_HOOK}, /* Ẳ */
    {0x1EB3, 'a', Q_BREVE, T_HOOK}, /* ẳ */
    {0x1EB4, 'a', Q_BREVE, T_TILDE}, /* Ẵ */
    {0x1EB5, 'a', Q_BREVE, T_TILDE}, /* ẵ */
    {0x1EB6, 'a', Q_BREVE, T_DOT}, /* Ặ */
    {0x1EB7, 'a', Q_BREVE, T_DOT}, /* ặ */
    {0x1EB8, 'e', Q_NONE, T_DOT}, /* Ẹ */
    {0x1EB9, 'e', Q_NONE, T_DOT}, /* ẹ */
    {0x1EBA, 'e', Q_NONE, T_HOOK}, /* Ẻ */
    {0x1EBB, 'e', Q_NONE, T_HOOK}, /* ẻ */
    {0x1EBC, 'e', Q_NONE, T_TILDE}, /* Ẽ */
    {0x1EBD, 'e', Q_NONE, T_TILDE}, /* ẽ */
    {0x1EBE, 'e', Q_CIRC, T_ACUTE}, /* Ế */
    {0x1EBF, 'e', Q_CIRC, T_ACUTE}, /* ế */
    {0x1EC0, 'e', Q_CIRC, T_GRAVE}, /* Ề */
    {0x1EC1, 'e', Q_CIRC, T_GRAVE}, /* ề */
    {0x1EC2, 'e', Q_CIRC, T_HOOK}, /* Ể */
    {0x1EC3, 'e', Q_CIRC, T_HOOK}, /* ể */
    {0x1EC4, 'e', Q_CIRC, T_TILDE}, /* Ễ */
    {0x1EC5, 'e', Q_CIRC, T_TILDE}, /* ễ */
    {0x1EC6, 'e', Q_CIRC, T_DOT}, /* Ệ */
    {0x1EC7, 'e', Q_CIRC, T_DOT}, /* ệ */
    {0x1EC8, 'i', Q_NONE, T_HOOK}, /* Ỉ */
    {0x1EC9, 'i', Q_NONE, T_HOOK}, /* ỉ */
    {0x1ECA, 'i', Q_NONE, T_DOT}, /* Ị */
    {0x1ECB, 'i', Q_NONE, T_DOT}, /* ị */
    {0x1ECC, 'o', Q_NONE, T_DOT}, /* Ọ */
    {0x1ECD, 'o', Q_NONE, T_DOT}, /* ọ */
    {0x1ECE, 'o', Q_NONE, T_HOOK}, /* Ỏ */
    {0x1ECF, 'o', Q_NONE, T_HOOK}, /* ỏ */
    {0x1ED0, 'o', Q_CIRC, T_ACUTE}, /* Ố */
    {0x1ED1, 'o', Q_CIRC, T_ACUTE}, /* ố */
    {0x1ED2, 'o', Q_CIRC, T_GRAVE}, /* Ồ */
    {0x1ED3, 'o', Q_CIRC, T_GRAVE}, /* ồ */
    {0x1ED4, 'o', Q_CIRC, T_HOOK}, /* Ổ */
    {0x1ED5, 'o', Q_CIRC, T_HOOK}, /* ổ */
    {0x1ED6, 'o', Q_CIRC, T_TILDE}, /* Ỗ */
    {0x1ED7, 'o', Q_CIRC, T_TILDE}, /* ỗ */
    {0x1ED8, 'o', Q_CIRC, T_DOT}, /* Ộ */
    {0x1ED9, 'o', Q_CIRC, T_DOT}, /* ộ */
    {0x1EDA, 'o', Q_HORN, T_ACUTE}, /* Ớ */
    {0x1EDB, 'o', Q_HORN, T_ACUTE}, /* ớ */
    {0x1EDC, 'o', Q_HORN, T_GRAVE}, /* Ờ */
    {0x1EDD, 'o', Q_HORN, T_GRAVE}, /* ờ */
    {0x1EDE, 'o', Q_HORN, T_HOOK}, /* Ở */
    {0x1EDF, 'o', Q_HORN, T_HOOK}, /* ở */
    {0x1EE0, 'o', Q_HORN, T_TILDE}, /* Ỡ */
    {0x1EE1, 'o', Q_HORN, T_TILDE}, /* ỡ */
    {0x1EE2, 'o', Q_HORN, T_DOT}, /* Ợ */
    {0x1EE3, 'o', Q_HORN, T_DOT}, /* ợ */
    {0x1EE4, 'u', Q_NONE, T_DOT}, /* Ụ */
    {0x1EE5, 'u', Q_NONE, T_DOT}, /* ụ */
    {0x1EE6, 'u', Q_NONE, T_HOOK}, /* Ủ */
    {0x1EE7, 'u', Q_NONE, T_HOOK}, /* ủ */
    {0x1EE8, 'u', Q_HORN, T_ACUTE}, /* Ứ */
    {0x1EE9, 'u', Q_HORN, T_ACUTE}, /* ứ */
    {0x1EEA, 'u', Q_HORN, T_GRAVE}, /* Ừ */
    {0x1EEB, 'u', Q_HORN, T_GRAVE}, /* ừ */
    {0x1EEC, 'u', Q_HORN, T_HOOK}, /* Ử */
    {0x1EED, 'u', Q_HORN, T_HOOK}, /* ử */
    {0x1EEE, 'u', Q_HORN, T_TILDE}, /* Ữ */
    {0x1EEF, 'u', Q_HORN, T_TILDE}, /* ữ */
    {0x1EF0, 'u', Q_HORN, T_DOT}, /* Ự */
    {0x1EF1, 'u', Q_HORN, T_DOT}, /* ự */
    {0x1EF2, 'y', Q_NONE, T_GRAVE}, /* Ỳ */
    {0x1EF3, 'y', Q_NONE, T_GRAVE}, /* ỳ */
    {0x1EF4, 'y', Q_NONE, T_DOT}, /* Ỵ */
    {0x1EF5, 'y', Q_NONE, T_DOT}, /* ỵ */
    {0x1EF6, 'y', Q_NONE, T_HOOK}, /* Ỷ */
    {0x1EF7, 'y', Q_NONE, T_HOOK}, /* ỷ */
    {0x1EF8, 'y', Q_NONE, T_TILDE}, /* Ỹ */
    {0x1EF9, 'y', Q_NONE, T_TILDE}, /* ỹ */
};

struct letter {
    char base;           /* 'a'..'z', or 'D' for đ */
    unsigned char qual;  /* Q_* */
    unsigned char tone;  /* T_* */
};

static int is_vowel(int c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

/* Row of vn_composed, or -1 for a consonant or a mark the vowel cannot take. */
static int vowel_index(const struct letter *l)
{
    switch (l->base) {
    case 'a':
        return l->qual == Q_NONE ? 0 : l->qual == Q_BREVE ? 1 : l->qual == Q_CIRC ? 2 : -1;
    case 'e':
        return l->qual == Q_NONE ? 3 : l->qual == Q_CIRC ? 4 : -1;
    case 'i':
        return l->qual == Q_NONE ? 5 : -1;
    case 'o':
        return l->qual == Q_NONE ? 6 : l->qual == Q_CIRC ? 7 : l->qual == Q_HORN ? 8 : -1;
    case 'u':
        return l->qual == Q_NONE ? 9 : l->qual == Q_HORN ? 10 : -1;
    case 'y':
        return l->qual == Q_NONE ? 11 : -1;
    default:
        return -1;
    }
}

enum { MAX_SYLLABLE = 12 };

/* Length of the initial consonant of t[0..n). */
static int initial_len(const char *t, int n)
{
    if (n >= 3 && t[0] == 'n' && t[1] == 'g' && t[2] == 'h')
        return 3;
    /* The i of gi and the u of qu belong to the consonant when another
     * vowel follows ("già", "quý"), not otherwise ("gìn"). */
    if (n >= 3 && ((t[0] == 'g' && t[1] == 'i') || (t[0] == 'q' && t[1] == 'u')) && is_vowel(t[2]))
        return 2;
    if (n >= 2) {
        char a = t[0], b = t[1];
        if ((a == 'n' && b == 'g') || (a == 'g' && b == 'h') || (a == 't' && b == 'r') ||
            (b == 'h' && (a == 'c' || a == 'k' || a == 'n' || a == 'p' || a == 't')))
            return 2;
    }
    if (n >= 1) {
        switch (t[0]) {
        case 'b': case 'c': case 'd': case 'D': case 'g': case 'h': case 'k': case 'l':
        case 'm': case 'n': case 'p': case 'r': case 's': case 't': case 'v': case 'x':
            return 1;
        }
    }
    return 0;
}

/* Whether f[0..n) is a final consonant (or none). */
static int final_ok(const char *f, int n)
{
    switch (n) {
    case 0:
        return 1;
    case 1:
        return f[0] == 'c' || f[0] == 'm' || f[0] == 'n' || f[0] == 'p' || f[0] == 't';
    case 2:
        return (f[0] == 'c' && f[1] == 'h') || (f[0] == 'n' && (f[1] == 'g' || f[1] == 'h'));
    default:
        return 0;
    }
}

/* Index of the letter that carries the tone, or -1 when the letters are not
 * [initial consonant] vowels [final consonant] of Vietnamese. */
static int tone_position(const struct letter *l, int n)
{
    char t[MAX_SYLLABLE];
    for (int i = 0; i < n; i++)
        t[i] = l[i].base;

    int k = initial_len(t, n);
    for (int i = 0; i < k; i++)
        if (l[i].qual != Q_NONE)
            return -1;
    int v0 = k, v1 = k;
    while (v1 < n && is_vowel(t[v1]))
        v1++;
    int nv = v1 - v0;
    if (nv < 1 || nv > 3 || !final_ok(t + v1, n - v1))
        return -1;
    for (int i = v1; i < n; i++)
        if (l[i].qual != Q_NONE || l[i].tone != T_NONE)
            return -1;

    int marked = -1;
    for (int i = v0; i < v1; i++)
        if (l[i].qual != Q_NONE)
            marked = i;
    if (marked >= 0)
        return marked; /* ươ: the second, "người" */
    if (v1 < n)
        return v1 - 1; /* "hoàng", "toán", "huỳnh" */
    if (nv == 3)
        return v0 + 1; /* "ngoài", "khuỷu" */
    return v0;         /* "hòa", "thủy", "mùa", "tài" */
}

/* Moves the tone of the syllable l[0..n) to its canonical letter. */
static void canon_letters(struct letter *l, int n)
{
    int toned = -1;
    for (int i = 0; i < n; i++) {
        if (l[i].tone == T_NONE)
            continue;
        if (toned >= 0 || vowel_index(&l[i]) < 0)
            return;
        toned = i;
    }
    if (toned < 0)
        return;
    for (int i = 0; i < n; i++)
        if (vowel_index(&l[i]) < 0 && (is_vowel(l[i].base) || l[i].qual != Q_NONE))
            return;
    int at = tone_position(l, n);
    if (at < 0 || at == toned)
        return;
    l[at].tone = l[toned].tone;
    l[toned].tone = T_NONE;
}

static int mark_index(const int32_t *marks, int n, int32_t c)
{
    for (int i = 1; i < n; i++)
        if (marks[i] == c)
            return i;
    return 0;
}

/* Canonical combining classes, so the re-placed marks come out in NFD
 * order: horn 216, dot below 220, the others 230. */
static int mark_class(int32_t c)
{
    return c == 0x031B ? 216 : c == 0x0323 ? 220 : 230;
}

/* The syllable in the NFD, case-folded b[0..len): parse into letters,
 * re-place the tone, write back (same length). */
static void canon_syllable(int32_t *b, size_t len)
{
    struct letter l[MAX_SYLLABLE];
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        int32_t c = b[i];
        int q = mark_index(qual_mark, 4, c), t = mark_index(tone_mark, 6, c);
        if (t) {
            if (n == 0 || l[n - 1].tone)
                return;
            l[n - 1].tone = (unsigned char)t;
        } else if (q) {
            if (n == 0 || l[n - 1].qual)
                return;
            l[n - 1].qual = (unsigned char)q;
        } else if ((c >= 'a' && c <= 'z') || c == 0x0111) {
            if (n == MAX_SYLLABLE)
                return;
            l[n].base = c == 0x0111 ? 'D' : (char)c;
            l[n].qual = Q_NONE;
            l[n].tone = T_NONE;
            n++;
        } else {
            return;
        }
    }
    canon_letters(l, n);
    size_t w = 0;
    for (int i = 0; i < n; i++) {
        b[w++] = l[i].base == 'D' ? 0x0111 : l[i].base;
        int32_t m1 = qual_mark[l[i].qual], m2 = tone_mark[l[i].tone];
        if (m1 && m2 && mark_class(m2) < mark_class(m1)) {
            int32_t x = m1;
            m1 = m2;
            m2 = x;
        }
        if (m1)
            b[w++] = m1;
        if (m2)
            b[w++] = m2;
    }
}

static int is_letter_or_mark(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    utf8proc_category_t cat = utf8proc_category(c);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ME;
}

/* Collapses the spaces that dropping ignorable characters may have left,
 * then re-places the tone of every syllable; returns the new length. */
static size_t canon_key(int32_t *b, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == ' ' && (w == 0 || b[w - 1] == ' '))
            continue;
        b[w++] = b[i];
    }
    if (w > 0 && b[w - 1] == ' ')
        w--;
    for (size_t i = 0; i < w;) {
        if (!is_letter_or_mark(b[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < w && is_letter_or_mark(b[j]))
            j++;
        canon_syllable(b + i, j - i);
        i = j;
    }
    return w;
}

static size_t utf8_encode(int32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
}

static size_t emit_letters(const struct letter *l, int n, char *out)
{
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        int v = vowel_index(&l[i]);
        if (v >= 0)
            o += utf8_encode(vn_composed[v][l[i].tone], out + o);
        else if (l[i].base == 'D')
            o += utf8_encode(0x0111, out + o);
        else
            out[o++] = l[i].base;
    }
    return o;
}

static int compare_vn_char(const void *k, const void *e)
{
    int32_t c = *(const int32_t *)k, d = ((const struct vn_char *)e)->cp;
    return (c > d) - (c < d);
}

/* The key of squeezed text made of ASCII and precomposed Vietnamese
 * letters only, without utf8proc; NULL with errno 0 when the text has any
 * other character, NULL with ENOMEM when memory ran out. */
static char *key_fast(const char *sq, size_t len)
{
    /* A tone moved from ũ (2 bytes) to y makes ỹ (3): 3 bytes a byte. */
    char *out = malloc(3 * len + 1);
    if (out == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    struct letter run[MAX_SYLLABLE];
    int n = 0, long_run = 0;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)sq, *end = p + len;
    for (;;) {
        /* Scalars, not a struct built byte by byte: the copy into run[]
         * would otherwise stall on store forwarding, a third of the time. */
        char base = 0;
        unsigned char qual = Q_NONE, tone = T_NONE;
        size_t adv = 1;
        if (p < end && *p < 0x80) {
            int c = *p;
            if (c >= 'A' && c <= 'Z')
                c += 'a' - 'A';
            if (c >= 'a' && c <= 'z')
                base = (char)c;
        } else if (p < end) {
            int32_t c;
            adv = utf8_decode(p, (size_t)(end - p), &c);
            const struct vn_char *v =
                adv ? bsearch(&c, vn_chars, sizeof vn_chars / sizeof vn_chars[0],
                              sizeof vn_chars[0], compare_vn_char)
                    : NULL;
            if (v == NULL) {
                free(out);
                errno = 0;
                return NULL;
            }
            base = v->base;
            qual = v->qual;
            tone = v->tone;
        }
        if (base) {
            if (n == MAX_SYLLABLE) {
                /* Too long for a syllable: passed through as it is. */
                o += emit_letters(run, n, out + o);
                n = 0;
                long_run = 1;
            }
            run[n].base = base;
            run[n].qual = qual;
            run[n].tone = tone;
            n++;
        } else {
            if (!long_run)
                canon_letters(run, n);
            o += emit_letters(run, n, out + o);
            n = 0;
            long_run = 0;
            if (p == end)
                break;
            out[o++] = (char)*p;
        }
        p += adv;
    }
    out[o] = '\0';
    return out;
}

char *cb_text_fold(const char *s)
{
    char *clean = cb_text_clean(s);
    if (clean == NULL)
        return NULL;
    utf8proc_uint8_t *d = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)clean, 0, &d,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
                                          UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD);
    free(clean);
    if (r < 0) {
        set_errno_from_utf8proc(r);
        return NULL;
    }
    /* đ (U+0111, what case folding makes of Đ) has no decomposition. */
    char *o = (char *)d;
    for (const char *p = (const char *)d; *p; p++) {
        if ((unsigned char)p[0] == 0xC4 && (unsigned char)p[1] == 0x91) {
            *o++ = 'd';
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (char *)d;
}

enum { KEY_STACK = 256 };

char *cb_text_key(const char *s)
{
    char small[KEY_STACK];
    size_t len;
    int flags;
    char *sq = squeeze(s, small, sizeof small, &len, &flags);
    if (sq == NULL)
        return NULL;
    char *key = NULL;
    if (flags & SQ_ASCII) {
        for (char *p = sq; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        if (sq != small)
            return sq;
        if ((key = malloc(len + 1)) == NULL)
            errno = ENOMEM;
        else
            memcpy(key, sq, len + 1);
        return key;
    }
    key = key_fast(sq, len);
    if (key != NULL || errno == ENOMEM) {
        if (sq != small)
            free(sq);
        return key;
    }

    const utf8proc_option_t opt =
        UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;
    int32_t stack[KEY_STACK];
    int32_t *buf = stack;
    /* One slot spare: utf8proc_reencode writes a NUL after the bytes. */
    utf8proc_ssize_t n = utf8proc_decompose((const utf8proc_uint8_t *)sq, (utf8proc_ssize_t)len,
                                            buf, KEY_STACK - 1, opt);
    if (n > KEY_STACK - 1) {
        buf = malloc(((size_t)n + 1) * sizeof *buf);
        if (buf == NULL) {
            if (sq != small)
                free(sq);
            errno = ENOMEM;
            return NULL;
        }
        n = utf8proc_decompose((const utf8proc_uint8_t *)sq, (utf8proc_ssize_t)len, buf, n, opt);
    }
    if (sq != small)
        free(sq);
    if (n >= 0) {
        n = (utf8proc_ssize_t)canon_key(buf, (size_t)n);
        n = utf8proc_reencode(buf, n, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    }
    if (n < 0) {
        set_errno_from_utf8proc(n);
    } else if ((key = malloc((size_t)n + 1)) == NULL) {
        errno = ENOMEM;
    } else {
        memcpy(key, buf, (size_t)n);
        key[n] = '\0';
    }
    if (buf != stack)
        free(buf);
    return key;
}

/* ---- agency names ---- */

struct sbuf {
    char *p;
    size_t n, cap;
};

static int sbuf_reserve(struct sbuf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (need > cap)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (sbuf_reserve(b, b->n + n + 1) < 0)
        return -1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

/* Length of the dash at s (hyphen-minus, U+2010..U+2015, U+2212), or 0. */
static size_t dash_len(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] == '-')
        return 1;
    if (u[0] == 0xE2 && ((u[1] == 0x80 && u[2] >= 0x90 && u[2] <= 0x95) ||
                         (u[1] == 0x88 && u[2] == 0x92)))
        return 3;
    return 0;
}

static int is_word_cp(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    /* Latin-1 letters, Latin Extended-A and -B, Vietnamese: all letters,
     * answered without the property lookup. */
    if ((c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x1EA0 && c <= 0x1EFF))
        return 1;
    utf8proc_category_t cat = utf8proc_category(c);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO;
}

/* Length of the character at s in a NUL-terminated valid string; *word
 * tells whether it is a letter, mark or digit. A NUL stops the decoder as
 * a bad continuation byte would, so no read passes the end. */
static size_t char_at(const char *s, int *word)
{
    int32_t c;
    size_t n = utf8_decode((const unsigned char *)s, 4, &c);
    if (n == 0) {
        *word = 0;
        return 1;
    }
    *word = is_word_cp(c);
    return n;
}

/* Abbreviations and expansions in key form (lower case, NFC, traditional
 * tone placement, dashes without spaces); test_vntext checks that. Longer
 * forms first, so "tp." wins over "tp". Only forms that mean one thing in
 * an agency's name: not Q./H. (quận/huyện or a person's initial), CT, TT. */
#define ABBREV(a, f) {a, sizeof a - 1, f, sizeof f - 1}
static const struct abbrev {
    const char *abbr;
    size_t abbr_len;
    const char *full;
    size_t full_len;
} abbrevs[] = {
    ABBREV("lđ-tb&xh", "lao động-thương binh và xã hội"),
    ABBREV("lđ-tbxh", "lao động-thương binh và xã hội"),
    ABBREV("lđtb&xh", "lao động-thương binh và xã hội"),
    ABBREV("lđtbxh", "lao động-thương binh và xã hội"),
    ABBREV("nn&ptnt", "nông nghiệp và phát triển nông thôn"),
    ABBREV("nn-ptnt", "nông nghiệp và phát triển nông thôn"),
    ABBREV("nnptnt", "nông nghiệp và phát triển nông thôn"),
    ABBREV("vhttdl", "văn hóa, thể thao và du lịch"),
    ABBREV("ubmttq", "ủy ban mặt trận tổ quốc"),
    ABBREV("gd&đt", "giáo dục và đào tạo"),
    ABBREV("gd-đt", "giáo dục và đào tạo"),
    ABBREV("kh&đt", "kế hoạch và đầu tư"),
    ABBREV("kh-đt", "kế hoạch và đầu tư"),
    ABBREV("kh&cn", "khoa học và công nghệ"),
    ABBREV("kh-cn", "khoa học và công nghệ"),
    ABBREV("tn&mt", "tài nguyên và môi trường"),
    ABBREV("tn-mt", "tài nguyên và môi trường"),
    ABBREV("tt&tt", "thông tin và truyền thông"),
    ABBREV("tt-tt", "thông tin và truyền thông"),
    ABBREV("tphcm", "thành phố hồ chí minh"),
    ABBREV("gdđt", "giáo dục và đào tạo"),
    ABBREV("khđt", "kế hoạch và đầu tư"),
    ABBREV("khcn", "khoa học và công nghệ"),
    ABBREV("tnmt", "tài nguyên và môi trường"),
    ABBREV("tttt", "thông tin và truyền thông"),
    ABBREV("gtvt", "giao thông vận tải"),
    ABBREV("ubnd", "ủy ban nhân dân"),
    ABBREV("hđnd", "hội đồng nhân dân"),
    ABBREV("bhxh", "bảo hiểm xã hội"),
    ABBREV("bhyt", "bảo hiểm y tế"),
    ABBREV("mttq", "mặt trận tổ quốc"),
    ABBREV("kbnn", "kho bạc nhà nước"),
    ABBREV("đhqg", "đại học quốc gia"),
    ABBREV("tnhh", "trách nhiệm hữu hạn"),
    ABBREV("cntt", "công nghệ thông tin"),
    ABBREV("bql", "ban quản lý"),
    ABBREV("hcm", "hồ chí minh"),
    ABBREV("tp.", "thành phố"),
    ABBREV("tp", "thành phố"),
    ABBREV("tw", "trung ương"),
};
#undef ABBREV

/* Spaces around a dash go and every dash becomes '-', in place:
 * "lao động - thương binh" == "lao động–thương binh". */
static void join_dashes(char *k)
{
    char *w = k;
    for (const char *r = k; *r;) {
        size_t d = dash_len(r);
        if (d == 0) {
            *w++ = *r++;
            continue;
        }
        if (w > k && w[-1] == ' ')
            w--;
        *w++ = '-';
        r += d;
        if (*r == ' ')
            r++;
    }
    *w = '\0';
}

static const struct abbrev *abbrev_at(const char *r, size_t *alen)
{
    for (size_t i = 0; i < sizeof abbrevs / sizeof abbrevs[0]; i++) {
        const char *a = abbrevs[i].abbr;
        size_t n = abbrevs[i].abbr_len;
        if (a[0] != r[0] || a[1] != r[1] || strncmp(r, a, n) != 0)
            continue;
        int word = 0;
        if (r[n] != '\0')
            char_at(r + n, &word);
        if (a[n - 1] == '.' || !word) {
            *alen = n;
            return &abbrevs[i];
        }
    }
    return NULL;
}

static int expand_abbrevs(const char *k, struct sbuf *out)
{
    const char *copied = k;
    int at_word_start = 1;
    for (const char *r = k; *r;) {
        size_t alen;
        const struct abbrev *hit = at_word_start ? abbrev_at(r, &alen) : NULL;
        if (hit != NULL) {
            if (sbuf_add(out, copied, (size_t)(r - copied)) < 0 ||
                sbuf_add(out, hit->full, hit->full_len) < 0)
                return -1;
            r += alen;
            copied = r;
            int word = 0;
            if (*r)
                char_at(r, &word);
            /* "tp.hcm" reads "thành phố hcm". */
            if (word && sbuf_add(out, " ", 1) < 0)
                return -1;
            at_word_start = 1;
            continue;
        }
        int word;
        r += char_at(r, &word);
        at_word_start = !word;
    }
    return sbuf_add(out, copied, strlen(copied));
}

char *cb_agency_key(const char *s)
{
    char *key = cb_text_key(s);
    if (key == NULL)
        return NULL;
    join_dashes(key);
    struct sbuf out = {0};
    size_t len = strlen(key);
    /* Room for the usual expansions, so one malloc is the norm. */
    if (sbuf_reserve(&out, 2 * len + 64) < 0) {
        free(key);
        errno = ENOMEM;
        return NULL;
    }
    int rc = expand_abbrevs(key, &out);
    free(key);
    if (rc < 0) {
        free(out.p);
        errno = ENOMEM;
        return NULL;
    }
    return out.p;
}

/* ---- file names ---- */

enum { SLUG_WORD, SLUG_DOT, SLUG_SEP, SLUG_DROP };

static int slug_class(int32_t c)
{
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            return SLUG_WORD;
        if (c == '.')
            return SLUG_DOT;
        if (c < 0x20 && !(c >= 0x09 && c <= 0x0D))
            return SLUG_DROP;
        return c == 0x7F ? SLUG_DROP : SLUG_SEP;
    }
    if (c == 0x85)
        return SLUG_SEP;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
        return SLUG_WORD;
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
        return SLUG_DROP;
    default:
        return SLUG_SEP;
    }
}

static int is_mark_cp(int32_t c)
{
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
           cat == UTF8PROC_CATEGORY_ME;
}

char *cb_slug(const char *s, size_t max_bytes)
{
    if (max_bytes == 0)
        max_bytes = 1;
    size_t len = s ? strlen(s) : 0;

    /* Data is hostile here: drop what is not UTF-8 rather than fail. */
    char *valid = malloc(len + 1);
    if (valid == NULL)
        return NULL;
    size_t vn = 0;
    for (size_t i = 0; i < len;) {
        int32_t c;
        size_t n = utf8_decode((const unsigned char *)s + i, len - i, &c);
        if (n == 0) {
            i++;
            continue;
        }
        memcpy(valid + vn, s + i, n);
        vn += n;
        i += n;
    }
    valid[vn] = '\0';
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)valid, (utf8proc_ssize_t)vn, &nfc,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    free(valid);
    if (r < 0) {
        errno = ENOMEM;
        return NULL;
    }

    const unsigned char *p = nfc, *end = nfc + r;
    char *out = malloc((size_t)r + 2);
    if (out == NULL) {
        free(nfc);
        errno = ENOMEM;
        return NULL;
    }
    size_t o = 0;
    int pending_sep = 0, prev_word = 0;
    while (p < end) {
        int32_t c;
        size_t n = utf8_decode(p, (size_t)(end - p), &c);
        int cls = slug_class(c);
        if (cls == SLUG_DOT) {
            /* Only "a.b": a leading dot hides a file, ".." climbs. */
            const unsigned char *q = p + n;
            int32_t next = 0;
            while (q < end) {
                size_t m = utf8_decode(q, (size_t)(end - q), &next);
                if (slug_class(next) != SLUG_DROP)
                    break;
                q += m;
            }
            if (prev_word && q < end && slug_class(next) == SLUG_WORD) {
                out[o++] = '.';
                prev_word = 0;
            } else {
                pending_sep = o > 0;
                prev_word = 0;
            }
        } else if (cls == SLUG_SEP) {
            pending_sep = o > 0;
            prev_word = 0;
        } else if (cls == SLUG_WORD) {
            if (pending_sep) {
                out[o++] = '-';
                pending_sep = 0;
            }
            memcpy(out + o, p, n);
            o += n;
            prev_word = 1;
        }
        p += n;
    }
    free(nfc);

    if (o > max_bytes) {
        size_t cut = max_bytes;
        while (cut > 0 && ((unsigned char)out[cut] & 0xC0) == 0x80)
            cut--;
        /* Keep a letter with its marks: back off over marks at the cut. */
        for (;;) {
            int32_t c;
            size_t n = utf8_decode((const unsigned char *)out + cut, o - cut, &c);
            if (cut == 0 || n == 0 || !is_mark_cp(c))
                break;
            do
                cut--;
            while (cut > 0 && ((unsigned char)out[cut] & 0xC0) == 0x80);
        }
        o = cut;
        while (o > 0 && (out[o - 1] == '-' || out[o - 1] == '.'))
            o--;
    }
    if (o == 0)
        out[o++] = '_';
    out[o] = '\0';
    return out;
}
