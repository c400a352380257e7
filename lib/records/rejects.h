/* The rejects channel of the contract: a record a program cannot accept is
 * written whole, plus reject_line, reject_field and reject_reason, to the
 * --rejects file (CSV, or a workbook for FILE.xlsx; atomically; a device
 * such as /dev/null is written in place, never renamed over), or, without --rejects, reported as one
 * diagnostic line `prog: FILE:LINE: reason` on the stream the program gives. */
#ifndef CB_REJECTS_H
#define CB_REJECTS_H

#include <stdio.h>

#include "atomic.h"
#include "sheetout.h"
#include "cb_err.h"
#include "csvio.h"
#include "record.h"

typedef struct cb_rejects {
    const char *prog;
    FILE *diag;
    cb_sheet_out sink;       /* CSV, CSV for Excel or a workbook (FILE.xlsx) */
    int to_file;
    int header_written;
    cb_header *header;       /* columns of the records, without reject_* */
    cb_err write_err;
    unsigned long count;
} cb_rejects;

/* path NULL: diagnostics on diag. A path ending in .xlsx gets a workbook
 * (lib/sheetout). */
int cb_rejects_open(cb_rejects *rj, const char *prog, const char *path, FILE *diag, cb_err *err);
/* The same, as CSV for Excel when excel_csv (BOM, Vietnamese labels, CRLF),
 * a workbook's own messages in lang. */
int cb_rejects_open_as(cb_rejects *rj, const char *prog, const char *path, int excel_csv, cb_lang lang,
                       FILE *diag, cb_err *err);
/* The columns of the records that will be rejected (copied). */
int cb_rejects_set_header(cb_rejects *rj, const cb_header *h);
/* rec may be NULL (nothing readable); field may be NULL or "". */
int cb_rejects_add(cb_rejects *rj, const cb_record *rec, const char *input, long line,
                   const char *field, const char *reason);
int cb_rejects_close(cb_rejects *rj, cb_err *err);
void cb_rejects_abort(cb_rejects *rj);

#endif
