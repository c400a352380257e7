/* Where each request stands in procedure 1.010847 (Quyết định
 * 1924/QĐ-BQP) or in a renewal (Nghị định 130/2018 Điều 63), from what the
 * other steps recorded: the request (validate-form's received_date), the
 * issuance ledger (issued_at), the managing agency's effective-time request
 * and the publication ledger (effective_at).
 *
 * A new certificate goes received -> issued (due 3 working days after
 * receipt) -> effective_requested (the agency handed the device over and
 * asked; the Cục owes nothing meanwhile) -> published (due 1 working day
 * after that request), the whole due 4 working days after receipt. A
 * renewal goes received -> issued, due 3 working days after receipt. Working
 * days by the calendar of validate-form (lib/vn/calendar.c). */
#ifndef CB_TRACK_H
#define CB_TRACK_H

#include "cb_err.h"
#include "date.h"

typedef struct cb_track cb_track;

typedef struct cb_track_opts {
    const char *ledger;       /* sign-batch's issuance ledger */
    const char *published;    /* the publication ledger, NULL: beside the ledger */
    const char *holidays;     /* a holidays file, or NULL */
    cb_date today;            /* --as-of */
    int lang_vi;              /* reasons in Vietnamese */
} cb_track_opts;

cb_track *cb_track_open(const cb_track_opts *o, cb_err *err);
/* Effective-time requests not published yet (publish's input: request_id
 * or serial, received_date). */
int cb_track_load_effective(cb_track *t, char *const *files, int nfiles, cb_err *err);
void cb_track_free(cb_track *t);

typedef struct cb_track_row {
    const char *step;          /* received, issued, effective_requested, published */
    char step_at[32];          /* the date or instant it got there */
    char step_due[11];         /* when the Cục must have left the step ("" when it owes nothing) */
    char procedure_due[11];    /* the whole procedure's due date */
    char serial[80], effective_at[32];
    int overdue;               /* past a due date at today, not done */
    int late;                  /* a step done after its due date */
    const char *field;         /* when the request cannot be placed: the column at fault */
} cb_track_row;

/* One request. 0 with row filled; -1 when the request cannot be placed
 * (err says why in a sentence: no received_date, unknown request_type). */
int cb_track_request(cb_track *t, const char *request_id, const char *request_type,
                     const char *received_date, cb_track_row *row, cb_err *err);

#endif
