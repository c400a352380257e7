/* Reading a ledger file back: the issuance ledger, the request ledger and
 * the like are CSV files one writer appends to, read whole at open by
 * column name. This is that read loop, written once: the named columns
 * are found in the header (a missing one is "FILE:1: not a WHAT: no
 * column C"), each row's fields are handed over in the order asked for,
 * and a line the CSV reader cannot make sense of is "FILE:LINE: damaged
 * ledger line: ...", EX_DATAERR. */
#ifndef CB_LEDGERFILE_H
#define CB_LEDGERFILE_H

#include <stddef.h>

#include "cb_err.h"

/* One row: fields[i] is column cols[i] ("" where an optional column is
 * absent). 0 to go on, or -1 with err set to stop the read. */
typedef int (*cb_ledger_row_fn)(void *ctx, const char *const *fields, long line, cb_err *err);

/* How to read (flags): CB_LEDGER_EMPTY_OK, a file with no bytes (or only
 * a BOM) is zero rows, for a reader that only looks up what was done (a
 * writer makes the header itself and must not append under a BOM alone:
 * to it, such a file has none of the columns). */
enum { CB_LEDGER_EMPTY_OK = 1 };

/* Reads path row by row. Bit i of optional set: column cols[i] may be
 * absent. what names the kind of file in messages ("ledger", "request
 * ledger"). 0, or -1 with err set (the callback's error, or the read's). */
int cb_ledger_file_read(const char *path, const char *what, const char *const *cols, size_t ncols,
                        unsigned long optional, int flags, cb_ledger_row_fn row, void *ctx,
                        cb_err *err);

#endif
