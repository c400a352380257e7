/* Rejects channel: see rejects.h. */
#include "rejects.h"

#include <stdlib.h>
#include <string.h>

int cb_rejects_open(cb_rejects *rj, const char *prog, const char *path, FILE *diag, cb_err *err)
{
    memset(rj, 0, sizeof *rj);
    rj->prog = prog;
    rj->diag = diag;
    if (path != NULL) {
        if (cb_output_open(&rj->file, path, 0644, err) < 0)
            return -1;
        rj->to_file = 1;
        cb_csv_writer_init(&rj->w, rj->file.fp);
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
    for (size_t i = 0; i < n; i++)
        if (cb_csv_write_field(&rj->w, rj->header->names[i], strlen(rj->header->names[i]), 0) < 0)
            return -1;
    static const char *const extra[] = {"reject_line", "reject_field", "reject_reason"};
    return cb_csv_write_fields(&rj->w, extra, 3);
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
    for (size_t i = 0; i < n; i++) {
        const char *s = rec ? cb_record_get(rec, (int)i) : "";
        if (cb_csv_write_field(&rj->w, s, strlen(s), 0) < 0)
            return -1;
    }
    char num[32];
    snprintf(num, sizeof num, "%ld", line);
    const char *const extra[] = {num, field, reason};
    return cb_csv_write_fields(&rj->w, extra, 3);
}

int cb_rejects_close(cb_rejects *rj, cb_err *err)
{
    int rc = 0;
    if (rj->to_file) {
        if (write_header(rj) < 0) {
            cb_output_abort(&rj->file);
            rc = cb_err_sys(err, EX_IOERR, "cannot write the rejects file");
        } else {
            rc = cb_output_close(&rj->file, err);
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
        cb_output_abort(&rj->file);
    rj->to_file = 0;
    cb_header_free(rj->header);
    rj->header = NULL;
}
