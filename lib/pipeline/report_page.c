/* The morning report's page: one HTML document with its stylesheet inline
 * and its chart as inline SVG, nothing fetched (a Content-Security-Policy
 * of default-src 'none' says so to the browser), in Vietnamese, numbers
 * as 1.234 and dates as DD/MM/YYYY. Every value from the files goes through
 * the HTML writer's escaping. The elements carrying a figure have an id or
 * a data- attribute, so a test can find each figure in the rendered page. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "html.h"
#include "labels.h"
#include "report_model.h"

static const char css[] =
    ":root{--ink:#1a1a1a;--muted:#555;--line:#c8c8c8;--warn:#8a4b00;--bad:#a11;--ok:#1f6b2e}"
    "*{box-sizing:border-box}"
    "body{font-family:'Segoe UI',Roboto,'Noto Sans','Liberation Sans',Arial,sans-serif;"
    "color:var(--ink);background:#fff;margin:0 auto;max-width:1200px;padding:16px 24px;"
    "line-height:1.4;font-size:15px}"
    "h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;"
    "border-bottom:2px solid var(--ink);padding-bottom:2px}h3{font-size:1.05em;margin:16px 0 6px}"
    ".sub{color:var(--muted);margin:0}"
    ".cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0;padding:0}"
    ".cards div{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:130px}"
    ".cards dt{font-size:.85em;color:var(--muted)}.cards dd{margin:0;font-size:1.6em;font-weight:600}"
    ".cards .warn dd{color:var(--warn)}.cards .bad dd{color:var(--bad)}"
    ".allclear{border-left:6px solid var(--ok);background:#eef7f0;padding:8px 12px}"
    ".none{color:var(--muted);font-style:italic}"
    "table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:.92em}"
    "caption{text-align:left;font-weight:600;padding:4px 0}"
    "th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}"
    "thead th{background:#f0f0f0}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "td.serial{font-family:'DejaVu Sans Mono',Consolas,monospace;font-size:.85em;word-break:break-all}"
    "tr.soon td{background:#fff4e5}tr.now td{background:#fde8e8}"
    "svg{width:100%;height:auto;max-width:1000px;display:block}"
    ".legend{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;padding:0;margin:4px 0}"
    ".legend span{display:inline-block;width:12px;height:12px;margin-right:4px;"
    "vertical-align:-1px;border:1px solid #0003}"
    "figure{margin:0}details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}"
    "footer{margin-top:28px;color:var(--muted);font-size:.85em}"
    "@page{size:A4 landscape;margin:12mm}"
    "@media print{body{max-width:none;padding:0;font-size:10.5pt}"
    "th,td{overflow-wrap:anywhere}h2{break-after:avoid}tr,.cards div,figure{break-inside:avoid}"
    "thead{display:table-header-group}details{display:none}"
    "tr.soon td,tr.now td,thead th,.allclear{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/* Okabe-Ito colours (told apart with colour blindness), grey for the rest. */
static const char *const palette[RP_TOP_AGENCIES + 1] = {
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#999999",
};

/* vasprintf is a GNU extension: the same with two vsnprintf calls. */
static int asprintf_like(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int asprintf_like(char **out, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    *out = n < 0 ? NULL : malloc((size_t)n + 1);
    if (*out != NULL)
        vsnprintf(*out, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return *out == NULL ? -1 : n;
}

static void num(cb_html *h, long n)
{
    char b[32];
    cb_report_format_count(n, b);
    cb_html_text(h, b);
}

static void td_num(cb_html *h, long n, const char *k)
{
    cb_html_open(h, "td", "class", "n", "data-k", k, NULL);
    num(h, n);
    cb_html_close(h);
}

static void date_vn(cb_html *h, cb_date d)
{
    char b[16];
    cb_date_format_vn(d, b);
    cb_html_text(h, b);
}

static const char *agency_label(const rp_agency *a)
{
    return a->name[0] ? a->name : a->key[0] ? a->key : "(không rõ cơ quan)";
}

static void head_row(cb_html *h, const char *const *cells, const char *numeric)
{
    cb_html_open(h, "thead", NULL);
    cb_html_open(h, "tr", NULL);
    for (int i = 0; cells[i] != NULL; i++)
        cb_html_elem(h, "th", cells[i], "scope", "col", "class", numeric[i] == 'n' ? "n" : NULL,
                     NULL);
    cb_html_close_to(h, "thead");
}

/* <section id=ID> with its <h2 id=h-ID>; with none, that sentence and
 * the section closed at once (0), else 1: the caller fills it. */
static int section(cb_html *h, const char *id, const char *title, const char *none)
{
    char hid[64];
    snprintf(hid, sizeof hid, "h-%s", id);
    cb_html_open(h, "section", "id", id, "aria-labelledby", hid, NULL);
    cb_html_elem(h, "h2", title, "id", hid, NULL);
    if (none == NULL)
        return 1;
    cb_html_elem(h, "p", none, "class", "none", NULL);
    cb_html_close_to(h, "section");
    return 0;
}

/* <table id=ID>, its header row and an open <tbody>. */
static void table(cb_html *h, const char *id, const char *const *cols, const char *numeric)
{
    cb_html_open(h, "table", "id", id, NULL);
    head_row(h, cols, numeric);
    cb_html_open(h, "tbody", NULL);
}

static void card(cb_html *h, const char *id, const char *label, long n, const char *cls)
{
    cb_html_open(h, "div", "class", cls, NULL);
    cb_html_elem(h, "dt", label, NULL);
    cb_html_open(h, "dd", "id", id, NULL);
    num(h, n);
    cb_html_close_to(h, "div");
}

static void counts(cb_html *h, const cb_report *r)
{
    section(h, "tong-quan", "Tổng quan chứng thư số", NULL);
    cb_html_open(h, "dl", "class", "cards", NULL);
    card(h, "n-total", "Tổng số chứng thư", r->total, NULL);
    card(h, "n-valid", "Còn hiệu lực", r->valid, NULL);
    card(h, "n-le60", "Hết hạn trong ≤ 60 ngày", r->le60, r->le60 ? "warn" : NULL);
    card(h, "n-le30", "Hết hạn trong ≤ 30 ngày", r->le30, r->le30 ? "warn" : NULL);
    card(h, "n-le7", "Hết hạn trong ≤ 7 ngày", r->le7, r->le7 ? "bad" : NULL);
    card(h, "n-expired", "Đã hết hạn", r->expired, r->expired ? "bad" : NULL);
    card(h, "n-revoked", "Đã thu hồi", r->revoked, NULL);
    card(h, "n-untrusted", "Không xác minh được", r->untrusted, r->untrusted ? "bad" : NULL);
    if (r->not_yet_valid > 0)
        card(h, "n-not-yet-valid", "Chưa đến ngày hiệu lực", r->not_yet_valid, NULL);
    cb_html_close(h);
    if (r->have_notices) {
        cb_html_open(h, "p", NULL);
        cb_html_text(h, "Thư thông báo đã gửi đêm qua: ");
        cb_html_open(h, "strong", "id", "n-notices-sent", NULL);
        num(h, r->notices_sent);
        cb_html_close(h);
        if (r->notices_failed > 0) {
            cb_html_text(h, "; gửi không được: ");
            cb_html_open(h, "strong", "id", "n-notices-failed", NULL);
            num(h, r->notices_failed);
            cb_html_close(h);
        }
        cb_html_text(h, ".");
        cb_html_close(h);
    }
    cb_html_close_to(h, "section");
}

/* <h3>title: <span id=ID>n</span></h3> */
static void h3_count(cb_html *h, const char *title, const char *id, long n)
{
    cb_html_open(h, "h3", NULL);
    cb_html_text(h, title);
    cb_html_open(h, "span", "id", id, NULL);
    num(h, n);
    cb_html_close_to(h, "h3");
}

static void due_table(cb_html *h, const cb_report *r)
{
    h3_count(h, "Sắp hết hạn trong 60 ngày, chưa có hồ sơ gia hạn: ", "n-due", (long)r->ndue);
    if (r->ndue == 0) {
        cb_html_elem(h, "p", "Không có chứng thư nào hết hạn trong 60 ngày tới mà chưa có hồ sơ gia hạn.",
                     "class", "none", "id", "due-none", NULL);
        return;
    }
    static const char *const cols[] = {"TT", "Người giữ chứng thư", "Cơ quan", "Đơn vị",
                                       "Ngày hết hạn", "Còn (ngày)", "Số hiệu", NULL};
    table(h, "due", cols, "n....n.");
    for (size_t i = 0; i < r->ndue; i++) {
        const rp_due *d = &r->due[i];
        cb_html_open(h, "tr", "data-serial", d->serial,
                     "class", d->days <= 7 ? "now" : d->days <= 30 ? "soon" : NULL, NULL);
        td_num(h, (long)i + 1, "seq");
        cb_html_elem(h, "th", d->name, "scope", "row", "data-k", "name", NULL);
        cb_html_elem(h, "td", agency_label(&r->ag[d->agency]), "data-k", "agency", NULL);
        cb_html_elem(h, "td", d->unit, "data-k", "unit", NULL);
        cb_html_open(h, "td", "data-k", "expiry", NULL);
        date_vn(h, d->expiry);
        cb_html_close(h);
        td_num(h, d->days, "days");
        cb_html_elem(h, "td", d->serial, "class", "serial", "data-k", "serial", NULL);
        cb_html_close(h);
    }
    cb_html_close_to(h, "table");
}

static void reject_table(cb_html *h, const cb_report *r)
{
    h3_count(h, "Hồ sơ bị từ chối đêm qua: ", "n-rejected", (long)r->nrej);
    if (!r->have_rejects || r->nrej == 0) {
        cb_html_elem(h, "p",
                     r->have_rejects ? "Đêm qua không có hồ sơ nào bị từ chối."
                                     : "Không có tệp hồ sơ bị từ chối của đêm qua.",
                     "class", "none", "id", "rejected-none", NULL);
        return;
    }
    static const char *const cols[] = {"Mã hồ sơ", "Người / tổ chức đề nghị", "Cơ quan",
                                       "Dòng", "Lý do", NULL};
    table(h, "rejected", cols, "...n.");
    for (size_t i = 0; i < r->nrej; i++) {
        const rp_reject *j = &r->rej[i];
        cb_html_open(h, "tr", "data-request", j->id, NULL);
        cb_html_elem(h, "th", j->id, "scope", "row", "data-k", "id", NULL);
        cb_html_elem(h, "td", j->name, "data-k", "name", NULL);
        cb_html_elem(h, "td", agency_label(&r->ag[j->agency]), "data-k", "agency", NULL);
        cb_html_elem(h, "td", j->line, "class", "n", "data-k", "line", NULL);
        cb_html_elem(h, "td", j->reason, "data-k", "reason", NULL);
        cb_html_close(h);
    }
    cb_html_close_to(h, "table");
}

static void todo(cb_html *h, const cb_report *r)
{
    section(h, "can-xu-ly", "Cần xử lý", NULL);
    if (r->ndue == 0 && r->nrej == 0)
        cb_html_elem(h, "p", "Hôm nay không có việc cần xử lý: không có chứng thư nào đến hạn gia hạn "
                     "mà chưa có hồ sơ, không có hồ sơ nào bị từ chối.",
                     "class", "allclear", "id", "all-clear", NULL);
    if (!r->have_valid && !r->have_ledger && r->ndue > 0)
        cb_html_elem(h, "p", "Lưu ý: không có tệp hồ sơ hợp lệ hay sổ theo dõi hồ sơ; mọi chứng thư "
                     "sắp hết hạn đều được coi là chưa có hồ sơ gia hạn.", "class", "none", NULL);
    due_table(h, r);
    reject_table(h, r);
    cb_html_close_to(h, "section");
}

/* ---- the forecast ---- */

#define CH_X0 56.0      /* left of the plot, after the axis labels */
#define CH_Y0 20.0
#define CH_W 900.0
#define CH_H 240.0
#define CH_BAR (CH_W / RP_WEEKS)

static long nice_max(long m)
{
    long steps[] = {1, 2, 5};
    for (long p = 1;; p *= 10)
        for (int i = 0; i < 3; i++)
            if (steps[i] * p * 4 >= m)
                return steps[i] * p * 4;
}

static long series_week(const cb_report *r, size_t s, int w)
{
    return s < r->ntop ? r->ag[r->top[s]].weeks[w] : r->rest_weeks[w];
}

static void attr_num(char *b, size_t n, double v)
{
    snprintf(b, n, "%.1f", v);
}

static void bar(cb_html *h, const cb_report *r, int w, long ymax)
{
    char x[16], y[16], wd[16], ht[16];
    double acc = 0;
    size_t nseries = r->ntop + (r->have_rest ? 1 : 0);
    cb_html_open(h, "g", NULL);
    cb_html_open(h, "title", NULL);
    cb_html_textf(h, "Tuần %d (", w + 1);
    date_vn(h, r->today + 7 * w);
    cb_html_text(h, " – ");
    date_vn(h, r->today + 7 * w + 6);
    cb_html_text(h, "): ");
    num(h, r->week_total[w]);
    cb_html_text(h, " chứng thư");
    cb_html_close(h);
    for (size_t s = 0; s < nseries; s++) {
        long n = series_week(r, s, w);
        if (n == 0)
            continue;
        double hgt = CH_H * (double)n / (double)ymax;
        attr_num(x, sizeof x, CH_X0 + w * CH_BAR + 3);
        attr_num(y, sizeof y, CH_Y0 + CH_H - acc - hgt);
        attr_num(wd, sizeof wd, CH_BAR - 6);
        attr_num(ht, sizeof ht, hgt);
        cb_html_open(h, "rect", "x", x, "y", y, "width", wd, "height", ht, "fill", palette[s < r->ntop ? s : RP_TOP_AGENCIES], NULL);
        cb_html_close(h);
        acc += hgt;
    }
    cb_html_close(h);
}

static void svg_text(cb_html *h, double x, double y, const char *anchor, const char *text)
{
    char xs[16], ys[16];
    attr_num(xs, sizeof xs, x);
    attr_num(ys, sizeof ys, y);
    cb_html_elem(h, "text", text, "x", xs, "y", ys, "text-anchor", anchor, "font-size", "12",
                 "fill", "#333", NULL);
}

static void axes(cb_html *h, const cb_report *r, long ymax)
{
    char b[32], y[16], x[16];
    for (int i = 0; i <= 4; i++) {
        double yy = CH_Y0 + CH_H - CH_H * i / 4.0;
        attr_num(y, sizeof y, yy);
        snprintf(x, sizeof x, "%.1f", CH_X0 + CH_W);
        cb_html_open(h, "line", "x1", "56", "x2", x, "y1", y, "y2", y, "stroke", i ? "#ddd" : "#333", NULL);
        cb_html_close(h);
        cb_report_format_count(ymax * i / 4, b);
        svg_text(h, CH_X0 - 6, yy + 4, "end", b);
    }
    for (int w = 0; w < RP_WEEKS; w += 4) {
        cb_date_format_vn(r->today + 7 * w, b);
        b[5] = '\0';    /* DD/MM */
        svg_text(h, CH_X0 + w * CH_BAR + CH_BAR / 2, CH_Y0 + CH_H + 16, "middle", b);
    }
    double x60 = CH_X0 + CH_BAR * (RP_DUE_DAYS + 1) / 7.0;   /* after day 60 */
    attr_num(x, sizeof x, x60);
    snprintf(y, sizeof y, "%.1f", CH_Y0 + CH_H);
    cb_html_open(h, "line", "x1", x, "x2", x, "y1", "12", "y2", y, "stroke", "#a11",
                 "stroke-width", "2", "stroke-dasharray", "6 4", NULL);
    cb_html_close(h);
    svg_text(h, x60 + 4, 14, "start", "mốc 60 ngày (hạn gửi hồ sơ gia hạn)");
}

static void legend(cb_html *h, const cb_report *r)
{
    size_t nseries = r->ntop + (r->have_rest ? 1 : 0);
    cb_html_open(h, "ul", "class", "legend", NULL);
    for (size_t s = 0; s < nseries; s++) {
        char style[40];
        snprintf(style, sizeof style, "background:%s", palette[s < r->ntop ? s : RP_TOP_AGENCIES]);
        cb_html_open(h, "li", NULL);
        cb_html_open(h, "span", "style", style, "aria-hidden", "true", NULL);
        cb_html_close(h);
        cb_html_text(h, s < r->ntop ? agency_label(&r->ag[r->top[s]]) : "Các cơ quan khác");
        cb_html_close(h);
    }
    cb_html_close(h);
}

static void forecast_data(cb_html *h, const cb_report *r)
{
    size_t nseries = r->ntop + (r->have_rest ? 1 : 0);
    cb_html_open(h, "details", NULL);
    cb_html_elem(h, "summary", "Bảng số liệu của biểu đồ", NULL);
    cb_html_open(h, "table", "id", "forecast-data", NULL);
    cb_html_open(h, "thead", NULL);
    cb_html_open(h, "tr", NULL);
    cb_html_elem(h, "th", "Tuần", "scope", "col", NULL);
    for (size_t s = 0; s < nseries; s++)
        cb_html_elem(h, "th", s < r->ntop ? agency_label(&r->ag[r->top[s]]) : "Các cơ quan khác",
                     "scope", "col", "class", "n", "data-agency", s < r->ntop ? r->ag[r->top[s]].key : "", NULL);
    cb_html_elem(h, "th", "Cộng", "scope", "col", "class", "n", NULL);
    cb_html_close_to(h, "thead");
    cb_html_open(h, "tbody", NULL);
    for (int w = 0; w < RP_WEEKS; w++) {
        char wk[8];
        snprintf(wk, sizeof wk, "%d", w);
        cb_html_open(h, "tr", "data-week", wk, NULL);
        cb_html_open(h, "th", "scope", "row", NULL);
        date_vn(h, r->today + 7 * w);
        cb_html_text(h, " – ");
        date_vn(h, r->today + 7 * w + 6);
        cb_html_close(h);
        for (size_t s = 0; s < nseries; s++)
            td_num(h, series_week(r, s, w), "series");
        td_num(h, r->week_total[w], "total");
        cb_html_close(h);
    }
    cb_html_close_to(h, "details");
}

static void forecast(cb_html *h, const cb_report *r)
{
    long m = 0;
    for (int w = 0; w < RP_WEEKS; w++)
        m = r->week_total[w] > m ? r->week_total[w] : m;
    long ymax = nice_max(m);
    section(h, "du-bao", "Dự báo hết hạn 26 tuần tới (theo tuần, theo cơ quan)", NULL);
    cb_html_open(h, "figure", NULL);
    cb_html_open(h, "svg", "xmlns", "http://www.w3.org/2000/svg", "viewBox", "0 0 980 290",
                 "role", "img", "aria-labelledby", "svg-title", NULL);
    cb_html_open(h, "title", "id", "svg-title", NULL);
    cb_html_text(h, "Số chứng thư hết hạn mỗi tuần trong 26 tuần kể từ ");
    date_vn(h, r->today);
    cb_html_close(h);
    axes(h, r, ymax);
    for (int w = 0; w < RP_WEEKS; w++)
        bar(h, r, w, ymax);
    cb_html_close_to(h, "svg");
    legend(h, r);
    cb_html_close_to(h, "figure");
    forecast_data(h, r);
    cb_html_close_to(h, "section");
}

/* ---- per agency, reasons ---- */

static void agencies(cb_html *h, const cb_report *r)
{
    if (!section(h, "theo-co-quan", "Theo cơ quan", r->nag == 0 ? "Không có dữ liệu." : NULL))
        return;
    static const char *const cols[] = {"Cơ quan", "Chứng thư còn hiệu lực", "Hết hạn ≤ 60 ngày",
                                       "Hồ sơ nhận đêm qua", "Bị từ chối", "Đã đề nghị",
                                       "Đã gia hạn", "Đã trả", NULL};
    table(h, "agencies", cols, ".nnnnnnn");
    for (size_t i = 0; i < r->nag; i++) {
        const rp_agency *a = &r->ag[r->order[i]];
        cb_html_open(h, "tr", "data-agency", a->key, NULL);
        cb_html_elem(h, "th", agency_label(a), "scope", "row", NULL);
        td_num(h, a->holders, "holders");
        td_num(h, a->due60, "due60");
        td_num(h, a->received, "received");
        td_num(h, a->rejected, "rejected");
        td_num(h, a->proposed, "proposed");
        if (r->have_ledger) {
            td_num(h, a->renewed, "renewed");
            td_num(h, a->delivered, "delivered");
        } else {
            cb_html_elem(h, "td", "—", "class", "n", "data-k", "renewed", "title", "không có sổ theo dõi hồ sơ", NULL);
            cb_html_elem(h, "td", "—", "class", "n", "data-k", "delivered", "title", "không có sổ theo dõi hồ sơ", NULL);
        }
        cb_html_close(h);
    }
    cb_html_close_to(h, "table");
    if (!r->have_ledger)
        cb_html_elem(h, "p", "Chưa có sổ theo dõi hồ sơ (requests.csv): cột “Đã gia hạn” và “Đã trả” để trống.",
                     "class", "none", "id", "no-ledger", NULL);
    cb_html_close_to(h, "section");
}

static void reasons(cb_html *h, const cb_report *r)
{
    if (!section(h, "ly-do", "Lý do từ chối (theo mục sai)",
                 r->nreason == 0 ? "Không có hồ sơ bị từ chối." : NULL))
        return;
    static const char *const cols[] = {"Mục sai", "Số hồ sơ", "Ví dụ lý do", NULL};
    table(h, "reasons", cols, ".n.");
    for (size_t i = 0; i < r->nreason; i++) {
        const rp_reason *g = &r->reason[i];
        const char *words = g->field[0] ? cb_label_vi(g->field) : "Cả hồ sơ";
        cb_html_open(h, "tr", "data-field", g->field, NULL);
        cb_html_elem(h, "th", words, "scope", "row", NULL);
        td_num(h, g->count, "count");
        cb_html_elem(h, "td", g->example, NULL);
        cb_html_close(h);
    }
    cb_html_close_to(h, "section");
}

static void head(cb_html *h, const cb_report *r)
{
    char day[16];
    cb_date_format_vn(r->today, day);
    cb_html_doctype(h);
    cb_html_open(h, "html", "lang", "vi", NULL);
    cb_html_open(h, "head", NULL);
    cb_html_void(h, "meta", "charset", "utf-8", NULL);
    cb_html_void(h, "meta", "http-equiv", "Content-Security-Policy",
                 "content", "default-src 'none'; style-src 'unsafe-inline'", NULL);
    cb_html_void(h, "meta", "name", "viewport", "content", "width=device-width, initial-scale=1", NULL);
    cb_html_open(h, "title", NULL);
    cb_html_textf(h, "Báo cáo chứng thư số ngày %s", day);
    cb_html_close(h);
    cb_html_raw_style(h, css);
    cb_html_close(h);
}

int cb_report_write_html(const cb_report *r, FILE *fp, cb_err *err)
{
    cb_html h;
    cb_html_init(&h, fp);
    head(&h, r);
    cb_html_open(&h, "body", NULL);
    cb_html_open(&h, "header", NULL);
    cb_html_open(&h, "h1", NULL);
    cb_html_text(&h, "Báo cáo chứng thư số ngày ");
    cb_html_open(&h, "time", "id", "as-of", NULL);
    date_vn(&h, r->today);
    cb_html_close_to(&h, "h1");
    if (r->run_dir != NULL) {
        cb_html_open(&h, "p", "class", "sub", NULL);
        cb_html_text(&h, "Dữ liệu của đêm: ");
        cb_html_elem(&h, "code", r->run_dir, NULL);
        cb_html_close(&h);
    }
    cb_html_close(&h);
    cb_html_open(&h, "main", NULL);
    counts(&h, r);
    todo(&h, r);
    forecast(&h, r);
    agencies(&h, r);
    reasons(&h, r);
    cb_html_close(&h);
    cb_html_open(&h, "footer", NULL);
    cb_html_text(&h, "Trang do chương trình report (certbatch " CB_VERSION ") tạo từ các tệp CSV của đêm; "
                     "số ngày còn lại tính đến ngày báo cáo, giờ Việt Nam (UTC+07:00).");
    if (r->nprob > 0) {
        cb_html_text(&h, " Số dòng không đọc được: ");
        cb_html_open(&h, "strong", "id", "n-problems", NULL);
        num(&h, (long)r->nprob);
        cb_html_close(&h);
        cb_html_text(&h, " (xem thông báo của chương trình).");
    }
    return cb_html_finish(&h, err);
}

/* The few lines an e-mail body carries: the counts and the to-do list's size. */
static char *summary_text(const cb_report *r)
{
    char day[16], v[32], a[32], b[32], c[32], d[32], e[32], f[32], g[32];
    cb_date_format_vn(r->today, day);
    cb_report_format_count(r->valid, v);
    cb_report_format_count(r->le60, a);
    cb_report_format_count(r->le30, b);
    cb_report_format_count(r->le7, c);
    cb_report_format_count(r->expired, d);
    cb_report_format_count(r->revoked, e);
    cb_report_format_count((long)r->ndue, f);
    cb_report_format_count((long)r->nrej, g);
    char *s = NULL;
    int n = asprintf_like(&s,
                          "Báo cáo chứng thư số ngày %s.\n"
                          "Còn hiệu lực: %s; hết hạn trong 60 ngày: %s (30 ngày: %s, 7 ngày: %s); "
                          "đã hết hạn: %s; đã thu hồi: %s.\n"
                          "Cần xử lý: %s người sắp hết hạn chưa có hồ sơ gia hạn; "
                          "%s hồ sơ bị từ chối đêm qua.%s",
                          day, v, a, b, c, d, e, f, g,
                          r->ndue == 0 && r->nrej == 0 ? "\nHôm nay không có việc cần xử lý." : "");
    return n < 0 ? NULL : s;
}

int cb_report_write_mail_records(const cb_report *r, FILE *fp, const char *const *to, size_t nto,
                                 const char *page, cb_err *err)
{
    static const char *const cols[] = {
        "email", "report_date", "report_file", "summary", "certificates", "valid", "expiring_60",
        "expiring_30", "expiring_7", "expired", "revoked", "untrusted", "to_chase", "rejected",
    };
    enum { NCOLS = sizeof cols / sizeof cols[0] };
    char *summary = summary_text(r);
    if (summary == NULL)
        return cb_err_sys(err, EX_OSERR, "out of memory");
    char day[16], num[9][24];
    cb_date_format(r->today, day);
    long v[9] = {r->total, r->valid, r->le60, r->le30, r->le7, r->expired, r->revoked,
                 r->untrusted, (long)r->ndue};
    for (int i = 0; i < 9; i++)
        snprintf(num[i], sizeof num[i], "%ld", v[i]);
    char rej[24];
    snprintf(rej, sizeof rej, "%zu", r->nrej);
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    int bad = cb_csv_write_fields(&w, cols, NCOLS) < 0;
    for (size_t i = 0; i < nto && !bad; i++) {
        const char *row[NCOLS] = {to[i], day, page ? page : "", summary, num[0], num[1], num[2],
                                  num[3], num[4], num[5], num[6], num[7], num[8], rej};
        bad = cb_csv_write_fields(&w, row, NCOLS) < 0;
    }
    free(summary);
    if (bad || fflush(fp) != 0 || ferror(fp))
        return cb_err_sys(err, EX_IOERR, "cannot write the mail records");
    return 0;
}
