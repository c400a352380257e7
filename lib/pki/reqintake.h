/* The night's intake of renewal forms (requests intake): the form files,
 * each read on its own so that one bad file is that file's problem, as
 * one CSV stream for validate-form, laid out under the union of their
 * columns (canonical names, FORMS.md) with source_file and source_line
 * appended. Each request is recorded received in the request ledger
 * (reqledger.h), once; a request proposed on an earlier night, by its
 * request_id or by the certificate it renews, is filtered with the
 * reason (DESIGN.md, "State, re-runs and crashes": a request is proposed
 * once across nights). A re-run of the night that proposed it passes it
 * on, so the night's outputs come out the same.
 *
 * It runs over the filter driver's outputs (-o, --rejects, the summary):
 * a file that cannot be read as CSV is one reject; the filtered requests
 * go to their own channel (--filtered, else one line each on the
 * diagnostics stream). */
#ifndef CB_REQINTAKE_H
#define CB_REQINTAKE_H

#include <stdio.h>

#include "cb_err.h"
#include "filter.h"
#include "record.h"

typedef struct cb_reqintake_opts {
    const char *ledger;      /* the request ledger, written */
    const char *night;       /* YYYY-MM-DD, the --as-of day */
    const char *filtered;    /* the filtered requests as CSV; NULL: diagnostics */
    const char *read_list;   /* the files read, one row each (column file); NULL: none */
    FILE *diag;              /* where filtered requests go without a file */
} cb_reqintake_opts;

/* Reads files[0..n) in the order of their base names (sorted in place:
 * wherever each is, incoming or processed by a night re-run, the same
 * night reads the same stream) through f's outputs. The ledger is synced
 * before the outputs are committed: what the output says was received is
 * recorded. Problems are reported through f; returns f's exit code so
 * far (cb_filter_finish ends the run). */
int cb_reqintake_run(cb_filter *f, const cb_reqintake_opts *o, char **files, int n);

/* The union of the columns of files[0..n) (canonical names), so that a
 * file with a column the others lack keeps it; the columns of Forms 03/04
 * when no file has any (every output of a night keeps its header). A file
 * that cannot be opened is passed over. NULL when out of memory. */
cb_header *cb_reqintake_union_header(char *const *files, int n);
/* The union header with source_file and source_line appended. */
cb_header *cb_reqintake_header(char *const *files, int n);
/* 1 when path is a regular file of no bytes (zero records, no header). */
int cb_reqintake_file_is_empty(const char *path);

#endif
