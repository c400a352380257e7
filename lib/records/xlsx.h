/* Excel workbooks (.xlsx, Office Open XML SpreadsheetML), the files clerks
 * exchange: read one sheet row by row, and write record tables as
 * workbooks.
 *
 * Reading: libzip opens the archive, libxml2's streaming reader
 * (xmlTextReader) walks the sheet, so memory holds the shared strings and
 * the styles, not the rows. Cells come back as text the way the programs
 * read CSV: shared and inline strings as written, numbers without ".0" or
 * an exponent, numbers in a date format as YYYY-MM-DD (1900 and 1904 date
 * systems), booleans TRUE/FALSE; a merged range gives its value to every
 * cell of the range (a title over several columns, an agency written once
 * for several rows). Vietnamese sheets have title rows above the header
 * ("DANH SÁCH ĐỀ NGHỊ GIA HẠN..."): cb_xlsx_find_header picks the header
 * row among the first rows by the labels it knows.
 *
 * Writing (libxlsxwriter): one or more sheets of a header and records,
 * the header row bold and frozen, columns as wide as their text, the
 * columns a caller marks as dates written as Excel dates and counts as
 * numbers, everything else, identity numbers included, as text. The file
 * is written beside its name and renamed into place. */
#ifndef CB_XLSX_H
#define CB_XLSX_H

#include <stddef.h>

#include "cb_err.h"
#include "lang.h"

/* ---- reading ---- */

/* Whether a file starting with these bytes is a zip archive (a workbook
 * is one). */
int cb_xlsx_is_zip(const void *head, size_t n);

typedef struct cb_xlsx cb_xlsx;

typedef struct cb_xlsx_cell {
    char *s;            /* NUL-terminated, "" when empty */
    size_t len, cap;
    int number;         /* stored as a number (not a date): may have lost leading zeros */
} cb_xlsx_cell;

typedef struct cb_xlsx_row {
    long r;             /* row number in the sheet, 1-based */
    size_t n;           /* cells 0..n-1 (column A is 0) */
    cb_xlsx_cell *c;
    size_t cap;
} cb_xlsx_row;

/* Opens the workbook in data[0..len) (taken over: freed by cb_xlsx_close,
 * also on failure) and its sheet named sheet, or the first sheet when sheet
 * is NULL. name is the file's name, for messages, which are in lang. Not
 * a workbook, or no such sheet: EX_DATAERR. */
cb_xlsx *cb_xlsx_open_mem(void *data, size_t len, const char *name, const char *sheet, cb_lang lang,
                          cb_err *err);
void cb_xlsx_close(cb_xlsx *x);
/* The name of the sheet being read. */
const char *cb_xlsx_sheet_name(const cb_xlsx *x);

/* Looks at the first maxrows rows that have a value and makes the one with
 * the most cells known(label) says are column labels the header: the next
 * row cb_xlsx_next gives, the rows above it skipped. With fewer than two
 * known labels in every row, the first row is the header. 0, or -1. */
int cb_xlsx_find_header(cb_xlsx *x, int (*known)(void *ctx, const char *label), void *ctx, int maxrows,
                        cb_err *err);

/* The next row that has a value: 1 with *row set (valid until the next
 * call), 0 at the end of the sheet, -1 on error. */
int cb_xlsx_next(cb_xlsx *x, const cb_xlsx_row **row, cb_err *err);

/* "D7": the cell of column col (0 = A) in row r. buf: 16 bytes. */
void cb_xlsx_cell_name(size_t col, long r, char *buf);

/* ---- writing ---- */

typedef struct cb_xlsx_writer cb_xlsx_writer;

enum cb_xlsx_kind { CB_XLSX_TEXT, CB_XLSX_DATE, CB_XLSX_NUMBER };

/* A workbook to be written to path (atomically, at cb_xlsx_writer_close),
 * its messages in lang. */
cb_xlsx_writer *cb_xlsx_writer_new(const char *path, cb_lang lang, cb_err *err);
/* Starts a sheet (name cut to Excel's 31 characters, made unique) whose
 * header row is labels[0..n); kinds[i] says how column i's values are
 * written (NULL: all text). Dates are YYYY-MM-DD values (others are written
 * as text); numbers whole numbers. */
int cb_xlsx_writer_sheet(cb_xlsx_writer *w, const char *name, const char *const *labels,
                         const enum cb_xlsx_kind *kinds, size_t n, cb_err *err);
/* One row of the current sheet. */
int cb_xlsx_writer_row(cb_xlsx_writer *w, const char *const *fields, size_t n, cb_err *err);
/* Writes the workbook and renames it into place; 0, or -1. Frees w. */
int cb_xlsx_writer_close(cb_xlsx_writer *w, cb_err *err);
/* Frees w, writing nothing. */
void cb_xlsx_writer_abort(cb_xlsx_writer *w);

#endif
