/* Serial numbers: see serial.h. */
#include "serial.h"

#include <string.h>

static int hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

static int separator(char c)
{
    return c == ' ' || c == '\t' || c == ':';
}

static const char *skip_separators(const char *s)
{
    while (separator(*s))
        s++;
    return s;
}

/* The key of s, with pad zeros put in front when odd (display form). */
static int serial_form(const char *s, char *out, size_t size, int even)
{
    if (size > 0)
        out[0] = '\0';
    s = skip_separators(s);
    int neg = *s == '-';
    if (neg)
        s = skip_separators(s + 1);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    /* count the digits after the leading zeros, checking every character */
    size_t digits = 0, zeros = 0;
    for (const char *p = s; *p; p++) {
        if (separator(*p))
            continue;
        if (!hex_digit(*p))
            return -1;
        if (digits == 0 && *p == '0')
            zeros++;
        else
            digits++;
    }
    if (digits == 0 && zeros == 0)
        return -1;
    if (digits == 0)
        neg = 0;   /* -0 is 0 */
    size_t pad = digits == 0 ? (even ? 2 : 1) : (even ? digits % 2 : 0);
    size_t need = (size_t)neg + pad + digits + 1;
    if (need > size)
        return -1;
    char *o = out;
    if (neg)
        *o++ = '-';
    memset(o, '0', pad);
    o += pad;
    int started = 0;
    for (const char *p = s; *p; p++) {
        if (separator(*p) || (!started && *p == '0'))
            continue;
        started = 1;
        *o++ = *p >= 'a' ? (char)(*p - 'a' + 'A') : *p;
    }
    *o = '\0';
    return 0;
}

int cb_serial_key(const char *s, char *out, size_t size)
{
    return serial_form(s, out, size, 0);
}

int cb_serial_display(const char *s, char *out, size_t size)
{
    return serial_form(s, out, size, 1);
}
