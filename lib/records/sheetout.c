/* Tables out as CSV, CSV for Excel or a workbook: see sheetout.h. */
#include "sheetout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "labels.h"

int cb_sheet_path_is_xlsx(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 5 && strcasecmp(path + n - 5, ".xlsx") == 0;
}

int cb_sheet_open(cb_sheet_out *o, const char *path, int excel_csv, cb_lang lang, cb_err *err)
{
    memset(o, 0, sizeof *o);
    if (cb_sheet_path_is_xlsx(path)) {
        o->fmt = CB_SHEET_XLSX;
        o->x = cb_xlsx_writer_new(path, lang, err);
        return o->x ? 0 : -1;
    }
    o->fmt = excel_csv ? CB_SHEET_EXCEL_CSV : CB_SHEET_CSV;
    if (cb_output_open(&o->out, path, 0644, err) < 0)
        return -1;
    cb_csv_writer_init(&o->w, o->out.fp);
    if (excel_csv) {
        o->w.crlf = 1;
        fputs("\xEF\xBB\xBF", o->out.fp);
    }
    return 0;
}

static int write_failed(cb_err *err)
{
    return cb_err_sys(err, EX_IOERR, "cannot write");
}

int cb_sheet_begin(cb_sheet_out *o, const char *sheet, const char *const *names, size_t n, cb_err *err)
{
    if (o->fmt == CB_SHEET_CSV) {
        if (o->tables++ == 0 && cb_csv_write_fields(&o->w, names, n) < 0)
            return write_failed(err);
        return 0;
    }
    const char **labels = malloc((n ? n : 1) * sizeof *labels);
    enum cb_xlsx_kind *kinds = malloc((n ? n : 1) * sizeof *kinds);
    int rc = 0;
    if (labels == NULL || kinds == NULL) {
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    } else {
        for (size_t i = 0; i < n; i++) {
            labels[i] = cb_label_vi(names[i]);
            kinds[i] = cb_label_kind(names[i]);
        }
        if (o->fmt == CB_SHEET_XLSX)
            rc = cb_xlsx_writer_sheet(o->x, sheet, labels, kinds, n, err);
        else if (o->tables == 0 && cb_csv_write_fields(&o->w, labels, n) < 0)
            rc = write_failed(err);
    }
    o->tables++;
    free(labels);
    free(kinds);
    return rc;
}

int cb_sheet_begin_header(cb_sheet_out *o, const char *sheet, const cb_header *h, cb_err *err)
{
    return cb_sheet_begin(o, sheet, (const char *const *)h->names, h->n, err);
}

int cb_sheet_fields(cb_sheet_out *o, const char *const *fields, size_t n, cb_err *err)
{
    if (o->fmt == CB_SHEET_XLSX)
        return cb_xlsx_writer_row(o->x, fields, n, err);
    return cb_csv_write_fields(&o->w, fields, n) < 0 ? write_failed(err) : 0;
}

int cb_sheet_record(cb_sheet_out *o, const cb_record *rec, size_t n, cb_err *err)
{
    if (o->fmt != CB_SHEET_XLSX)
        return cb_csv_write_record(&o->w, rec, n) < 0 ? write_failed(err) : 0;
    if (n > o->rowcap) {
        const char **p = realloc(o->row, n * sizeof *p);
        if (p == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        o->row = p;
        o->rowcap = n;
    }
    for (size_t i = 0; i < n; i++)
        o->row[i] = cb_record_get(rec, (int)i);
    return cb_xlsx_writer_row(o->x, o->row, n, err);
}

FILE *cb_sheet_fp(cb_sheet_out *o)
{
    return o->fmt == CB_SHEET_XLSX ? NULL : o->out.fp;
}

int cb_sheet_close(cb_sheet_out *o, cb_err *err)
{
    free(o->row);
    o->row = NULL;
    if (o->fmt == CB_SHEET_XLSX) {
        cb_xlsx_writer *x = o->x;
        o->x = NULL;
        return x ? cb_xlsx_writer_close(x, err) : 0;
    }
    return cb_output_close(&o->out, err);
}

void cb_sheet_abort(cb_sheet_out *o)
{
    free(o->row);
    o->row = NULL;
    if (o->fmt == CB_SHEET_XLSX) {
        cb_xlsx_writer_abort(o->x);
        o->x = NULL;
    } else {
        cb_output_abort(&o->out);
    }
}
