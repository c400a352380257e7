/* A small HTML writer for the pages the programs make (report's morning
 * page): elements opened and closed in order, every piece of data escaped.
 *
 * Text and attribute values always go through the escaper: & < > " ' become
 * character references, control characters other than tab and newline and
 * bytes that are not UTF-8 become U+FFFD, so a holder named
 * `<script>alert(1)</script>` is shown as those characters and can neither
 * open an element nor leave an attribute. Tag and attribute names are the
 * program's own constants and are checked (a letter, then letters, digits
 * and '-'): a bad one is an
 * internal error, never written. The one unescaped path,
 * cb_html_raw_style(), takes the program's own stylesheet and refuses one
 * that could end its <style> element.
 *
 * Writes go to a stdio stream; the first failure is kept (sticky) and
 * reported by cb_html_finish, so callers need not check each call. */
#ifndef CB_HTML_H
#define CB_HTML_H

#include <stdio.h>

#include "cb_err.h"

#define CB_HTML_MAX_DEPTH 64

typedef struct cb_html {
    FILE *fp;
    int depth;
    const char *open[CB_HTML_MAX_DEPTH];   /* tag names, constants */
    int failed;                            /* a write or a misuse */
    char why[160];                         /* what the misuse was */
} cb_html;

void cb_html_init(cb_html *h, FILE *fp);

/* `<!DOCTYPE html>` and a newline. */
void cb_html_doctype(cb_html *h);

/* Opens <tag name="value" ...>; the attributes are name/value pairs ending
 * with NULL. A NULL value leaves that attribute out; "" writes it empty. */
void cb_html_open(cb_html *h, const char *tag, ...) __attribute__((sentinel));
/* An element with no content and no end tag (<meta>, <br>). */
void cb_html_void(cb_html *h, const char *tag, ...) __attribute__((sentinel));
/* Closes the innermost open element. */
void cb_html_close(cb_html *h);
/* Closes open elements until tag (innermost first), tag included. */
void cb_html_close_to(cb_html *h, const char *tag);

/* Escaped text. */
void cb_html_text(cb_html *h, const char *s);
/* printf then escape: data may be among the arguments. */
void cb_html_textf(cb_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* <tag attrs...>text</tag> in one call. */
void cb_html_elem(cb_html *h, const char *tag, const char *text, ...) __attribute__((sentinel));

/* The program's own stylesheet (a constant) inside <style>; refused when it
 * holds "</" or "<!--". */
void cb_html_raw_style(cb_html *h, const char *css);

/* The escaped form of s as a malloc'd string (NULL when out of memory): for
 * values built outside a page, and for the tests. */
char *cb_html_escape(const char *s);

/* Closes what is still open, flushes, and reports the first failure
 * (EX_SOFTWARE for a misuse, EX_IOERR for a write). 0 when all went out. */
int cb_html_finish(cb_html *h, cb_err *err);

#endif
