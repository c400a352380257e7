/* Reading a ledger file back: see ledgerfile.h. */
#include "ledgerfile.h"

#include <stdlib.h>

#include "csvio.h"
#include "record.h"

static int find_columns(const cb_header *h, const char *path, const char *what,
                        const char *const *cols, size_t ncols, unsigned long optional, int *col,
                        cb_err *err)
{
    for (size_t i = 0; i < ncols; i++)
        if ((col[i] = cb_header_find(h, cols[i])) < 0 && !(i < 8 * sizeof optional && (optional >> i) & 1))
            return cb_err_set(err, EX_DATAERR, "%s:1: not a %s: no column %s", path, what, cols[i]);
    return 0;
}

static int each_row(cb_csv_reader *r, const char *path, const int *col, size_t ncols,
                    cb_ledger_row_fn row, void *ctx, cb_err *err)
{
    cb_record *rec = cb_record_new();
    const char **f = calloc(ncols + 1, sizeof *f);
    int rc = rec && f ? 0 : cb_err_set(err, EX_OSERR, "out of memory"), st;
    while (rc == 0 && (st = cb_csv_reader_next(r, rec, err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            rc = -1;
            break;
        }
        if (st == CB_CSV_MALFORMED) {
            rc = cb_err_set(err, EX_DATAERR, "%s:%ld: damaged ledger line: %s", path, rec->line,
                            err->msg);
            break;
        }
        for (size_t i = 0; i < ncols; i++)
            f[i] = cb_record_get(rec, col[i]);
        rc = row(ctx, f, rec->line, err);
    }
    free(f);
    cb_record_free(rec);
    return rc < 0 ? -1 : 0;
}

int cb_ledger_file_read(const char *path, const char *what, const char *const *cols, size_t ncols,
                        unsigned long optional, int flags, cb_ledger_row_fn row, void *ctx,
                        cb_err *err)
{
    char *files[1] = {(char *)path};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        return -1;
    if ((flags & CB_LEDGER_EMPTY_OK) && cb_csv_reader_empty(r)) {
        cb_csv_reader_close(r);
        return 0;
    }
    int *col = calloc(ncols + 1, sizeof *col);
    int rc = col ? 0 : cb_err_set(err, EX_OSERR, "out of memory");
    if (rc == 0)
        rc = find_columns(cb_csv_reader_header(r), path, what, cols, ncols, optional, col, err);
    if (rc == 0)
        rc = each_row(r, path, col, ncols, row, ctx, err);
    free(col);
    cb_csv_reader_close(r);
    return rc;
}
