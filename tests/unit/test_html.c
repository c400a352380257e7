/* Unit tests for the HTML writer: hostile strings in text and in attribute
 * values come out as text (the expected strings are written by hand from
 * the HTML standard's escaping rules), bad UTF-8 and control characters
 * become U+FFFD, tag and attribute names from data are refused, and a
 * stylesheet that could close its element is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "tap.h"

/* The page built by fn, as a string (open_memstream). */
typedef void (*build_fn)(cb_html *h, const char *arg);

static char *page(build_fn fn, const char *arg, int *rc)
{
    char *s = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&s, &n);
    cb_html h;
    cb_html_init(&h, fp);
    fn(&h, arg);
    cb_err err = {0};
    *rc = cb_html_finish(&h, &err) < 0 ? err.code : 0;
    fclose(fp);
    return s;
}

static void td_text(cb_html *h, const char *arg)
{
    cb_html_open(h, "td", "class", "name", NULL);
    cb_html_text(h, arg);
}

static void td_title(cb_html *h, const char *arg)
{
    cb_html_open(h, "td", "title", arg, NULL);
    cb_html_close(h);
}

static void bad_tag(cb_html *h, const char *arg)
{
    cb_html_open(h, arg, NULL);
}

static void bad_attr(cb_html *h, const char *arg)
{
    cb_html_open(h, "td", arg, "x", NULL);
}

static void style(cb_html *h, const char *arg)
{
    cb_html_raw_style(h, arg);
}

static void nested(cb_html *h, const char *arg)
{
    cb_html_open(h, "table", NULL);
    cb_html_open(h, "tr", NULL);
    cb_html_elem(h, "td", arg, "data-k", "n", NULL);
    cb_html_open(h, "td", NULL);
    cb_html_textf(h, "%s=%d", arg, 7);
    cb_html_close_to(h, "table");
    cb_html_void(h, "br", NULL);
}

static void check(const char *name, build_fn fn, const char *arg, const char *want, int want_rc)
{
    int rc;
    char *got = page(fn, arg, &rc);
    if (want != NULL)
        is_str(got, want, "%s", name);
    is_int(rc, want_rc, "%s: finish returns %d", name, want_rc);
    free(got);
}

int main(void)
{
    check("a script tag in a name is text", td_text, "<script>alert(1)</script>",
          "<td class=\"name\">&lt;script&gt;alert(1)&lt;/script&gt;</td>", 0);
    check("ampersands and quotes are escaped in text", td_text, "Tom & \"Jerry\" 'x'",
          "<td class=\"name\">Tom &amp; &quot;Jerry&quot; &#39;x&#39;</td>", 0);
    check("a value cannot leave its attribute", td_title, "\" onmouseover=\"alert(1)",
          "<td title=\"&quot; onmouseover=&quot;alert(1)\"></td>", 0);
    check("single quotes cannot leave an attribute either", td_title, "' autofocus onfocus='x",
          "<td title=\"&#39; autofocus onfocus=&#39;x\"></td>", 0);
    check("Vietnamese letters are kept as they are", td_text, "Nguyễn Thị Đào",
          "<td class=\"name\">Nguyễn Thị Đào</td>", 0);
    check("a stray byte that is not UTF-8 becomes U+FFFD", td_text, "a\xFF<b",
          "<td class=\"name\">a\xEF\xBF\xBD&lt;b</td>", 0);
    check("an overlong encoding of '<' is not a '<'", td_text, "\xC0\xBCscript",
          "<td class=\"name\">\xEF\xBF\xBD\xEF\xBF\xBDscript</td>", 0);
    check("control characters become U+FFFD, tab and newline stay", td_text, "a\x01\x1B\tb\nc\x7F",
          "<td class=\"name\">a\xEF\xBF\xBD\xEF\xBF\xBD\tb\nc\xEF\xBF\xBD</td>", 0);
    check("a C1 control character becomes U+FFFD", td_text, "x\xC2\x85y",
          "<td class=\"name\">x\xEF\xBF\xBDy</td>", 0);
    check("a comment opener in text is text", td_text, "<!-- -->",
          "<td class=\"name\">&lt;!-- --&gt;</td>", 0);
    check("elements close in order, close_to closes the inner ones", nested, "<i>",
          "<table><tr><td data-k=\"n\">&lt;i&gt;</td><td>&lt;i&gt;=7</td></tr></table><br>", 0);
    check("a tag name from data is refused", bad_tag, "script src=x", "", 70);
    check("an attribute name from data is refused", bad_attr, "onclick=\"x\"", NULL, 70);
    check("an empty tag name is refused", bad_tag, "", "", 70);
    check("the stylesheet is written as given", style, "td{color:red}",
          "<style>td{color:red}</style>", 0);
    check("a stylesheet that could end its element is refused", style, "a{}</style><script>", "",
          70);

    char *e = cb_html_escape("<a href='x'>&</a>");
    is_str(e, "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;", "cb_html_escape gives the escaped string");
    free(e);
    e = cb_html_escape("");
    is_str(e, "", "escaping nothing gives \"\"");
    free(e);

    FILE *full = fopen("/dev/full", "w");
    if (full != NULL) {
        cb_html h;
        cb_html_init(&h, full);
        for (int i = 0; i < 10000; i++)
            cb_html_elem(&h, "p", "a line of text", NULL);
        cb_err err = {0};
        is_int(cb_html_finish(&h, &err), -1, "a full disk is reported at finish");
        is_int(err.code, 74, "as an I/O error (74)");
        fclose(full);
    }
    return done_testing();
}
