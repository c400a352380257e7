/* Excel workbooks, read with libzip and libxml2's xmlTextReader: see xlsx.h.
 *
 * A workbook is a zip of XML parts (ECMA-376 Part 1): xl/workbook.xml names
 * the sheets and points at each through xl/_rels/workbook.xml.rels;
 * xl/sharedStrings.xml holds the strings cells refer to by index;
 * xl/styles.xml's cellXfs give each cell style a number format, which is
 * the only thing that tells a date from a number; a sheet's cells are
 * <c r="B7" t="s" s="3"><v>12</v></c> in <row> elements, and its merged
 * ranges come after the rows (<mergeCell ref="A1:F1"/>), which is why a
 * sheet is read twice: once for the merged ranges, once for the rows. */
#define _GNU_SOURCE   /* memmem */
#include "xlsx.h"

#include <libxml/xmlreader.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <xlsxwriter.h>
#include <zip.h>

#include "atomic.h"
#include "date.h"

/* A message in the reader's language (--lang vi): both texts take the
 * same arguments. */
#define TR(x, en, vi) ((x)->lang == CB_LANG_VI ? (vi) : (en))

#define NS_REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define XLSX_MAX_COLS 16384   /* Excel's limit: XFD */

typedef struct merge {
    long r1, r2;
    size_t c1, c2;
    char *value;      /* the top-left cell's, once its row is read */
} merge;

struct cb_xlsx {
    char *name;
    cb_lang lang;        /* of its messages */
    char *sheet;         /* its name */
    char *sheet_path;    /* its part in the archive */
    void *data;
    zip_t *zip;
    char **sst;          /* shared strings */
    size_t nsst, capsst;
    unsigned char *date_style;   /* cellXfs index -> is a date format */
    size_t nstyles;
    int date1904;
    merge *merges;
    size_t nmerges, capmerges;
    zip_file_t *zf;      /* the sheet, being read */
    xmlTextReaderPtr rd;
    long last_row;
    cb_xlsx_row row;
    cb_xlsx_row *ahead;  /* rows read by cb_xlsx_find_header, given out first */
    size_t nahead, ahead_next;
};

/* ---- small helpers ---- */

int cb_xlsx_is_zip(const void *head, size_t n)
{
    return n >= 4 && memcmp(head, "PK\003\004", 4) == 0;
}

static int cell_set(cb_xlsx_cell *c, const char *s, size_t n)
{
    if (n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 32;
        while (cap < n + 1)
            cap *= 2;
        char *p = realloc(c->s, cap);
        if (p == NULL)
            return -1;
        c->s = p;
        c->cap = cap;
    }
    memcpy(c->s, s, n);
    c->s[n] = '\0';
    c->len = n;
    return 0;
}

static int cell_append(cb_xlsx_cell *c, const char *s, size_t n)
{
    size_t old = c->s ? c->len : 0;
    if (old + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 32;
        while (cap < old + n + 1)
            cap *= 2;
        char *p = realloc(c->s, cap);
        if (p == NULL)
            return -1;
        c->s = p;
        c->cap = cap;
    }
    memcpy(c->s + old, s, n);
    c->len = old + n;
    c->s[c->len] = '\0';
    return 0;
}

/* The row's cell col, the row grown with empty cells up to it. */
static cb_xlsx_cell *row_cell(cb_xlsx_row *row, size_t col)
{
    if (col >= row->cap) {
        size_t cap = row->cap ? row->cap : 16;
        while (cap <= col)
            cap *= 2;
        cb_xlsx_cell *p = realloc(row->c, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        memset(p + row->cap, 0, (cap - row->cap) * sizeof *p);
        row->c = p;
        row->cap = cap;
    }
    for (size_t i = row->n; i <= col; i++) {
        if (cell_set(&row->c[i], "", 0) < 0)
            return NULL;
        row->c[i].number = 0;
    }
    if (col >= row->n)
        row->n = col + 1;
    return &row->c[col];
}

static void row_free(cb_xlsx_row *row)
{
    for (size_t i = 0; i < row->cap; i++)
        free(row->c[i].s);
    free(row->c);
    memset(row, 0, sizeof *row);
}

static int row_copy(cb_xlsx_row *dst, const cb_xlsx_row *src)
{
    dst->n = 0;
    dst->r = src->r;
    for (size_t i = 0; i < src->n; i++) {
        cb_xlsx_cell *c = row_cell(dst, i);
        if (c == NULL || cell_set(c, src->c[i].s, src->c[i].len) < 0)
            return -1;
        c->number = src->c[i].number;
    }
    return 0;
}

void cb_xlsx_cell_name(size_t col, long r, char *buf)
{
    char letters[8];
    int n = 0;
    for (size_t c = col + 1; c > 0 && n < 7; c = (c - 1) / 26)
        letters[n++] = (char)('A' + (c - 1) % 26);
    int k = 0;
    while (n > 0)
        buf[k++] = letters[--n];
    snprintf(buf + k, 16 - (size_t)k, "%ld", r);
}

/* "B7" -> column 1, row 7. -1 when it is not a cell reference. */
static int parse_ref(const char *s, size_t *col, long *r)
{
    size_t c = 0;
    int letters = 0;
    for (; *s >= 'A' && *s <= 'Z'; s++, letters++)
        c = c * 26 + (size_t)(*s - 'A' + 1);
    if (letters == 0 || letters > 3 || c > XLSX_MAX_COLS)
        return -1;
    char *end;
    long row = strtol(s, &end, 10);
    if (end == s || *end != '\0' || row < 1)
        return -1;
    *col = c - 1;
    *r = row;
    return 0;
}

/* A part of the archive, whole, NUL-terminated; NULL when absent (*len 0)
 * or unreadable. */
static char *read_part(cb_xlsx *x, const char *path, size_t *len)
{
    zip_stat_t st;
    *len = 0;
    if (zip_stat(x->zip, path, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) || st.size > (1u << 30))
        return NULL;
    zip_file_t *f = zip_fopen(x->zip, path, 0);
    char *buf = f ? malloc(st.size + 1) : NULL;
    zip_int64_t got = buf ? zip_fread(f, buf, st.size) : -1;
    if (f)
        zip_fclose(f);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        free(buf);
        return NULL;
    }
    buf[st.size] = '\0';
    *len = st.size;
    return buf;
}

static xmlTextReaderPtr reader_for_part(cb_xlsx *x, const char *path, char **buf)
{
    size_t len;
    *buf = read_part(x, path, &len);
    if (*buf == NULL)
        return NULL;
    return xmlReaderForMemory(*buf, (int)len, path, NULL, XML_PARSE_NONET);
}

static int is_start(xmlTextReaderPtr rd, const char *local)
{
    return xmlTextReaderNodeType(rd) == XML_READER_TYPE_ELEMENT &&
           strcmp((const char *)xmlTextReaderConstLocalName(rd), local) == 0;
}

static int is_end(xmlTextReaderPtr rd, const char *local)
{
    return xmlTextReaderNodeType(rd) == XML_READER_TYPE_END_ELEMENT &&
           strcmp((const char *)xmlTextReaderConstLocalName(rd), local) == 0;
}

static int is_text(xmlTextReaderPtr rd)
{
    int t = xmlTextReaderNodeType(rd);
    return t == XML_READER_TYPE_TEXT || t == XML_READER_TYPE_CDATA || t == XML_READER_TYPE_WHITESPACE ||
           t == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}

static char *attr(xmlTextReaderPtr rd, const char *name)
{
    return (char *)xmlTextReaderGetAttribute(rd, (const xmlChar *)name);
}

/* ---- the parts around the sheet ---- */

/* The target of relationship id in xl/_rels/workbook.xml.rels, as a path
 * in the archive. */
static char *sheet_target(cb_xlsx *x, const char *id)
{
    char *buf, *target = NULL;
    xmlTextReaderPtr rd = reader_for_part(x, "xl/_rels/workbook.xml.rels", &buf);
    while (rd && target == NULL && xmlTextReaderRead(rd) == 1) {
        if (!is_start(rd, "Relationship"))
            continue;
        char *rid = attr(rd, "Id"), *t = attr(rd, "Target");
        if (rid && t && strcmp(rid, id) == 0) {
            size_t n = strlen(t) + 8;
            target = malloc(n);
            if (target)
                snprintf(target, n, "%s%s", t[0] == '/' ? "" : "xl/", t[0] == '/' ? t + 1 : t);
        }
        xmlFree(rid);
        xmlFree(t);
    }
    if (rd)
        xmlFreeTextReader(rd);
    free(buf);
    return target;
}

/* Finds the sheet (the first, or the one named) in xl/workbook.xml, and
 * whether dates count from 1904. */
static int find_sheet(cb_xlsx *x, const char *want, cb_err *err)
{
    char *buf, *id = NULL;
    xmlTextReaderPtr rd = reader_for_part(x, "xl/workbook.xml", &buf);
    if (rd == NULL) {
        free(buf);
        return cb_err_set(err, EX_DATAERR,
                          TR(x, "%s: a zip file but not an Excel workbook (no xl/workbook.xml)",
                             "%s: tệp nén zip nhưng không phải tệp Excel (không có xl/workbook.xml)"),
                          x->name);
    }
    size_t nsheets = 0;
    char names[512] = "";
    while (id == NULL && xmlTextReaderRead(rd) == 1) {
        if (is_start(rd, "workbookPr")) {
            char *d = attr(rd, "date1904");
            x->date1904 = d && (strcmp(d, "1") == 0 || strcmp(d, "true") == 0);
            xmlFree(d);
        } else if (is_start(rd, "sheet")) {
            char *name = attr(rd, "name");
            char *rid = (char *)xmlTextReaderGetAttributeNs(rd, (const xmlChar *)"id", (const xmlChar *)NS_REL);
            if (rid == NULL)
                rid = attr(rd, "r:id");
            size_t used = strlen(names);
            snprintf(names + used, sizeof names - used, "%s'%s'", nsheets++ ? ", " : "", name ? name : "");
            if (name && rid && (want == NULL || strcmp(name, want) == 0)) {
                id = rid;
                x->sheet = strdup(name);
            } else {
                xmlFree(rid);
            }
            xmlFree(name);
        }
    }
    xmlFreeTextReader(rd);
    free(buf);
    if (id == NULL)
        return want ? cb_err_set(err, EX_DATAERR,
                                 TR(x, "%s: no sheet named '%s' (the sheets: %s)",
                                    "%s: không có trang tính (sheet) nào tên '%s' (các trang tính: %s)"),
                                 x->name, want, names)
                    : cb_err_set(err, EX_DATAERR,
                                 TR(x, "%s: the workbook has no sheet", "%s: tệp Excel không có trang tính nào"),
                                 x->name);
    x->sheet_path = sheet_target(x, id);
    xmlFree(id);
    if (x->sheet == NULL || x->sheet_path == NULL)
        return cb_err_set(err, EX_DATAERR,
                          TR(x, "%s: sheet '%s' is not in the workbook's archive",
                             "%s: trang tính '%s' không có trong tệp nén của tệp Excel"),
                          x->name, x->sheet ? x->sheet : "?");
    return 0;
}

/* xl/sharedStrings.xml: each <si> is one string, the text of its <t>
 * elements (several in rich text), phonetic runs (<rPh>) left out. */
static int load_shared_strings(cb_xlsx *x, cb_err *err)
{
    char *buf;
    xmlTextReaderPtr rd = reader_for_part(x, "xl/sharedStrings.xml", &buf);
    cb_xlsx_cell cur = {0};
    int in_si = 0, in_t = 0, in_rph = 0, rc = 0;
    while (rd && rc == 0 && xmlTextReaderRead(rd) == 1) {
        int empty = xmlTextReaderIsEmptyElement(rd);
        if (is_start(rd, "si")) {
            in_si = 1;
            rc = cell_set(&cur, "", 0);
        } else if (is_start(rd, "rPh")) {
            in_rph = !empty;
        } else if (is_end(rd, "rPh")) {
            in_rph = 0;
        } else if (is_start(rd, "t")) {
            in_t = !empty;
        } else if (is_end(rd, "t")) {
            in_t = 0;
        } else if (in_si && in_t && !in_rph && is_text(rd)) {
            const char *v = (const char *)xmlTextReaderConstValue(rd);
            rc = cell_append(&cur, v, strlen(v));
        }
        if (in_si && (is_end(rd, "si") || (empty && is_start(rd, "si")))) {
            in_si = 0;
            if (x->nsst == x->capsst) {
                size_t cap = x->capsst ? x->capsst * 2 : 256;
                char **p = realloc(x->sst, cap * sizeof *p);
                if (p == NULL) {
                    rc = -1;
                    break;
                }
                x->sst = p;
                x->capsst = cap;
            }
            if ((x->sst[x->nsst] = strdup(cur.s ? cur.s : "")) == NULL)
                rc = -1;
            else
                x->nsst++;
        }
    }
    if (rd)
        xmlFreeTextReader(rd);
    free(buf);
    free(cur.s);
    return rc < 0 ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

/* A custom number format shows a date when, outside quoted text, escaped
 * characters and [brackets], it has a day or year code. */
static int format_is_date(const char *f)
{
    for (; *f; f++) {
        if (*f == '"') {
            while (f[1] && f[1] != '"')
                f++;
            if (f[1])
                f++;
        } else if (*f == '\\' && f[1]) {
            f++;
        } else if (*f == '[') {
            while (f[1] && f[1] != ']')
                f++;
        } else if (*f == 'd' || *f == 'D' || *f == 'y' || *f == 'Y') {
            return 1;
        }
    }
    return 0;
}

/* Built-in formats that are dates (ECMA-376 18.8.30, and the East Asian
 * ones). */
static int builtin_is_date(long id)
{
    return (id >= 14 && id <= 17) || id == 22 || (id >= 27 && id <= 36) || (id >= 50 && id <= 58);
}

/* xl/styles.xml: which cell styles (cellXfs) show dates. */
static int load_styles(cb_xlsx *x, cb_err *err)
{
    char *buf;
    xmlTextReaderPtr rd = reader_for_part(x, "xl/styles.xml", &buf);
    long *custom_ids = NULL;
    unsigned char *custom_date = NULL;
    size_t ncustom = 0, cap = 0;
    int in_xfs = 0, rc = 0;
    while (rd && rc == 0 && xmlTextReaderRead(rd) == 1) {
        if (is_start(rd, "numFmt")) {
            char *id = attr(rd, "numFmtId"), *code = attr(rd, "formatCode");
            if (ncustom == cap) {
                cap = cap ? cap * 2 : 16;
                long *a = realloc(custom_ids, cap * sizeof *a);
                unsigned char *b = a ? realloc(custom_date, cap) : NULL;
                custom_ids = a ? a : custom_ids;
                custom_date = b ? b : custom_date;
                rc = a && b ? 0 : -1;
            }
            if (rc == 0) {
                custom_ids[ncustom] = id ? atol(id) : -1;
                custom_date[ncustom++] = code ? (unsigned char)format_is_date(code) : 0;
            }
            xmlFree(id);
            xmlFree(code);
        } else if (is_start(rd, "cellXfs")) {
            in_xfs = !xmlTextReaderIsEmptyElement(rd);
        } else if (is_end(rd, "cellXfs")) {
            in_xfs = 0;
        } else if (in_xfs && is_start(rd, "xf")) {
            char *id = attr(rd, "numFmtId");
            long fmt = id ? atol(id) : 0;
            xmlFree(id);
            int date = builtin_is_date(fmt);
            for (size_t i = 0; i < ncustom; i++)
                if (custom_ids[i] == fmt)
                    date = custom_date[i];
            unsigned char *p = realloc(x->date_style, x->nstyles + 1);
            if (p == NULL)
                rc = -1;
            else
                (x->date_style = p)[x->nstyles++] = (unsigned char)date;
        }
    }
    if (rd)
        xmlFreeTextReader(rd);
    free(buf);
    free(custom_ids);
    free(custom_date);
    return rc < 0 ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

/* ---- the sheet ---- */

static int zip_read_cb(void *ctx, char *buf, int len)
{
    zip_int64_t n = zip_fread(ctx, buf, (zip_uint64_t)len);
    return n < 0 ? -1 : (int)n;
}

static int zip_close_cb(void *ctx)
{
    (void)ctx;
    return 0;
}

static int unreadable(cb_xlsx *x, cb_err *err)
{
    return cb_err_set(err, EX_DATAERR, TR(x, "%s: sheet '%s' cannot be read", "%s: không đọc được trang tính '%s'"),
                      x->name, x->sheet);
}

/* Starts reading the sheet's XML from the start, streamed out of the
 * archive. */
static int sheet_open(cb_xlsx *x, cb_err *err)
{
    if (x->rd)
        xmlFreeTextReader(x->rd);
    if (x->zf)
        zip_fclose(x->zf);
    x->rd = NULL;
    x->zf = zip_fopen(x->zip, x->sheet_path, 0);
    if (x->zf)
        x->rd = xmlReaderForIO(zip_read_cb, zip_close_cb, x->zf, x->sheet_path, NULL, XML_PARSE_NONET);
    if (x->rd == NULL)
        return unreadable(x, err);
    x->last_row = 0;
    return 0;
}

static int read_error(cb_xlsx *x, cb_err *err)
{
    return cb_err_set(err, EX_DATAERR,
                      TR(x, "%s: sheet '%s' is not well-formed XML near line %d",
                         "%s: trang tính '%s' không phải XML đúng cú pháp, gần dòng %d"),
                      x->name, x->sheet, xmlTextReaderGetParserLineNumber(x->rd));
}

/* Whether the sheet's XML mentions merged cells at all: a search of the
 * inflated bytes, much cheaper than parsing them, so that a sheet without
 * merges (most machine-written ones) is parsed once. -1 when unreadable. */
static int mentions_merges(cb_xlsx *x)
{
    static const char word[] = "mergeCell";
    const size_t wl = sizeof word - 1;
    zip_file_t *f = zip_fopen(x->zip, x->sheet_path, 0);
    char *buf = malloc(65536 + wl);
    size_t keep = 0;
    int found = f && buf ? 0 : -1;
    while (found == 0) {
        zip_int64_t n = zip_fread(f, buf + keep, 65536);
        if (n <= 0) {
            found = n < 0 ? -1 : 0;
            break;
        }
        size_t len = keep + (size_t)n;
        if (memmem(buf, len, word, wl) != NULL)
            found = 1;
        keep = len < wl ? len : wl - 1;
        memmove(buf, buf + len - keep, keep);
    }
    if (f)
        zip_fclose(f);
    free(buf);
    return found;
}

/* The first pass: the merged ranges. */
static int load_merges(cb_xlsx *x, cb_err *err)
{
    int any = mentions_merges(x);
    if (any <= 0)
        return any < 0 ? unreadable(x, err)
                       : sheet_open(x, err);
    if (sheet_open(x, err) < 0)
        return -1;
    int st = xmlTextReaderRead(x->rd);
    while (st == 1) {
        if (is_start(x->rd, "sheetData") && !xmlTextReaderIsEmptyElement(x->rd)) {
            st = xmlTextReaderNext(x->rd);   /* the rows come again in the second pass */
            continue;
        }
        if (!is_start(x->rd, "mergeCell")) {
            st = xmlTextReaderRead(x->rd);
            continue;
        }
        char *ref = attr(x->rd, "ref");
        char *colon = ref ? strchr(ref, ':') : NULL;
        merge m = {0};
        if (colon) {
            *colon = '\0';
            if (parse_ref(ref, &m.c1, &m.r1) == 0 && parse_ref(colon + 1, &m.c2, &m.r2) == 0 && m.r1 <= m.r2 &&
                m.c1 <= m.c2) {
                if (x->nmerges == x->capmerges) {
                    size_t cap = x->capmerges ? x->capmerges * 2 : 16;
                    merge *p = realloc(x->merges, cap * sizeof *p);
                    if (p == NULL) {
                        xmlFree(ref);
                        return cb_err_set(err, EX_OSERR, "out of memory");
                    }
                    x->merges = p;
                    x->capmerges = cap;
                }
                x->merges[x->nmerges++] = m;
            }
        }
        xmlFree(ref);
        st = xmlTextReaderRead(x->rd);
    }
    return st < 0 ? read_error(x, err) : sheet_open(x, err);
}

/* A number as the cell shows it in a General format: whole numbers without
 * ".0" or an exponent (identity numbers, phone numbers, codes), others with
 * up to 15 significant digits, Excel's precision. */
static void format_number(const char *v, char *out, size_t len)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || !isfinite(d))
        snprintf(out, len, "%s", v);
    else if (d == floor(d) && fabs(d) < 1e15)
        snprintf(out, len, "%.0f", d);
    else
        snprintf(out, len, "%.15g", d);
}

/* A date serial as YYYY-MM-DD (with THH:MM:SS when it has a time of day). */
static void format_serial(const cb_xlsx *x, const char *v, char *out, size_t len)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || !isfinite(d) || d < 0 || d > 2958466) {
        format_number(v, out, len);
        return;
    }
    long days = (long)floor(d);
    long secs = lround((d - (double)days) * 86400.0);
    if (secs >= 86400) {
        days++;
        secs -= 86400;
    }
    /* The 1900 system counts a 29 February 1900 that never was (serial 60):
     * serials from 61 on are days since 30 December 1899. */
    cb_date day = x->date1904 ? cb_date_from_ymd(1904, 1, 1) + (cb_date)days
                  : days >= 61 ? cb_date_from_ymd(1899, 12, 30) + (cb_date)days
                               : cb_date_from_ymd(1899, 12, 31) + (cb_date)days;
    char iso[11];
    cb_date_format(day, iso);
    if (secs == 0)
        snprintf(out, len, "%s", iso);
    else
        snprintf(out, len, "%sT%02ld:%02ld:%02ld", iso, secs / 3600, secs / 60 % 60, secs % 60);
}

typedef struct cell_ctx {
    size_t col;
    char type[16];
    long style;
    cb_xlsx_cell v;       /* <v> or the inline string */
    int has_v;
} cell_ctx;

/* A finished <c>: its value by type into the row. */
static int cell_done(cb_xlsx *x, cell_ctx *cc)
{
    if (!cc->has_v)
        return 0;
    cb_xlsx_cell *c = row_cell(&x->row, cc->col);
    if (c == NULL)
        return -1;
    const char *v = cc->v.s ? cc->v.s : "";
    char num[64];
    const char *t = cc->type;
    c->number = 0;
    if (strcmp(t, "s") == 0) {
        char *end;
        unsigned long i = strtoul(v, &end, 10);
        return cell_set(c, *end == '\0' && i < x->nsst ? x->sst[i] : "", *end == '\0' && i < x->nsst ? strlen(x->sst[i]) : 0);
    }
    if (strcmp(t, "b") == 0)
        return cell_set(c, strcmp(v, "1") == 0 ? "TRUE" : "FALSE", strcmp(v, "1") == 0 ? 4 : 5);
    if (strcmp(t, "d") == 0 && strlen(v) >= 10 && strcmp(v + 10, "T00:00:00") == 0)
        return cell_set(c, v, 10);
    if (*t != '\0' && strcmp(t, "n") != 0)   /* str, inlineStr, e, d: the text */
        return cell_set(c, v, strlen(v));
    if (cc->style >= 0 && (size_t)cc->style < x->nstyles && x->date_style[cc->style]) {
        format_serial(x, v, num, sizeof num);
    } else {
        format_number(v, num, sizeof num);
        c->number = 1;
    }
    return cell_set(c, num, strlen(num));
}

/* A <c>'s attributes, read in place (a cell is the sheet's commonest
 * element: no copies). */
static void cell_start(cb_xlsx *x, cell_ctx *cc, size_t *next_col)
{
    size_t col = *next_col;
    long row;
    cc->type[0] = '\0';
    cc->style = -1;
    while (xmlTextReaderMoveToNextAttribute(x->rd) == 1) {
        const char *n = (const char *)xmlTextReaderConstLocalName(x->rd);
        const char *v = (const char *)xmlTextReaderConstValue(x->rd);
        if (strcmp(n, "r") == 0 && parse_ref(v, &col, &row) < 0)
            col = *next_col;
        else if (strcmp(n, "t") == 0)
            snprintf(cc->type, sizeof cc->type, "%s", v);
        else if (strcmp(n, "s") == 0)
            cc->style = atol(v);
    }
    xmlTextReaderMoveToElement(x->rd);
    cc->col = col;
    *next_col = col + 1;
    cc->has_v = 0;
    cell_set(&cc->v, "", 0);
}

/* The merged ranges over this row: the value of each range's top-left
 * cell goes into its other cells that are empty. */
static int apply_merges(cb_xlsx *x)
{
    cb_xlsx_row *row = &x->row;
    for (size_t i = 0; i < x->nmerges; i++) {
        merge *m = &x->merges[i];
        if (row->r < m->r1 || row->r > m->r2)
            continue;
        if (row->r == m->r1) {
            free(m->value);
            m->value = strdup(m->c1 < row->n ? row->c[m->c1].s : "");
            if (m->value == NULL)
                return -1;
        }
        for (size_t c = m->c1; m->value && *m->value && c <= m->c2; c++) {
            if (c < row->n && row->c[c].len > 0)
                continue;
            cb_xlsx_cell *cell = row_cell(row, c);
            if (cell == NULL || cell_set(cell, m->value, strlen(m->value)) < 0)
                return -1;
        }
    }
    return 0;
}

static int row_has_value(const cb_xlsx_row *row)
{
    for (size_t i = 0; i < row->n; i++)
        for (const char *p = row->c[i].s; p && *p; p++)
            if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                return 1;
    return 0;
}

typedef struct row_state {
    int in_row, in_c, in_v, in_is, in_t, in_rph;
    size_t next_col;
} row_state;

/* An element of the sheet opening (start) or closing; 1 when it ends a
 * row that has a value. */
static int sheet_element(cb_xlsx *x, row_state *rs, cell_ctx *cc, const char *ln, int start, int *rc)
{
    int open = start && !xmlTextReaderIsEmptyElement(x->rd);
    if (strcmp(ln, "c") == 0 && rs->in_row) {
        if (start)
            cell_start(x, cc, &rs->next_col);
        rs->in_c = open;
        if (!open)
            *rc = cell_done(x, cc);
    } else if (strcmp(ln, "v") == 0 && rs->in_c) {
        rs->in_v = open;
        cc->has_v |= start;
    } else if (strcmp(ln, "is") == 0 && rs->in_c) {
        rs->in_is = open;
        cc->has_v |= start;
    } else if (strcmp(ln, "t") == 0 && rs->in_is) {
        rs->in_t = open;
    } else if (strcmp(ln, "rPh") == 0 && rs->in_is) {
        rs->in_rph = open;
    } else if (strcmp(ln, "row") == 0) {
        if (start) {
            char *r = attr(x->rd, "r");
            x->row.r = r ? atol(r) : x->last_row + 1;
            xmlFree(r);
            x->row.n = 0;
            x->last_row = x->row.r;
            rs->next_col = 0;
        }
        rs->in_row = open;
        if (!open && (*rc = apply_merges(x)) == 0 && row_has_value(&x->row))
            return 1;
    }
    return 0;
}

/* Reads the sheet up to the end of the next row that has a value. */
static int next_sheet_row(cb_xlsx *x, cb_err *err)
{
    cell_ctx cc = {0};
    row_state rs = {0};
    int st, rc = 0, done = 0;
    while (rc == 0 && !done && (st = xmlTextReaderRead(x->rd)) == 1) {
        int type = xmlTextReaderNodeType(x->rd);
        if (type == XML_READER_TYPE_ELEMENT || type == XML_READER_TYPE_END_ELEMENT) {
            const char *ln = (const char *)xmlTextReaderConstLocalName(x->rd);
            done = sheet_element(x, &rs, &cc, ln, type == XML_READER_TYPE_ELEMENT, &rc);
        } else if ((rs.in_v || (rs.in_t && !rs.in_rph)) && is_text(x->rd)) {
            const char *v = (const char *)xmlTextReaderConstValue(x->rd);
            rc = cell_append(&cc.v, v, strlen(v));
        }
    }
    free(cc.v.s);
    if (rc < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (done)
        return 1;
    return st < 0 ? read_error(x, err) : 0;
}

/* ---- the reader's interface ---- */

cb_xlsx *cb_xlsx_open_mem(void *data, size_t len, const char *name, const char *sheet, cb_lang lang,
                          cb_err *err)
{
    cb_xlsx *x = calloc(1, sizeof *x);
    if (x == NULL || (x->name = strdup(name)) == NULL) {
        free(data);
        free(x);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    x->data = data;
    x->lang = lang;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (src && (x->zip = zip_open_from_source(src, ZIP_RDONLY, &ze)) == NULL)
        zip_source_free(src);
    if (x->zip == NULL) {
        cb_err_set(err, EX_DATAERR,
                   TR(x, "%s: not a readable workbook (%s)", "%s: không phải tệp Excel đọc được (%s)"), name,
                   zip_error_strerror(&ze));
        zip_error_fini(&ze);
        cb_xlsx_close(x);
        return NULL;
    }
    zip_error_fini(&ze);
    if (find_sheet(x, sheet, err) < 0 || load_shared_strings(x, err) < 0 || load_styles(x, err) < 0 ||
        load_merges(x, err) < 0) {
        cb_xlsx_close(x);
        return NULL;
    }
    return x;
}

void cb_xlsx_close(cb_xlsx *x)
{
    if (x == NULL)
        return;
    if (x->rd)
        xmlFreeTextReader(x->rd);
    if (x->zf)
        zip_fclose(x->zf);
    if (x->zip)
        zip_discard(x->zip);
    free(x->data);
    for (size_t i = 0; i < x->nsst; i++)
        free(x->sst[i]);
    free(x->sst);
    free(x->date_style);
    for (size_t i = 0; i < x->nmerges; i++)
        free(x->merges[i].value);
    free(x->merges);
    row_free(&x->row);
    for (size_t i = 0; i < x->nahead; i++)
        row_free(&x->ahead[i]);
    free(x->ahead);
    free(x->name);
    free(x->sheet);
    free(x->sheet_path);
    free(x);
}

const char *cb_xlsx_sheet_name(const cb_xlsx *x)
{
    return x->sheet;
}

int cb_xlsx_find_header(cb_xlsx *x, int (*known)(void *ctx, const char *label), void *ctx, int maxrows,
                        cb_err *err)
{
    x->ahead = calloc((size_t)(maxrows > 0 ? maxrows : 1), sizeof *x->ahead);
    if (x->ahead == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    size_t best = 0;
    int best_score = -1;
    while (x->nahead < (size_t)maxrows) {
        int st = next_sheet_row(x, err);
        if (st < 0)
            return -1;
        if (st == 0)
            break;
        if (row_copy(&x->ahead[x->nahead], &x->row) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
        int score = 0;
        for (size_t i = 0; i < x->row.n; i++)
            score += x->row.c[i].len > 0 && known(ctx, x->row.c[i].s);
        if (score > best_score) {
            best_score = score;
            best = x->nahead;
        }
        x->nahead++;
    }
    x->ahead_next = best_score >= 2 ? best : 0;
    return 0;
}

int cb_xlsx_next(cb_xlsx *x, const cb_xlsx_row **row, cb_err *err)
{
    if (x->ahead_next < x->nahead) {
        *row = &x->ahead[x->ahead_next++];
        return 1;
    }
    int st = next_sheet_row(x, err);
    if (st == 1)
        *row = &x->row;
    return st;
}

/* ---- writing, with libxlsxwriter ----
 *
 * In constant-memory mode: each row goes to a temporary file as it is
 * written, so memory does not grow with the records (rows in order, one
 * sheet after the other, which is how the programs write). The workbook is
 * written at close, into the temporary file cb_atomic made beside the
 * target (the same inode, so cb_atomic_commit's fsync and rename apply). */

#define XLSX_WIDTH_MAX 60

struct cb_xlsx_writer {
    cb_atomic at;
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *bold, *date;
    enum cb_xlsx_kind *kinds;
    double *widths;
    size_t ncols;
    lxw_row_t row;
    char **names;          /* sheet names used, to keep them unique */
    size_t nnames;
    cb_lang lang;          /* of the messages */
};

/* The system's reason (errno e), where libxlsxwriter gives only its own:
 * most often a full disk. In Vietnamese the usual ones are said in
 * Vietnamese. Empty when e is 0. */
static const char *sys_reason(const cb_xlsx_writer *w, int e, char *buf, size_t n)
{
    const char *vi = NULL;
    switch (w->lang == CB_LANG_VI ? e : 0) {
    case ENOSPC: vi = "đĩa đã đầy"; break;
    case EDQUOT: vi = "hết hạn mức đĩa"; break;
    case EACCES: case EPERM: vi = "không có quyền ghi"; break;
    case EROFS: vi = "ổ đĩa chỉ đọc"; break;
    case ENOMEM: vi = "hết bộ nhớ"; break;
    default: break;
    }
    if (e == 0)
        buf[0] = '\0';
    else
        snprintf(buf, n, " (%s)", vi ? vi : strerror(e));
    return buf;
}

static int lxw_fail(const cb_xlsx_writer *w, cb_err *err, lxw_error e, const char *what)
{
    char why[160];
    return cb_err_set(err, EX_IOERR, "%s: %s%s", what, lxw_strerror(e), sys_reason(w, errno, why, sizeof why));
}

cb_xlsx_writer *cb_xlsx_writer_new(const char *path, cb_lang lang, cb_err *err)
{
    cb_xlsx_writer *w = calloc(1, sizeof *w);
    if (w == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    w->lang = lang;
    if (cb_atomic_open(&w->at, path, 0644, err) < 0) {
        free(w);
        return NULL;
    }
    lxw_workbook_options o = {.constant_memory = LXW_TRUE};
    w->wb = workbook_new_opt(w->at.tmp ? w->at.tmp : w->at.path, &o);
    if (w->wb == NULL) {
        char why[160];
        cb_err_set(err, EX_CANTCREAT, TR(w, "%s: cannot start a workbook%s", "%s: không tạo được sổ tính%s"), path,
                   sys_reason(w, errno, why, sizeof why));
        cb_atomic_abort(&w->at);
        free(w);
        return NULL;
    }
    w->bold = workbook_add_format(w->wb);
    format_set_bold(w->bold);
    format_set_text_wrap(w->bold);
    format_set_align(w->bold, LXW_ALIGN_VERTICAL_TOP);
    w->date = workbook_add_format(w->wb);
    format_set_num_format(w->date, "dd/mm/yyyy");
    return w;
}

/* Excel's rules for a sheet name: 31 characters at most, none of
 * []:*?/\, not blank, unique (ignoring case; here, exactly). */
static int sheet_name(cb_xlsx_writer *w, const char *want, char *out, size_t outlen)
{
    size_t o = 0, chars = 0;
    for (const char *p = want; *p && chars < 31 && o + 5 < outlen; chars++) {
        size_t k = 1;
        while ((p[k] & 0xC0) == 0x80)
            k++;
        if (k == 1 && strchr("[]:*?/\\", *p))
            out[o++] = '-';
        else
            memcpy(out + o, p, k), o += k;
        p += k;
    }
    out[o] = '\0';
    if (o == 0)
        snprintf(out, outlen, "Sheet%zu", w->nnames + 1);
    char base[160];
    snprintf(base, sizeof base, "%.100s", out);
    for (int n = 2;; n++) {
        int clash = 0;
        for (size_t i = 0; i < w->nnames && !clash; i++)
            clash = strcmp(w->names[i], out) == 0;
        if (!clash)
            break;
        /* " (n)" within the 31 characters, the name cut between characters */
        char suffix[16];
        int slen = snprintf(suffix, sizeof suffix, " (%d)", n);
        size_t keep = 0, chars = 0;
        while (base[keep] && chars < 31 - (size_t)slen) {
            keep++;
            while ((base[keep] & 0xC0) == 0x80)
                keep++;
            chars++;
        }
        snprintf(out, outlen, "%.*s%s", (int)keep, base, suffix);
    }
    char **p = realloc(w->names, (w->nnames + 1) * sizeof *p);
    if (p == NULL)
        return -1;
    w->names = p;
    return (p[w->nnames] = strdup(out)) ? (int)++w->nnames : -1;
}

/* Column widths from the text written, in characters (code points). */
static void widen(cb_xlsx_writer *w, size_t col, const char *s)
{
    double n = 0;
    for (const char *p = s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    if (n + 2 > w->widths[col])
        w->widths[col] = n + 2 > XLSX_WIDTH_MAX ? XLSX_WIDTH_MAX : n + 2;
}

static void finish_sheet(cb_xlsx_writer *w)
{
    for (size_t i = 0; w->ws && i < w->ncols; i++)
        worksheet_set_column(w->ws, (lxw_col_t)i, (lxw_col_t)i, w->widths[i], NULL);
}

int cb_xlsx_writer_sheet(cb_xlsx_writer *w, const char *name, const char *const *labels,
                         const enum cb_xlsx_kind *kinds, size_t n, cb_err *err)
{
    char sname[200];
    finish_sheet(w);
    if (n > XLSX_MAX_COLS)
        return cb_err_set(err, EX_DATAERR, TR(w, "%zu columns: a sheet holds %d at most", "%zu cột: một trang tính chứa tối đa %d cột"),
                          n, XLSX_MAX_COLS);
    enum cb_xlsx_kind *k = realloc(w->kinds, (n ? n : 1) * sizeof *k);
    double *wd = k ? realloc(w->widths, (n ? n : 1) * sizeof *wd) : NULL;
    w->kinds = k ? k : w->kinds;
    w->widths = wd ? wd : w->widths;
    if (k == NULL || wd == NULL || sheet_name(w, name, sname, sizeof sname) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    w->ws = workbook_add_worksheet(w->wb, sname);
    if (w->ws == NULL)
        return cb_err_set(err, EX_SOFTWARE, TR(w, "cannot add sheet '%s'", "không thêm được trang tính '%s'"), sname);
    w->ncols = n;
    w->row = 0;
    for (size_t i = 0; i < n; i++) {
        w->kinds[i] = kinds ? kinds[i] : CB_XLSX_TEXT;
        w->widths[i] = 8;
        widen(w, i, labels[i]);
        lxw_error e = worksheet_write_string(w->ws, 0, (lxw_col_t)i, labels[i], w->bold);
        if (e != LXW_NO_ERROR)
            return lxw_fail(w, err, e, TR(w, "header", "dòng tiêu đề"));
    }
    worksheet_freeze_panes(w->ws, 1, 0);
    w->row = 1;
    return 0;
}

/* A whole number that Excel keeps exactly (15 digits), without a leading
 * zero (that would be an identifier, and stays text). */
static int whole_number(const char *s, double *out)
{
    const char *p = s + (*s == '-');
    size_t n = strspn(p, "0123456789");
    if (n == 0 || n > 15 || p[n] != '\0' || (p[0] == '0' && n > 1))
        return 0;
    *out = strtod(s, NULL);
    return 1;
}

int cb_xlsx_writer_row(cb_xlsx_writer *w, const char *const *fields, size_t n, cb_err *err)
{
    if (w->ws == NULL)
        return cb_err_set(err, EX_SOFTWARE, "a row before any sheet");
    if (w->row >= LXW_ROW_MAX)
        return cb_err_set(err, EX_DATAERR,
                          TR(w, "more rows than a sheet holds (%u)", "nhiều dòng hơn một trang tính chứa được (%u)"),
                          (unsigned)LXW_ROW_MAX);
    for (size_t i = 0; i < n && i < w->ncols; i++) {
        const char *s = fields[i];
        cb_date d;
        double num;
        lxw_error e = LXW_NO_ERROR;
        if (*s == '\0')
            continue;
        if (w->kinds[i] == CB_XLSX_DATE && strlen(s) == 10 && cb_date_parse(s, &d) == 0 &&
            d >= cb_date_from_ymd(1900, 3, 1)) {
            /* serial 25569 is 1970-01-01, day 0 of cb_date */
            e = worksheet_write_number(w->ws, w->row, (lxw_col_t)i, (double)d + 25569.0, w->date);
            if (w->widths[i] < 12)
                w->widths[i] = 12;
        } else if (w->kinds[i] == CB_XLSX_NUMBER && whole_number(s, &num)) {
            e = worksheet_write_number(w->ws, w->row, (lxw_col_t)i, num, NULL);
            widen(w, i, s);
        } else {
            e = worksheet_write_string(w->ws, w->row, (lxw_col_t)i, s, NULL);
            widen(w, i, s);
        }
        if (e != LXW_NO_ERROR)
            return lxw_fail(w, err, e, TR(w, "cell", "ô"));
    }
    w->row++;
    return 0;
}

static void writer_free(cb_xlsx_writer *w)
{
    for (size_t i = 0; i < w->nnames; i++)
        free(w->names[i]);
    free(w->names);
    free(w->kinds);
    free(w->widths);
    free(w);
}

int cb_xlsx_writer_close(cb_xlsx_writer *w, cb_err *err)
{
    finish_sheet(w);
    if (w->ws == NULL && workbook_add_worksheet(w->wb, NULL) == NULL) {   /* a workbook has a sheet */
        cb_xlsx_writer_abort(w);
        return cb_err_set(err, EX_SOFTWARE, TR(w, "cannot add a sheet", "không thêm được trang tính"));
    }
    errno = 0;
    lxw_error e = workbook_close(w->wb);
    char why[160];
    sys_reason(w, errno, why, sizeof why);
    w->wb = NULL;
    int rc = 0;
    if (e != LXW_NO_ERROR) {
        rc = cb_err_set(err, EX_IOERR, TR(w, "%s: cannot write the workbook: %s%s", "%s: không ghi được sổ tính: %s%s"),
                        w->at.path, lxw_strerror(e), why);
        cb_atomic_abort(&w->at);
    } else {
        rc = cb_atomic_commit(&w->at, 0, err);
    }
    writer_free(w);
    return rc;
}

void cb_xlsx_writer_abort(cb_xlsx_writer *w)
{
    if (w == NULL)
        return;
    if (w->wb)
        lxw_workbook_free(w->wb);
    cb_atomic_abort(&w->at);
    writer_free(w);
}
