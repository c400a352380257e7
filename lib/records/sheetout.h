/* Where a program's table goes: CSV (the contract's: UTF-8, LF, canonical
 * names), CSV for Excel (--excel-csv: a UTF-8 BOM so Excel reads the
 * Vietnamese right, Vietnamese column labels, CRLF), or an Excel workbook
 * when the file is named *.xlsx (one sheet a table, Vietnamese labels,
 * dates as dates: lib/xlsx). Stdout, a named file written atomically, or a
 * device written in place, as lib/atomic's cb_output. */
#ifndef CB_SHEETOUT_H
#define CB_SHEETOUT_H

#include "atomic.h"
#include "cb_err.h"
#include "csvio.h"
#include "record.h"
#include "xlsx.h"

typedef enum cb_sheet_format { CB_SHEET_CSV, CB_SHEET_EXCEL_CSV, CB_SHEET_XLSX } cb_sheet_format;

typedef struct cb_sheet_out {
    cb_sheet_format fmt;
    cb_output out;          /* the CSV forms */
    cb_csv_writer w;
    cb_xlsx_writer *x;
    const char **row;       /* a record's fields, for the workbook */
    size_t rowcap;
    int tables;             /* tables begun */
} cb_sheet_out;

/* Whether path names a workbook (ends in .xlsx, any case). */
int cb_sheet_path_is_xlsx(const char *path);
/* path NULL or "-": stdout (not for a workbook: EX_USAGE). */
int cb_sheet_open(cb_sheet_out *o, const char *path, int excel_csv, cb_lang lang, cb_err *err);
/* Begins a table with these columns (canonical names): a new sheet named
 * sheet in a workbook; in CSV the header line (only the first table has
 * one: later tables' rows follow the first's). */
int cb_sheet_begin(cb_sheet_out *o, const char *sheet, const char *const *names, size_t n, cb_err *err);
int cb_sheet_begin_header(cb_sheet_out *o, const char *sheet, const cb_header *h, cb_err *err);
int cb_sheet_fields(cb_sheet_out *o, const char *const *fields, size_t n, cb_err *err);
/* Fields 0..n-1 of rec (missing ones empty). */
int cb_sheet_record(cb_sheet_out *o, const cb_record *rec, size_t n, cb_err *err);
/* The stream of a CSV output (to copy CSV text in as it is), NULL for a
 * workbook. */
FILE *cb_sheet_fp(cb_sheet_out *o);
/* Commits the file; 0, or -1 (nothing is left half-written). */
int cb_sheet_close(cb_sheet_out *o, cb_err *err);
void cb_sheet_abort(cb_sheet_out *o);

#endif
