/* What aggregate-by-agency writes: see agency_out.h. */
#include "agency_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "csvio.h"
#include "identifiers.h"
#include "vntext.h"

int cb_agency_grouper_bind(cb_agency_grouper *g, const cb_header *h, const char *by, cb_err *err)
{
    memset(g, 0, sizeof *g);
    g->by = by;
    g->c_by = by ? cb_header_find(h, by) : -1;
    if (by && g->c_by < 0)
        return cb_err_set(err, EX_DATAERR, "--by: the input has no column '%s'", by);
    g->c_code = cb_header_find(h, "agency_code");
    g->c_key = cb_header_find(h, "agency_key");
    g->c_agency = cb_header_find(h, "agency");
    g->c_name = cb_header_find(h, "agency_name");
    if (!by && g->c_code < 0 && g->c_key < 0 && g->c_agency < 0)
        return cb_err_set(err, EX_DATAERR, "no agency_code, agency_key or agency column to group by");
    return 0;
}

static int spelling_and_key(cb_agency_grouper *g, const char *raw, const char **spelling,
                            const char **key)
{
    *spelling = cb_strmap_get(&g->spelling_of, raw);
    *key = cb_strmap_get(&g->key_of, raw);
    if (*spelling && *key)
        return 0;
    char *clean = cb_text_clean(raw);
    char *k = g->c_by >= 0 ? cb_text_key(raw) : cb_agency_key(raw);
    int bad = clean == NULL || k == NULL || cb_strmap_put(&g->spelling_of, raw, clean) < 0 ||
              cb_strmap_put(&g->key_of, raw, k) < 0;
    free(clean);
    free(k);
    *spelling = cb_strmap_get(&g->spelling_of, raw);
    *key = cb_strmap_get(&g->key_of, raw);
    return bad ? -1 : 0;
}

int cb_agency_group(cb_agency_grouper *g, const cb_record *rec, const char **key,
                    const char **spelling, const char **code)
{
    *spelling = *code = "";
    *key = NULL;
    if (g->c_by >= 0) {
        const char *v = cb_record_get(rec, g->c_by);
        return *v ? spelling_and_key(g, v, spelling, key) : 0;
    }
    const char *agency = cb_record_get(rec, g->c_name), *akey = cb_record_get(rec, g->c_key);
    const char *c = cb_record_get(rec, g->c_code), *k2 = NULL;
    if (*agency == '\0')
        agency = cb_record_get(rec, g->c_agency);
    if (*agency && spelling_and_key(g, agency, spelling, &k2) < 0)
        return -1;
    if (*akey) {
        *key = akey;
        /* the registry's code, for the summary and the file names */
        *code = *c == '\0' && cb_agency_code_check(akey) ? akey : c;
    } else if (*c) {
        size_t i = 0;
        for (; c[i] && i < sizeof g->codekey - 6; i++)
            g->codekey[5 + i] = (char)(c[i] >= 'a' && c[i] <= 'z' ? c[i] - 32 : c[i]);
        memcpy(g->codekey, "code ", 5);
        g->codekey[5 + i] = '\0';
        *key = g->codekey;
        *code = c;
    } else {
        *key = k2;
    }
    return 0;
}

const char *cb_agency_group_field(const cb_agency_grouper *g)
{
    return g->c_by >= 0 ? g->by : "agency";
}

void cb_agency_grouper_free(cb_agency_grouper *g)
{
    cb_strmap_clear(&g->spelling_of);
    cb_strmap_clear(&g->key_of);
}

const char *const cb_agsum_columns[CB_AGSUM_NCOLS] = {
    "agency_key", "agency_code", "agency", "province",
    "issue_individual", "issue_organization", "renew_individual", "renew_organization", "other",
    "total", "earliest_expiry", "earliest_due", "spellings",
};

int cb_agsum_bind(cb_agsum_cols *c, const cb_header *h, cb_err *err)
{
    int *slot[CB_AGSUM_NCOLS] = {&c->key, &c->code, &c->agency, &c->province};
    for (int i = 0; i < CB_AG_NCOUNTS; i++)
        slot[4 + i] = &c->counts[i];
    slot[4 + CB_AG_NCOUNTS] = &c->total;
    slot[5 + CB_AG_NCOUNTS] = &c->earliest_expiry;
    slot[6 + CB_AG_NCOUNTS] = &c->earliest_due;
    slot[7 + CB_AG_NCOUNTS] = &c->spellings;
    for (int i = 0; i < CB_AGSUM_NCOLS; i++)
        if ((*slot[i] = cb_header_find(h, cb_agsum_columns[i])) < 0)
            return cb_err_set(err, EX_DATAERR, "not a summary of aggregate-by-agency: the column '%s' is missing",
                              cb_agsum_columns[i]);
    return 0;
}

int cb_agency_tally(cb_agency *a, const char *province, const unsigned long *counts,
                    unsigned long total, cb_date expiry, cb_date due)
{
    if (a->province == NULL && *province && (a->province = strdup(province)) == NULL)
        return -1;
    for (int i = 0; i < CB_AG_NCOUNTS; i++)
        a->counts[i] += counts[i];
    a->total += total;
    if (expiry < a->min_expiry)
        a->min_expiry = expiry;
    if (due < a->min_due)
        a->min_due = due;
    return 0;
}

int cb_agsum_date_min(cb_date *slot, const char *s)
{
    if (*s == '\0')
        return 0;
    cb_date d;
    if (cb_date_parse(s, &d) < 0)
        return -1;
    if (d < *slot)
        *slot = d;
    return 0;
}

static unsigned long parse_count(const char *s, int *bad)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || *s == '-' || errno)
        *bad = 1;
    return v;
}

int cb_agsum_merge(cb_agency_table *t, const cb_agsum_cols *c, const cb_record *rec,
                   const char **field, cb_err *err)
{
    *field = NULL;
    const char *key = cb_record_get(rec, c->key);
    if (*key == '\0')
        return 0;
    int bad = 0;
    unsigned long counts[CB_AG_NCOUNTS];
    for (int i = 0; i < CB_AG_NCOUNTS; i++)
        counts[i] = parse_count(cb_record_get(rec, c->counts[i]), &bad);
    unsigned long total = parse_count(cb_record_get(rec, c->total), &bad);
    if (bad)
        return cb_err_set(err, EX_DATAERR, "a count in this summary row is not a whole number");
    cb_date expiry = CB_AG_NO_DATE, due = CB_AG_NO_DATE;
    if (cb_agsum_date_min(&expiry, cb_record_get(rec, c->earliest_expiry)) < 0 ||
        cb_agsum_date_min(&due, cb_record_get(rec, c->earliest_due)) < 0)
        return cb_err_set(err, EX_DATAERR, "earliest_expiry or earliest_due is not a date");
    const char *code = cb_record_get(rec, c->code);
    cb_agency *a = cb_agency_get(t, key, *code ? code : NULL);
    if (a == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (cb_agency_spellings_parse(a, cb_record_get(rec, c->spellings), err) < 0) {
        *field = "spellings";
        return -1;
    }
    if (cb_agency_tally(a, cb_record_get(rec, c->province), counts, total, expiry, due) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 1;
}

static void format_date(cb_date d, char *buf)
{
    if (d == CB_AG_NO_DATE)
        buf[0] = '\0';
    else
        cb_date_format(d, buf);
}

/* Where the summary's rows go: a CSV stream or a sheet. */
typedef struct rows_to {
    cb_csv_writer *w;
    cb_sheet_out *sheet;
} rows_to;

static int emit(rows_to *to, const char *const *row, size_t n)
{
    cb_err err;
    if (to->w)
        return cb_csv_write_fields(to->w, row, n);
    return cb_sheet_fields(to->sheet, row, n, &err) < 0 ? (errno = EIO, -1) : 0;
}

/* One row: the agency's, or the TOTAL row when a is NULL. */
static int write_row(rows_to *w, const cb_agency *a, const unsigned long *counts,
                     unsigned long total, cb_date expiry, cb_date due)
{
    char nums[CB_AG_NCOUNTS + 1][24], e[11], d[11];
    for (int k = 0; k < CB_AG_NCOUNTS; k++)
        snprintf(nums[k], sizeof nums[k], "%lu", counts[k]);
    snprintf(nums[CB_AG_NCOUNTS], sizeof nums[0], "%lu", total);
    format_date(expiry, e);
    format_date(due, d);
    char *sp = a ? cb_agency_spellings_format(a) : NULL;
    if (a && sp == NULL)
        return errno = ENOMEM, -1;
    const char *row[CB_AGSUM_NCOLS] = {
        a ? a->key : "", a && a->code ? a->code : "", a ? cb_agency_display(a) : "TOTAL",
        a && a->province ? a->province : "",
    };
    for (int k = 0; k <= CB_AG_NCOUNTS; k++)
        row[4 + k] = nums[k];
    row[5 + CB_AG_NCOUNTS] = e;
    row[6 + CB_AG_NCOUNTS] = d;
    row[7 + CB_AG_NCOUNTS] = sp ? sp : "";
    int rc = emit(w, row, CB_AGSUM_NCOLS);
    free(sp);
    return rc;
}

static int write_summary(cb_agency_table *t, rows_to *w)
{
    cb_agency **list = cb_agency_sorted(t);
    if (list == NULL)
        return errno = ENOMEM, -1;
    cb_agency sum = {.min_expiry = CB_AG_NO_DATE, .min_due = CB_AG_NO_DATE};
    for (size_t i = 0; i < cb_agency_count(t); i++) {
        cb_agency *a = list[i];
        if (write_row(w, a, a->counts, a->total, a->min_expiry, a->min_due) < 0 ||
            cb_agency_tally(&sum, "", a->counts, a->total, a->min_expiry, a->min_due) < 0)
            return -1;
    }
    return write_row(w, NULL, sum.counts, sum.total, sum.min_expiry, sum.min_due);
}

int cb_agsum_write(cb_agency_table *t, FILE *fp)
{
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    rows_to to = {.w = &w};
    if (cb_csv_write_fields(&w, cb_agsum_columns, CB_AGSUM_NCOLS) < 0 || write_summary(t, &to) < 0)
        return -1;
    return ferror(fp) ? -1 : 0;
}

int cb_agsum_write_sheet(cb_agency_table *t, cb_sheet_out *out, cb_err *err)
{
    rows_to to = {.sheet = out};
    if (cb_sheet_begin(out, "Tổng hợp", cb_agsum_columns, CB_AGSUM_NCOLS, err) < 0)
        return -1;
    if (write_summary(t, &to) < 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the summary");
    return 0;
}

static int copy_file(const char *path, FILE *to)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return -1;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        if (fwrite(buf, 1, n, to) != n)
            break;
    int bad = ferror(fp) || ferror(to);
    fclose(fp);
    return bad ? -1 : 0;
}

int cb_agency_write_detail(cb_agency_table *t, const cb_header *h, FILE *fp, cb_err *err)
{
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    cb_csv_write_header(&w, h);
    cb_agency **list = cb_agency_sorted(t);
    if (list == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < cb_agency_count(t); i++) {
        if (cb_agency_spill_close(list[i], err) < 0)
            return -1;
        if (copy_file(list[i]->spill_path, fp) < 0)
            return cb_err_sys(err, EX_IOERR, "cannot copy the records of %s", list[i]->key);
    }
    return 0;
}

/* An agency's records, spilled with their header line, read back into a
 * sheet of their own (named after the agency), or into the one table of a
 * CSV for Excel. */
static int spill_to_sheet(cb_agency *a, const cb_header *h, cb_sheet_out *out, cb_err *err)
{
    char *files[] = {a->spill_path};
    const char *name = *cb_agency_display(a) ? cb_agency_display(a) : a->key;
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    cb_record *rec = cb_record_new();
    int st = r && rec && cb_sheet_begin_header(out, name, h, err) == 0 ? CB_CSV_RECORD : CB_CSV_FATAL;
    while (st == CB_CSV_RECORD && (st = cb_csv_reader_next(r, rec, err)) == CB_CSV_RECORD)
        if (cb_sheet_record(out, rec, h->n, err) < 0)
            st = CB_CSV_FATAL;
    cb_record_free(rec);
    cb_csv_reader_close(r);
    if (rec == NULL && st != CB_CSV_EOF)
        cb_err_set(err, EX_OSERR, "out of memory");
    return st == CB_CSV_EOF ? 0 : -1;
}

int cb_agency_write_detail_sheets(cb_agency_table *t, const cb_header *h, cb_sheet_out *out, cb_err *err)
{
    if (out->fmt == CB_SHEET_XLSX && cb_agsum_write_sheet(t, out, err) < 0)
        return -1;
    cb_agency **list = cb_agency_sorted(t);
    if (list == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < cb_agency_count(t); i++)
        if (cb_agency_spill_close(list[i], err) < 0 || spill_to_sheet(list[i], h, out, err) < 0)
            return -1;
    return 0;
}

static char *file_path(const char *dir, const cb_agency *a, cb_strmap *used)
{
    char *slug = cb_slug(a->code ? a->code : cb_agency_display(a), 120);
    if (slug == NULL)
        return NULL;
    char name[200];
    snprintf(name, sizeof name, "%s.csv", slug);
    for (int k = 2; cb_strmap_get(used, name) != NULL; k++)
        snprintf(name, sizeof name, "%s-%d.csv", slug, k);
    free(slug);
    size_t plen = strlen(dir) + strlen(name) + 2;
    char *path = malloc(plen);
    if (path == NULL || cb_strmap_put(used, name, "") < 0) {
        free(path);
        return NULL;
    }
    snprintf(path, plen, "%s/%s", dir, name);
    return path;
}

int cb_agency_write_file(cb_agency *a, const cb_header *h, const char *dir, cb_strmap *used,
                         char **path, cb_err *err)
{
    if ((*path = file_path(dir, a, used)) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    cb_atomic at;
    if (cb_agency_spill_close(a, err) < 0 || cb_atomic_open(&at, *path, 0644, err) < 0)
        return -1;
    cb_csv_writer w;
    cb_csv_writer_init(&w, at.fp);
    cb_csv_write_header(&w, h);
    if (copy_file(a->spill_path, at.fp) < 0) {
        cb_atomic_abort(&at);
        return cb_err_set(err, EX_IOERR, "cannot write %s", *path);
    }
    return cb_atomic_commit(&at, 0, err);
}
