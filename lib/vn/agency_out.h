/* aggregate-by-agency's rules, by column name: how a record is grouped,
 * and what is written from the per-agency table (the summary, its merge,
 * the grouped detail and the per-agency files).
 *
 * The summary format is written once here: one row per
 * agency (agency_key, agency_code, agency, province, a count per
 * request_type x subject_type, total, earliest_expiry, earliest_due, the
 * spellings seen) and a TOTAL row; and the reading back of such rows for
 * --merge, by column name, so that the sum of the summaries of the parts
 * equals the summary of the whole. */
#ifndef CB_AGENCY_OUT_H
#define CB_AGENCY_OUT_H

#include <stdio.h>

#include "agency.h"
#include "cb_err.h"
#include "date.h"
#include "record.h"
#include "sheetout.h"
#include "strmap.h"

/* How a record is grouped: by agency_key where given (validate-form's:
 * the registry's code with --agencies, else the normalised name), else by
 * agency_code (letter case aside: codes like 000.00.15.H41 are written
 * either way), else by the agency name normalised (cb_agency_key); or by
 * the values of one column (`--by`, normalised with cb_text_key). The
 * spelling kept for display is the registry's agency_name where the record
 * has one, else the agency as written, cleaned (cb_text_clean). Each
 * distinct value is normalised once. */
typedef struct cb_agency_grouper {
    const char *by;
    int c_by, c_code, c_key, c_agency, c_name;
    cb_strmap spelling_of;    /* a value as typed -> its cleaned spelling */
    cb_strmap key_of;         /* a value as typed -> its grouping key */
    char codekey[256];
} cb_agency_grouper;

/* Finds the columns in h (by NULL: the agency columns). EX_DATAERR when
 * the --by column is missing, or none of agency_code, agency_key and
 * agency is there. */
int cb_agency_grouper_bind(cb_agency_grouper *g, const cb_header *h, const char *by, cb_err *err);
/* The record's key, spelling and code (the agency's code when known: its
 * agency_code, or an agency_key that is a registry code; else ""; key NULL
 * or "" when the record names no agency), valid until the next call. 0, or
 * -1 when memory ran out. */
int cb_agency_group(cb_agency_grouper *g, const cb_record *rec, const char **key,
                    const char **spelling, const char **code);
/* The column a record naming no agency is at fault in. */
const char *cb_agency_group_field(const cb_agency_grouper *g);
void cb_agency_grouper_free(cb_agency_grouper *g);

enum { CB_AGSUM_NCOLS = 4 + CB_AG_NCOUNTS + 4 };
extern const char *const cb_agsum_columns[CB_AGSUM_NCOLS];

/* Where each summary column is in an input header. */
typedef struct cb_agsum_cols {
    int key, code, agency, province;
    int counts[CB_AG_NCOUNTS];
    int total, earliest_expiry, earliest_due, spellings;
} cb_agsum_cols;

/* Finds every summary column in h; EX_DATAERR naming the first missing. */
int cb_agsum_bind(cb_agsum_cols *c, const cb_header *h, cb_err *err);

/* What one record adds to an agency: province (first one kept), counts,
 * total, and dates (CB_AG_NO_DATE for none; the earliest kept). */
int cb_agency_tally(cb_agency *a, const char *province, const unsigned long *counts,
                    unsigned long total, cb_date expiry, cb_date due);

/* An optional date ("" is none) into *slot, keeping the earliest; -1 when
 * s is not a date. */
int cb_agsum_date_min(cb_date *slot, const char *s);

/* Adds one summary row to t. 1 added; 0 the TOTAL row (left out: the
 * merge computes its own); -1 with err: EX_DATAERR for a row to reject
 * (*field the column at fault, or NULL), EX_OSERR. */
int cb_agsum_merge(cb_agency_table *t, const cb_agsum_cols *c, const cb_record *rec,
                   const char **field, cb_err *err);

/* Writes the header, a row per agency in key order and the TOTAL row.
 * 0, or -1 (a write error, errno; or out of memory, ENOMEM). */
int cb_agsum_write(cb_agency_table *t, FILE *fp);

/* The same into a sheet "Tổng hợp" of a workbook, or as the table of a CSV
 * for Excel (lib/sheetout). */
int cb_agsum_write_sheet(cb_agency_table *t, cb_sheet_out *out, cb_err *err);

/* --detail: the header h (the records' columns and batch_seq), then each
 * agency's records from its spill file, agencies in key order. */
int cb_agency_write_detail(cb_agency_table *t, const cb_header *h, FILE *fp, cb_err *err);
/* --detail into a workbook (the proposal list sent up: the summary sheet,
 * then a sheet per agency with its records) or a CSV for Excel (one
 * table). The spill files must start with the header line h. */
int cb_agency_write_detail_sheets(cb_agency_table *t, const cb_header *h, cb_sheet_out *out, cb_err *err);

/* --split-dir: agency a's records, under header h, into an atomic file in
 * dir named after its code or its name, never a name in used (which
 * gains it); *path is the file's (malloc'ed, NULL on failure). A name
 * from the data is never a path: cb_slug keeps letters and digits and
 * drops '/', '..' and control characters. */
int cb_agency_write_file(cb_agency *a, const cb_header *h, const char *dir, cb_strmap *used,
                         char **path, cb_err *err);

#endif
