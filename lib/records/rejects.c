/* Rejects channel: see rejects.h. */
#include "rejects.h"

#include <stdlib.h>
#include <string.h>

int cb_rejects_open(cb_rejects *rj, const char *prog, const char *path, FILE *diag, cb_err *err)
{
    return cb_rejects_open_as(rj, prog, path, 0, CB_LANG_EN, diag, err);
}

int cb_rejects_open_as(cb_rejects *rj, const char *prog, const char *path, int excel_csv, cb_lang lang, FILE *diag,
                       cb_err *err)
{
    memset(rj, 0, sizeof *rj);
    rj->prog = prog;
    rj->diag = diag;
    if (path != NULL) {
        if (cb_sheet_open(&rj->sink, path, excel_csv, lang, err) < 0)
            return -1;
        rj->to_file = 1;
    }
    return 0;
}

int cb_rejects_set_header(cb_rejects *rj, const cb_header *h)
{
    cb_header *c = cb_header_copy(h);
    if (c == NULL)
        return -1;
    cb_header_free(rj->header);
    rj->header = c;
    return 0;
}

static int write_header(cb_rejects *rj)
{
    if (rj->header_written)
        return 0;
    rj->header_written = 1;
    size_t n = rj->header ? rj->header->n : 0;
    const char **names = malloc((n + 3) * sizeof *names);
    if (names == NULL)
        return cb_err_set(&rj->write_err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < n; i++)
        names[i] = rj->header->names[i];
    names[n] = "reject_line";
    names[n + 1] = "reject_field";
    names[n + 2] = "reject_reason";
    int rc = cb_sheet_begin(&rj->sink, "Hồ sơ bị từ chối", names, n + 3, &rj->write_err);
    free(names);
    return rc;
}

int cb_rejects_add(cb_rejects *rj, const cb_record *rec, const char *input, long line,
                   const char *field, const char *reason)
{
    rj->count++;
    if (field == NULL)
        field = "";
    if (!rj->to_file) {
        /* A reject that cannot be told is lost: the caller's I/O error. */
        int n;
        if (*field)
            n = fprintf(rj->diag, "%s: %s:%ld: %s: %s\n", rj->prog, input, line, field, reason);
        else
            n = fprintf(rj->diag, "%s: %s:%ld: %s\n", rj->prog, input, line, reason);
        return n < 0 || fflush(rj->diag) != 0 ? -1 : 0;
    }
    if (write_header(rj) < 0)
        return -1;
    size_t n = rj->header ? rj->header->n : 0;
    const char **row = malloc((n + 3) * sizeof *row);
    if (row == NULL)
        return cb_err_set(&rj->write_err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < n; i++)
        row[i] = rec ? cb_record_get(rec, (int)i) : "";
    char num[32];
    snprintf(num, sizeof num, "%ld", line);
    row[n] = num;
    row[n + 1] = field;
    row[n + 2] = reason;
    int rc = cb_sheet_fields(&rj->sink, row, n + 3, &rj->write_err);
    free(row);
    return rc;
}

int cb_rejects_close(cb_rejects *rj, cb_err *err)
{
    int rc = 0;
    if (rj->to_file) {
        if (write_header(rj) < 0) {
            cb_sheet_abort(&rj->sink);
            rc = cb_err_set(err, rj->write_err.code, "cannot write the rejects file: %s", rj->write_err.msg);
        } else {
            rc = cb_sheet_close(&rj->sink, err);
        }
        rj->to_file = 0;
    }
    cb_header_free(rj->header);
    rj->header = NULL;
    return rc;
}

void cb_rejects_abort(cb_rejects *rj)
{
    if (rj->to_file)
        cb_sheet_abort(&rj->sink);
    rj->to_file = 0;
    cb_header_free(rj->header);
    rj->header = NULL;
}
