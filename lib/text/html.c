/* HTML writer: see html.h. The escaping is done once, into a growing
 * string, and the page writer and cb_html_escape share it. */
#include "html.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "vntext.h"

static const char replacement[] = "\xEF\xBF\xBD";   /* U+FFFD */

/* One well-formed character of n bytes at s: is it a control character we
 * keep out of the page (C0 but tab, LF, CR; DEL; C1)? */
static int is_unwanted_control(const unsigned char *s, size_t n)
{
    if (n == 1)
        return (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n' && s[0] != '\r') || s[0] == 0x7F;
    return n == 2 && s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F;
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static int escape_valid(cb_buf *b, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const unsigned char *u = (const unsigned char *)s + i;
        size_t n = utf8_len(*u);
        const char *rep = NULL;
        switch (*u) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            if (is_unwanted_control(u, n))
                rep = replacement;
        }
        if ((rep ? cb_buf_add(b, rep, strlen(rep)) : cb_buf_add(b, s + i, n)) < 0)
            return -1;
        i += n;
    }
    return 0;
}

/* Escapes s[0..len) onto b: well-formed stretches character by character,
 * each byte that does not start a well-formed character as U+FFFD. */
static int escape_into(cb_buf *b, const char *s, size_t len)
{
    while (len > 0) {
        size_t ok = cb_utf8_valid_prefix(s, len);
        if (escape_valid(b, s, ok) < 0)
            return -1;
        s += ok;
        len -= ok;
        if (len > 0) {
            if (cb_buf_add(b, replacement, 3) < 0)
                return -1;
            s++;
            len--;
        }
    }
    return 0;
}

char *cb_html_escape(const char *s)
{
    cb_buf b = {0};
    if (s != NULL && escape_into(&b, s, strlen(s)) < 0) {
        cb_buf_free(&b);
        return NULL;
    }
    return cb_buf_take(&b);
}

void cb_html_init(cb_html *h, FILE *fp)
{
    memset(h, 0, sizeof *h);
    h->fp = fp;
}

static void misuse(cb_html *h, const char *what, const char *name)
{
    if (!h->failed)
        snprintf(h->why, sizeof h->why, "HTML writer: %s '%.60s'", what, name ? name : "(null)");
    h->failed = 1;
}

static void put(cb_html *h, const char *s, size_t n)
{
    if (!h->failed && n > 0 && fwrite(s, 1, n, h->fp) != n)
        h->failed = 2;
}

static void puts_(cb_html *h, const char *s)
{
    put(h, s, strlen(s));
}

static void put_escaped(cb_html *h, const char *s)
{
    cb_buf b = {0};
    if (escape_into(&b, s, strlen(s)) < 0)
        misuse(h, "out of memory escaping", "");
    else
        put(h, b.s, b.len);
    cb_buf_free(&b);
}

/* Tag and attribute names come from the program, never from data. */
static int name_ok(const char *s)
{
    if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-'))
            return 0;
    return 1;
}

static void start_tag(cb_html *h, const char *tag, va_list ap)
{
    if (!name_ok(tag)) {
        misuse(h, "bad tag name", tag);
        return;
    }
    puts_(h, "<");
    puts_(h, tag);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (!name_ok(name)) {
            misuse(h, "bad attribute name", name);
            return;
        }
        if (value == NULL)
            continue;
        puts_(h, " ");
        puts_(h, name);
        puts_(h, "=\"");
        put_escaped(h, value);
        puts_(h, "\"");
    }
    puts_(h, ">");
}

static void push(cb_html *h, const char *tag)
{
    if (h->depth == CB_HTML_MAX_DEPTH)
        misuse(h, "elements nested too deep at", tag);
    else
        h->open[h->depth++] = tag;
}

void cb_html_doctype(cb_html *h)
{
    puts_(h, "<!DOCTYPE html>\n");
}

void cb_html_open(cb_html *h, const char *tag, ...)
{
    va_list ap;
    va_start(ap, tag);
    start_tag(h, tag, ap);
    va_end(ap);
    push(h, tag);
}

void cb_html_void(cb_html *h, const char *tag, ...)
{
    va_list ap;
    va_start(ap, tag);
    start_tag(h, tag, ap);
    va_end(ap);
}

void cb_html_close(cb_html *h)
{
    if (h->depth == 0) {
        misuse(h, "close with nothing open", "");
        return;
    }
    const char *tag = h->open[--h->depth];
    puts_(h, "</");
    puts_(h, tag);
    puts_(h, ">");
}

void cb_html_close_to(cb_html *h, const char *tag)
{
    int i = h->depth - 1;
    while (i >= 0 && strcmp(h->open[i], tag) != 0)
        i--;
    if (i < 0) {
        misuse(h, "close of an element not open", tag);
        return;
    }
    while (h->depth > i)
        cb_html_close(h);
}

void cb_html_text(cb_html *h, const char *s)
{
    if (s != NULL)
        put_escaped(h, s);
}

void cb_html_textf(cb_html *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    if (s == NULL) {
        misuse(h, "out of memory formatting", fmt);
        return;
    }
    put_escaped(h, s);
    free(s);
}

void cb_html_elem(cb_html *h, const char *tag, const char *text, ...)
{
    va_list ap;
    va_start(ap, text);
    start_tag(h, tag, ap);
    va_end(ap);
    push(h, tag);
    cb_html_text(h, text);
    cb_html_close(h);
}

void cb_html_raw_style(cb_html *h, const char *css)
{
    if (strstr(css, "</") != NULL || strstr(css, "<!--") != NULL) {
        misuse(h, "stylesheet that could end its element", "style");
        return;
    }
    puts_(h, "<style>");
    puts_(h, css);
    puts_(h, "</style>");
}

int cb_html_finish(cb_html *h, cb_err *err)
{
    while (h->depth > 0 && !h->failed)
        cb_html_close(h);
    if (!h->failed && fflush(h->fp) != 0)
        h->failed = 2;
    if (h->failed == 1)
        return cb_err_set(err, EX_SOFTWARE, "%s", h->why);
    if (h->failed == 2 || ferror(h->fp))
        return cb_err_sys(err, EX_IOERR, "cannot write the page");
    return 0;
}
