/* Identifier checks: see identifiers.h. */
#include "identifiers.h"
#include "provinces.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int cccd(const char *id, int birth_year, int *sex_out, char *why, size_t whylen, int vi)
{
    char dummy[1];
    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = '\0';
    if (sex_out)
        *sex_out = CB_SEX_UNKNOWN;
    if (id == NULL || strlen(id) != 12 || !digits(id, 12)) {
        snprintf(why, whylen, vi ? "số định danh cá nhân phải gồm đúng 12 chữ số"
                                 : "not 12 digits");
        return 0;
    }
    int prov = (id[0] - '0') * 100 + (id[1] - '0') * 10 + (id[2] - '0');
    if (!cb_cccd_province_valid(prov)) {
        snprintf(why, whylen, vi ? "ba chữ số đầu (%.3s) không phải mã tỉnh"
                                 : "digits 1-3 (%.3s) are not a province code", id);
        return 0;
    }
    int g = id[3] - '0';
    if (g > 5) {
        snprintf(why, whylen, vi ? "chữ số thứ 4 (%c) không phải mã thế kỷ và giới tính (0-5)"
                                 : "digit 4 (%c) is not a century and sex code (0-5)", id[3]);
        return 0;
    }
    int from = 1900 + 100 * (g / 2);
    if (birth_year >= 0) {
        if (birth_year < from || birth_year > from + 99) {
            snprintf(why, whylen, vi ? "chữ số thứ 4 (%c) ứng với năm sinh %d-%d, không phải %d"
                                     : "digit 4 (%c) means born %d-%d, not %d",
                     id[3], from, from + 99, birth_year);
            return 0;
        }
        if ((id[4] - '0') * 10 + (id[5] - '0') != birth_year % 100) {
            snprintf(why, whylen, vi ? "chữ số thứ 5-6 (%.2s) không khớp năm sinh %d"
                                     : "digits 5-6 (%.2s) do not match birth year %d",
                     id + 4, birth_year);
            return 0;
        }
    }
    if (sex_out)
        *sex_out = g % 2 ? CB_SEX_FEMALE : CB_SEX_MALE;
    return 1;
}

int cb_cccd_check(const char *id, int birth_year, int *sex_out, char *why, size_t whylen)
{
    return cccd(id, birth_year, sex_out, why, whylen, 0);
}

int cb_cccd_check_vi(const char *id, int birth_year, int *sex_out, char *why, size_t whylen)
{
    return cccd(id, birth_year, sex_out, why, whylen, 1);
}

int cb_passport_check(const char *s)
{
    return s != NULL && s[0] >= 'A' && s[0] <= 'Z' && strlen(s) == 8 && digits(s + 1, 7);
}

int cb_phone_normalize(const char *in, char out[11])
{
    char d[16];
    size_t n = 0;
    int plus = 0;
    out[0] = '\0';
    if (in == NULL)
        return 0;
    const char *p = in;
    while (*p == ' ')
        p++;
    if (*p == '+') {
        plus = 1;
        p++;
    }
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n == sizeof d - 1)
                return 0;
            d[n++] = *p;
        } else if (*p != ' ' && *p != '.' && *p != '-') {
            return 0;
        }
    }
    d[n] = '\0';
    const char *national = d;
    char buf[16];
    int has_cc = n >= 2 && d[0] == '8' && d[1] == '4' && (n == 11 || (n == 12 && d[2] == '0'));
    if (plus && !has_cc)
        return 0;
    if (has_cc) {
        if (d[2] == '0') {
            national = d + 2;
        } else {
            buf[0] = '0';
            memcpy(buf + 1, d + 2, n - 1);
            national = buf;
        }
    }
    if (strlen(national) != 10 || national[0] != '0' || strchr("35789", national[1]) == NULL)
        return 0;
    memcpy(out, national, 11);
    return 1;
}

static int is_atext(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int is_ldh(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

static int domain_ok(const char *d, size_t n)
{
    if (n == 0 || n > 253)
        return 0;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && d[i] != '.') {
            if (!is_ldh((unsigned char)d[i]))
                return 0;
            continue;
        }
        size_t len = i - start;
        if (len == 0 || len > 63 || d[start] == '-' || d[i - 1] == '-')
            return 0;
        labels++;
        if (i == n) {
            for (size_t k = start; k < n; k++)
                if (!((d[k] >= 'a' && d[k] <= 'z') || (d[k] >= 'A' && d[k] <= 'Z')))
                    return 0;
            if (len < 2)
                return 0;
        }
        start = i + 1;
    }
    return labels >= 2;
}

static int domain_listed(const char *d, size_t n, const char *list)
{
    if (list == NULL)
        return 1;
    int any = 0;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *q = p, *qe = e;
        while (qe > q && qe[-1] == ' ')
            qe--;
        while (q < qe && (*q == '.' || *q == '@'))
            q++;
        size_t m = (size_t)(qe - q);
        if (m > 0) {
            any = 1;
            if (m == n && strncasecmp(d, q, m) == 0)
                return 1;
            if (n > m && d[n - m - 1] == '.' && strncasecmp(d + n - m, q, m) == 0)
                return 1;
        }
        p = e;
    }
    return !any;
}

int cb_email_check(const char *email, const char *official_domains)
{
    if (email == NULL)
        return 0;
    const char *at = strchr(email, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL)
        return 0;
    size_t ln = (size_t)(at - email), dn = strlen(at + 1);
    if (ln == 0 || ln > 64 || ln + 1 + dn > 254)
        return 0;
    if (email[0] == '.' || email[ln - 1] == '.')
        return 0;
    for (size_t i = 0; i < ln; i++) {
        if (email[i] == '.') {
            if (email[i + 1] == '.')
                return 0;
        } else if (!is_atext((unsigned char)email[i])) {
            return 0;
        }
    }
    return domain_ok(at + 1, dn) && domain_listed(at + 1, dn, official_domains);
}

int cb_agency_code_check(const char *s)
{
    return s != NULL && strlen(s) == 13 && digits(s, 3) && s[3] == '.' && digits(s + 4, 2) &&
           s[6] == '.' && digits(s + 7, 2) && s[9] == '.' && s[10] >= 'A' && s[10] <= 'Z' &&
           digits(s + 11, 2);
}

int cb_tax_code_check(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    return (n == 10 && digits(s, 10)) || (n == 14 && digits(s, 10) && s[10] == '-' && digits(s + 11, 3));
}

int cb_budget_code_check(const char *s)
{
    return s != NULL && strlen(s) == 7 && digits(s, 7);
}
