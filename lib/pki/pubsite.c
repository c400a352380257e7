/* The files of the public directory: see pubsite.h. */
#include "pubsite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "certinfo.h"
#include "csvio.h"
#include "date.h"
#include "strmap.h"
#include "vntext.h"

/* ---- reading a certificate ---- */

static char *name_entry(const X509_NAME *name, int nid)
{
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    unsigned char *u = NULL;
    if (i < 0 || ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))) < 0)
        return strdup("");
    char *s = strdup((char *)u);
    OPENSSL_free(u);
    return s;
}

static char *first_email(X509 *x)
{
    char *e = name_entry(X509_get_subject_name(x), NID_pkcs9_emailAddress);
    if (e == NULL || *e)
        return e;
    GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; san && i < sk_GENERAL_NAME_num(san); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
        if (g->type == GEN_EMAIL) {
            free(e);
            e = strndup((const char *)ASN1_STRING_get0_data(g->d.rfc822Name),
                        (size_t)ASN1_STRING_length(g->d.rfc822Name));
            break;
        }
    }
    GENERAL_NAMES_free(san);
    return e;
}

static int time_of(const ASN1_TIME *t, char *buf)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    cb_instant_format(cb_instant_from_utc_tm(&tm), buf);
    return 0;
}

int cb_pub_cert_init(cb_pub_cert *c, const unsigned char *der, size_t len,
                     const char *effective_at, const char *request_id, cb_err *err)
{
    memset(c, 0, sizeof *c);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || (size_t)(p - der) != len) {
        X509_free(x);
        return cb_err_set(err, EX_DATAERR, "not a DER certificate");
    }
    const X509_NAME *sub = X509_get_subject_name(x);
    unsigned char md[32];
    size_t mdlen = 0;
    c->serial = cb_asn1_int_hex(X509_get0_serialNumber(x));
    c->holder = name_entry(sub, NID_commonName);
    c->position = name_entry(sub, NID_title);
    c->agency = name_entry(sub, NID_organizationName);
    c->unit = name_entry(sub, NID_organizationalUnitName);
    c->email = first_email(x);
    c->issuer = name_entry(X509_get_issuer_name(x), NID_commonName);
    c->effective_at = strdup(effective_at ? effective_at : "");
    c->request_id = strdup(request_id ? request_id : "");
    c->der = malloc(len ? len : 1);
    int bad = time_of(X509_get0_notBefore(x), c->not_before) < 0 ||
              time_of(X509_get0_notAfter(x), c->not_after) < 0;
    if (!bad && EVP_Q_digest(NULL, "SHA256", NULL, der, len, md, &mdlen) == 1 && mdlen == 32)
        for (int i = 0; i < 32; i++)
            snprintf(c->sha256 + 2 * i, 3, "%02X", md[i]);
    else
        bad = 1;
    X509_free(x);
    if (!c->serial || !c->holder || !c->position || !c->agency || !c->unit || !c->email ||
        !c->issuer || !c->effective_at || !c->request_id || !c->der || bad) {
        cb_pub_cert_clear(c);
        return cb_err_set(err, bad ? EX_DATAERR : EX_OSERR,
                          bad ? "the certificate's dates or digest cannot be read" : "out of memory");
    }
    memcpy(c->der, der, len);
    c->der_len = len;
    return 0;
}

void cb_pub_cert_clear(cb_pub_cert *c)
{
    free(c->serial);
    free(c->holder);
    free(c->position);
    free(c->agency);
    free(c->unit);
    free(c->email);
    free(c->issuer);
    free(c->effective_at);
    free(c->request_id);
    free(c->der);
    memset(c, 0, sizeof *c);
}

/* ---- site order: agency, then holder, then serial, compared by key ---- */

typedef struct sort_item {
    char *agency_key, *holder_key;
    cb_pub_cert c;
} sort_item;

static int cmp_items(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    int r = strcmp(x->agency_key, y->agency_key);
    if (r == 0)
        r = strcmp(x->holder_key, y->holder_key);
    if (r == 0 && strlen(x->c.serial) != strlen(y->c.serial))
        r = strlen(x->c.serial) < strlen(y->c.serial) ? -1 : 1;
    return r ? r : strcmp(x->c.serial, y->c.serial);
}

static int site_order(cb_pub_cert *certs, size_t n, cb_err *err)
{
    sort_item *it = calloc(n ? n : 1, sizeof *it);
    int rc = it ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        it[i].c = certs[i];
        it[i].agency_key = cb_text_fold(certs[i].agency);
        it[i].holder_key = cb_text_fold(certs[i].holder);
        if (!it[i].agency_key || !it[i].holder_key)
            rc = -1;
    }
    if (rc == 0) {
        qsort(it, n, sizeof *it, cmp_items);
        for (size_t i = 0; i < n; i++)
            certs[i] = it[i].c;
    }
    for (size_t i = 0; it && i < n; i++) {
        free(it[i].agency_key);
        free(it[i].holder_key);
    }
    free(it);
    return rc < 0 ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

/* ---- escaping ---- */

static void html(FILE *fp, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default: fputc(*s, fp);
        }
    }
}

/* "2026-11-20T09:30:00+07:00" as Vietnamese pages show it, inside <time>. */
static void html_instant(FILE *fp, const char *iso)
{
    int y, m, d, hh, mm;
    fputs("<time datetime=\"", fp);
    html(fp, iso);
    fputs("\">", fp);
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d", &y, &m, &d, &hh, &mm) == 5)
        fprintf(fp, "%02d/%02d/%04d %02d:%02d", d % 100, m % 100, y % 10000, hh % 100, mm % 100);
    else
        html(fp, iso);
    fputs("</time>", fp);
}

static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c < 0x20 || c == 0x7F)
            fprintf(fp, "\\u%04x", c);
        else if (c == '<')  /* safe inside a <script> block too */
            fputs("\\u003c", fp);
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

/* ---- the HTML pages ---- */

static const char page_style[] =
    "<style>\n"
    "[hidden]{display:none!important}\n"
    "body{font-family:system-ui,sans-serif;margin:1.5em;line-height:1.4;color:#111}\n"
    "table{border-collapse:collapse;width:100%;margin-bottom:1.5em}\n"
    "th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#eef}\n"
    ".fp{font-family:monospace;font-size:.8em;word-break:break-all}\n"
    "#q{font-size:1.1em;width:22em;max-width:100%}\n"
    "</style>\n";

static void page_head(FILE *fp, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          fp);
    html(fp, title);
    fputs("</title>\n", fp);
    fputs(page_style, fp);
    fputs("</head>\n<body>\n", fp);
}

/* The filter runs in the browser: each row carries its text folded the way
 * cb_text_fold folds it, the script folds what is typed the same way. */
static const char search_script[] =
    "<script>\n"
    "(function () {\n"
    "  var form = document.getElementById('search'), q = document.getElementById('q');\n"
    "  var count = document.getElementById('count'), none = document.getElementById('none');\n"
    "  var rows = [].slice.call(document.querySelectorAll('tr[data-key]'));\n"
    "  var groups = [].slice.call(document.querySelectorAll('section.agency'));\n"
    "  function fold(s) {\n"
    "    return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g, '').replace(/[\\u0111\\u0110]/g, 'd')\n"
    "      .toLowerCase().replace(/\\s+/g, ' ').trim();\n"
    "  }\n"
    "  function run() {\n"
    "    var k = fold(q.value), n = 0;\n"
    "    rows.forEach(function (r) {\n"
    "      var hit = !k || r.getAttribute('data-key').indexOf(k) >= 0;\n"
    "      r.hidden = !hit;\n"
    "      if (hit) n++;\n"
    "    });\n"
    "    groups.forEach(function (g) { g.hidden = !g.querySelector('tr[data-key]:not([hidden])'); });\n"
    "    count.textContent = k ? n + ' k\\u1ebft qu\\u1ea3' : '';\n"
    "    none.hidden = n > 0;\n"
    "  }\n"
    "  form.hidden = false;\n"
    "  q.addEventListener('input', run);\n"
    "  form.addEventListener('submit', function (e) { e.preventDefault(); run(); });\n"
    "  var asked = new URLSearchParams(location.search).get('q');\n"
    "  if (asked) q.value = asked;\n"
    "  run();\n"
    "})();\n"
    "</script>\n";

static int row_key(FILE *fp, const cb_pub_cert *c)
{
    size_t n = strlen(c->holder) + strlen(c->position) + strlen(c->agency) + strlen(c->unit) +
               strlen(c->email) + strlen(c->serial) + 8;
    char *all = malloc(n);
    if (all == NULL)
        return -1;
    snprintf(all, n, "%s %s %s %s %s %s", c->holder, c->position, c->agency, c->unit, c->email,
             c->serial);
    char *k = cb_text_fold(all);
    free(all);
    if (k == NULL)
        return -1;
    html(fp, k);
    free(k);
    return 0;
}

/* How a value is shown: as text, as a code (serial, fingerprint: the
 * monospace class "fp"), or as an instant. */
enum { SHOW_TEXT, SHOW_CODE, SHOW_INSTANT };

static void show(FILE *fp, const char *value, int how)
{
    if (how == SHOW_INSTANT)
        html_instant(fp, value);
    else
        html(fp, value);
}

typedef struct shown {
    const char *label, *value;
    int how;
    int optional;   /* left out when empty */
} shown;

static int index_row(FILE *fp, const cb_pub_cert *c)
{
    fputs("<tr data-key=\"", fp);
    if (row_key(fp, c) < 0)
        return -1;
    fputs("\"><td><a href=\"certs/", fp);
    html(fp, c->serial);
    fputs(".html\">", fp);
    html(fp, *c->holder ? c->holder : "(không tên)");
    fputs("</a></td><td>", fp);
    html(fp, c->position);
    fputs("</td><td>", fp);
    html(fp, c->agency);
    if (*c->unit) {
        fputs(" – ", fp);
        html(fp, c->unit);
    }
    const shown cells[] = {{NULL, c->serial, SHOW_CODE, 0}, {NULL, c->effective_at, SHOW_INSTANT, 0},
                           {NULL, c->not_after, SHOW_INSTANT, 0}, {NULL, c->sha256, SHOW_CODE, 0}};
    for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++) {
        fputs(cells[k].how == SHOW_CODE ? "</td><td class=\"fp\">" : "</td><td>", fp);
        show(fp, cells[k].value, cells[k].how);
    }
    fputs("</td></tr>\n", fp);
    return 0;
}

static const char table_head[] =
    "<table>\n<thead><tr><th>Họ và tên</th><th>Chức vụ</th><th>Cơ quan, đơn vị</th>"
    "<th>Số hiệu</th><th>Hiệu lực từ</th><th>Có giá trị đến</th><th>SHA-256</th></tr></thead>\n"
    "<tbody>\n";

static int write_index_html(FILE *fp, const cb_pub_cert *certs, size_t n)
{
    size_t groups = 0;
    for (size_t i = 0; i < n; i++)
        groups += i == 0 || strcmp(certs[i].agency, certs[i - 1].agency) != 0;
    page_head(fp, "Danh sách chứng thư số chuyên dùng Chính phủ đã công bố");
    fputs("<h1>Danh sách chứng thư số chuyên dùng Chính phủ đã công bố</h1>\n", fp);
    fprintf(fp, "<p>%zu chứng thư số của %zu cơ quan, tổ chức. Chứng thư số có hiệu lực "
                "từ thời điểm được công bố.</p>\n", n, groups);
    fputs("<form id=\"search\" role=\"search\" hidden><label for=\"q\">Tìm theo họ tên, cơ quan, "
          "số hiệu hoặc thư điện tử (gõ có dấu hoặc không dấu): </label>"
          "<input id=\"q\" name=\"q\" type=\"search\" autocomplete=\"off\"> "
          "<span id=\"count\" aria-live=\"polite\"></span></form>\n"
          "<noscript><p>JavaScript đang tắt: toàn bộ danh sách hiển thị bên dưới; "
          "dùng chức năng tìm trong trang của trình duyệt (Ctrl+F).</p></noscript>\n", fp);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(certs[i].agency, certs[i - 1].agency) != 0) {
            if (i > 0)
                fputs("</tbody>\n</table>\n</section>\n", fp);
            fputs("<section class=\"agency\">\n<h2>", fp);
            html(fp, *certs[i].agency ? certs[i].agency : "(không ghi cơ quan)");
            fputs("</h2>\n", fp);
            fputs(table_head, fp);
        }
        if (index_row(fp, &certs[i]) < 0)
            return -1;
    }
    if (n > 0)
        fputs("</tbody>\n</table>\n</section>\n", fp);
    fprintf(fp, "<p id=\"none\"%s>Không tìm thấy chứng thư số nào.</p>\n", n ? " hidden" : "");
    fputs(search_script, fp);
    fputs("</body>\n</html>\n", fp);
    return 0;
}

static void dl_item(FILE *fp, const shown *item)
{
    fputs("<dt>", fp);
    html(fp, item->label);
    fputs(item->how == SHOW_CODE ? "</dt><dd class=\"fp\">" : "</dt><dd>", fp);
    show(fp, item->value, item->how);
    fputs("</dd>\n", fp);
}

static void write_cert_html(FILE *fp, const cb_pub_cert *c)
{
    char title[256];
    snprintf(title, sizeof title, "Chứng thư số %.200s", c->serial);
    page_head(fp, title);
    fputs("<p><a href=\"../index.html\">← Danh sách chứng thư số đã công bố</a></p>\n<h1>", fp);
    html(fp, *c->holder ? c->holder : "(không tên)");
    fputs("</h1>\n<dl>\n", fp);
    const shown items[] = {
        {"Họ và tên / tên tổ chức", c->holder, SHOW_TEXT, 0},
        {"Chức vụ", c->position, SHOW_TEXT, 0},
        {"Cơ quan, tổ chức", c->agency, SHOW_TEXT, 0},
        {"Đơn vị", c->unit, SHOW_TEXT, 1},
        {"Thư điện tử", c->email, SHOW_TEXT, 0},
        {"Số hiệu (serial)", c->serial, SHOW_CODE, 0},
        {"Hiệu lực từ (thời điểm công bố)", c->effective_at, SHOW_INSTANT, 0},
        {"Có giá trị từ", c->not_before, SHOW_INSTANT, 0},
        {"Có giá trị đến", c->not_after, SHOW_INSTANT, 0},
        {"Tổ chức cấp", c->issuer, SHOW_TEXT, 0},
        {"Dấu vân tay SHA-256", c->sha256, SHOW_CODE, 0},
    };
    for (size_t k = 0; k < sizeof items / sizeof items[0]; k++)
        if (!items[k].optional || *items[k].value)
            dl_item(fp, &items[k]);
    fputs("</dl>\n<p>Tải về: <a href=\"", fp);
    html(fp, c->serial);
    fputs(".cer\" download>chứng thư số (DER, .cer)</a> · <a href=\"", fp);
    html(fp, c->serial);
    fputs(".pem\" download>chứng thư số (PEM)</a></p>\n</body>\n</html>\n", fp);
}

/* ---- machine-readable lists ---- */

static const char *const csv_cols[] = {"serial", "holder", "position", "agency", "unit",
                                       "email", "issuer", "not_before", "not_after",
                                       "effective_at", "sha256", "page", "der", "pem"};
enum { NCSV = sizeof csv_cols / sizeof csv_cols[0] };

static int write_index_csv(FILE *fp, const cb_pub_cert *certs, size_t n)
{
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    if (cb_csv_write_fields(&w, csv_cols, NCSV) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const cb_pub_cert *c = &certs[i];
        char page[256], der[256], pem[256];
        snprintf(page, sizeof page, "certs/%.200s.html", c->serial);
        snprintf(der, sizeof der, "certs/%.200s.cer", c->serial);
        snprintf(pem, sizeof pem, "certs/%.200s.pem", c->serial);
        const char *v[NCSV] = {c->serial,    c->holder,      c->position,   c->agency,
                               c->unit,      c->email,       c->issuer,     c->not_before,
                               c->not_after, c->effective_at, c->sha256,    page,
                               der,          pem};
        if (cb_csv_write_fields(&w, v, NCSV) < 0)
            return -1;
    }
    return 0;
}

static void write_index_json(FILE *fp, const cb_pub_cert *certs, size_t n)
{
    fprintf(fp, "{\"count\": %zu, \"certificates\": [", n);
    for (size_t i = 0; i < n; i++) {
        const cb_pub_cert *c = &certs[i];
        const char *v[] = {c->serial,    c->holder,      c->position,   c->agency,
                           c->unit,      c->email,       c->issuer,     c->not_before,
                           c->not_after, c->effective_at, c->sha256};
        fputs(i ? ",\n  {" : "\n  {", fp);
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            json_str(fp, csv_cols[k]);
            fputs(": ", fp);
            json_str(fp, v[k]);
            fputs(", ", fp);
        }
        fprintf(fp, "\"der\": \"certs/%s.cer\", \"pem\": \"certs/%s.pem\"}", c->serial, c->serial);
    }
    fputs(n ? "\n]}\n" : "]}\n", fp);
}

/* ---- the directory entries ---- */

/* RFC 4514: the characters of an attribute value that a DN must escape. */
static char *dn_value(const char *v)
{
    size_t n = strlen(v);
    char *o = malloc(2 * n + 1), *p = o;
    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (strchr("\"+,;<>\\=", c) || (i == 0 && (c == '#' || c == ' ')) ||
            (i == n - 1 && c == ' '))
            *p++ = '\\';
        *p++ = c;
    }
    *p = '\0';
    return o;
}

static char *family_name(const char *cn)
{
    const char *sp = strchr(cn, ' ');
    return sp && sp > cn ? strndup(cn, (size_t)(sp - cn)) : strdup(*cn ? cn : "-");
}

static int holder_init(cb_pub_holder *h, const cb_pub_cert *c, const char *base)
{
    memset(h, 0, sizeof *h);
    h->first = c;
    h->rdn_attr = strdup(*c->email ? "mail" : "cn");
    h->rdn_value = strdup(*c->email ? c->email : *c->holder ? c->holder : c->serial);
    h->sn = family_name(c->holder);
    h->certs = malloc(sizeof *h->certs);
    char *v = h->rdn_value ? dn_value(h->rdn_value) : NULL;
    if (!h->rdn_attr || !v || !h->sn || !h->certs) {
        free(v);
        return -1;
    }
    size_t n = strlen(h->rdn_attr) + strlen(v) + strlen(base) + 3;
    if ((h->dn = malloc(n)) != NULL)
        snprintf(h->dn, n, "%s=%s,%s", h->rdn_attr, v, base);
    free(v);
    h->certs[0] = c;
    h->ncerts = 1;
    return h->dn ? 0 : -1;
}

static int holder_add(cb_pub_holder *h, const cb_pub_cert *c)
{
    const cb_pub_cert **nc = realloc(h->certs, (h->ncerts + 1) * sizeof *nc);
    if (nc == NULL)
        return -1;
    h->certs = nc;
    h->certs[h->ncerts++] = c;
    /* the names shown are the latest certificate's */
    if (strcmp(c->not_before, h->first->not_before) > 0)
        h->first = c;
    return 0;
}

int cb_pub_holders(const cb_pub_cert *const *certs, size_t n, const char *base,
                   cb_pub_holder **out, size_t *nout, cb_err *err)
{
    cb_pub_holder *h = calloc(n ? n : 1, sizeof *h);
    cb_strmap seen = {0};
    size_t nh = 0;
    int rc = h ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const cb_pub_cert *c = certs[i];
        char key[600], ix[32];
        snprintf(key, sizeof key, "%s\n%.280s\n%.280s", c->email, *c->email ? "" : c->holder,
                 *c->email ? "" : c->agency);
        const char *found = cb_strmap_get(&seen, key);
        if (found) {
            rc = holder_add(&h[strtoul(found, NULL, 10)], c);
        } else {
            snprintf(ix, sizeof ix, "%zu", nh);
            rc = cb_strmap_put(&seen, key, ix);
            if (rc == 0)
                rc = holder_init(&h[nh++], c, base);
        }
    }
    cb_strmap_clear(&seen);
    if (rc < 0) {
        cb_pub_holders_free(h, h ? nh : 0);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    *out = h;
    *nout = nh;
    return 0;
}

void cb_pub_holders_free(cb_pub_holder *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++) {
        free(h[i].dn);
        free(h[i].rdn_attr);
        free(h[i].rdn_value);
        free(h[i].sn);
        free(h[i].certs);
    }
    free(h);
}

/* RFC 2849: a SAFE-STRING is written as is, anything else in base64;
 * lines are folded at 76 columns. */
static int ldif_safe(const unsigned char *v, size_t len)
{
    if (len == 0)
        return 1;
    if (v[0] == ' ' || v[0] == ':' || v[0] == '<' || v[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (v[i] == 0 || v[i] == '\n' || v[i] == '\r' || v[i] > 0x7E)
            return 0;
    return 1;
}

static int ldif_attr(FILE *fp, const char *name, const unsigned char *v, size_t len)
{
    char *text = NULL;
    size_t tlen = len;
    int b64 = !ldif_safe(v, len);
    if (b64) {
        tlen = 4 * ((len + 2) / 3);
        if ((text = malloc(tlen + 1)) == NULL)
            return -1;
        EVP_EncodeBlock((unsigned char *)text, v, (int)len);
    }
    const char *t = b64 ? text : (const char *)v;
    int col = fprintf(fp, "%s:%s ", name, b64 ? ":" : "");
    for (size_t i = 0; i < tlen; i++) {
        if (col == 76) {
            fputs("\n ", fp);
            col = 1;
        }
        fputc(t[i], fp);
        col++;
    }
    fputc('\n', fp);
    free(text);
    return 0;
}

static int ldif_str(FILE *fp, const char *name, const char *v)
{
    return *v ? ldif_attr(fp, name, (const unsigned char *)v, strlen(v)) : 0;
}

static int write_ldif(FILE *fp, const cb_pub_holder *h, size_t n)
{
    /* No "version: 1" line: slapadd takes it for an entry without a DN. */
    for (size_t i = 0; i < n; i++) {
        const cb_pub_cert *c = h[i].first;
        if (i > 0)
            fputc('\n', fp);
        if (ldif_str(fp, "dn", h[i].dn) < 0 || ldif_str(fp, "objectClass", "inetOrgPerson") < 0 ||
            ldif_str(fp, "cn", *c->holder ? c->holder : h[i].rdn_value) < 0 ||
            ldif_str(fp, "sn", h[i].sn) < 0 || ldif_str(fp, "mail", c->email) < 0 ||
            ldif_str(fp, "o", c->agency) < 0 || ldif_str(fp, "ou", c->unit) < 0 ||
            ldif_str(fp, "title", c->position) < 0)
            return -1;
        for (size_t k = 0; k < h[i].ncerts; k++)
            if (ldif_attr(fp, "userCertificate;binary", h[i].certs[k]->der, h[i].certs[k]->der_len) < 0)
                return -1;
    }
    return 0;
}

/* ---- the files ---- */

static int write_pem(FILE *fp, const cb_pub_cert *c)
{
    const unsigned char *p = c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
    int rc = x && PEM_write_X509(fp, x) == 1 ? 0 : -1;
    X509_free(x);
    return rc;
}

typedef struct site_file {
    const char *dir, *name;
    cb_atomic a;
    char path[4096];
} site_file;

static FILE *file_open(site_file *f, const char *dir, const char *name, cb_err *err)
{
    if ((size_t)snprintf(f->path, sizeof f->path, "%s/%s", dir, name) >= sizeof f->path) {
        cb_err_set(err, EX_CANTCREAT, "%s/%s: name too long", dir, name);
        return NULL;
    }
    return cb_atomic_open(&f->a, f->path, 0644, err) < 0 ? NULL : f->a.fp;
}

static int file_close(site_file *f, int bad, cb_err *err)
{
    if (bad) {
        cb_atomic_abort(&f->a);
        return cb_err_set(err, EX_OSERR, "cannot write %s: out of memory", f->path);
    }
    return cb_atomic_commit(&f->a, 1, err);
}

static int write_cert_files(const char *dir, const cb_pub_cert *c, cb_err *err)
{
    site_file f;
    char name[300];
    snprintf(name, sizeof name, "certs/%.200s.cer", c->serial);
    FILE *fp = file_open(&f, dir, name, err);
    if (fp == NULL)
        return -1;
    fwrite(c->der, 1, c->der_len, fp);
    if (file_close(&f, 0, err) < 0)
        return -1;
    snprintf(name, sizeof name, "certs/%.200s.pem", c->serial);
    if ((fp = file_open(&f, dir, name, err)) == NULL)
        return -1;
    if (file_close(&f, write_pem(fp, c) < 0, err) < 0)
        return -1;
    snprintf(name, sizeof name, "certs/%.200s.html", c->serial);
    if ((fp = file_open(&f, dir, name, err)) == NULL)
        return -1;
    write_cert_html(fp, c);
    return file_close(&f, 0, err);
}

static int write_lists(const char *dir, const cb_pub_cert *certs, size_t n, const char *base,
                       cb_err *err)
{
    site_file f;
    FILE *fp;
    if ((fp = file_open(&f, dir, "index.html", err)) == NULL ||
        file_close(&f, write_index_html(fp, certs, n) < 0, err) < 0)
        return -1;
    if ((fp = file_open(&f, dir, "index.csv", err)) == NULL ||
        file_close(&f, write_index_csv(fp, certs, n) < 0, err) < 0)
        return -1;
    if ((fp = file_open(&f, dir, "index.json", err)) == NULL)
        return -1;
    write_index_json(fp, certs, n);
    if (file_close(&f, 0, err) < 0)
        return -1;
    const cb_pub_cert **ptr = malloc((n ? n : 1) * sizeof *ptr);
    cb_pub_holder *h = NULL;
    size_t nh = 0;
    if (ptr == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < n; i++)
        ptr[i] = &certs[i];
    int rc = cb_pub_holders(ptr, n, base, &h, &nh, err);
    if (rc == 0 && (fp = file_open(&f, dir, "directory.ldif", err)) == NULL)
        rc = -1;
    if (rc == 0)
        rc = file_close(&f, write_ldif(fp, h, nh) < 0, err);
    cb_pub_holders_free(h, nh);
    free(ptr);
    return rc;
}

int cb_pubsite_write(const char *dir, cb_pub_cert *certs, size_t n, const char *ldap_base,
                     cb_err *err)
{
    char sub[4096];
    if ((size_t)snprintf(sub, sizeof sub, "%s/certs", dir) >= sizeof sub)
        return cb_err_set(err, EX_CANTCREAT, "%s: name too long", dir);
    if (mkdir(sub, 0755) != 0)
        return cb_err_sys(err, EX_CANTCREAT, "cannot create %s", sub);
    if (site_order(certs, n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (write_cert_files(dir, &certs[i], err) < 0)
            return -1;
    return write_lists(dir, certs, n, ldap_base, err);
}
