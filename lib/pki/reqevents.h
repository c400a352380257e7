/* The steps that record a request's events as records pass (requests
 * record, requests returned), as filter-driver steps (filter.h) over the
 * request ledger (reqledger.h). Their inputs are the pipeline's own
 * outputs, so the program sets the driver's damaged_stops: a damaged
 * record stops the step rather than being rejected. An input with no
 * bytes is zero records and an output without a header. The ledger is
 * synced at the end, before the driver commits the output: the records
 * leave once their events are durable.
 *
 *   record    an event for each record, once: its detail given, or a
 *             column of the record; with where_col, only the records
 *             whose column is where_value (the others filtered); with
 *             key_col, a short key for one request and one detail is
 *             appended, so that notify --ledger sends one letter per
 *             request and reason.
 *   returned  split-updates' manifest: a certificate back is renewed,
 *             one delivered (or unchanged: delivered by an earlier run of
 *             this return) passes on with agency_email and agency_name
 *             from the pending requests; the others are filtered. */
#ifndef CB_REQEVENTS_H
#define CB_REQEVENTS_H

#include "cb_err.h"
#include "filter.h"
#include "reqledger.h"
#include "strmap.h"

/* What both steps hold first: the ledger (open for writing), the night
 * the events are recorded on, and the output's header. */
typedef struct cb_reqstep {
    cb_reqledger *l;
    const char *night;
    cb_header *oh;   /* the step's own */
} cb_reqstep;

typedef struct cb_reqrecord {
    cb_reqstep s;
    /* set by the program */
    const char *event;
    const char *detail;          /* the detail of every event, or NULL */
    const char *detail_col;      /* or the column holding each one's */
    const char *where_col, *where_value;
    const char *key_col;
    /* the step's own */
    int c_rid, c_old, c_detail, c_where, c_key;
} cb_reqrecord;

extern const cb_filter_step cb_reqrecord_step;
void cb_reqrecord_clear(cb_reqrecord *k);

/* The key record appends: REQUEST_ID/8 hex digits of the detail's hash. */
void cb_reqrecord_key(const char *request_id, const char *detail, char *out, size_t n);

typedef struct cb_reqreturned {
    cb_reqstep s;
    /* the step's own */
    int c_rid, c_old, c_serial, c_status, c_path, c_em, c_nm;
    cb_strmap email, name;       /* request_id -> the agency's */
} cb_reqreturned;

/* agency_email and agency_name of each pending request (requests pending's
 * output), to address the agencies' letters. */
int cb_reqreturned_load_pending(cb_reqreturned *t, const char *path, cb_err *err);
extern const cb_filter_step cb_reqreturned_step;
void cb_reqreturned_clear(cb_reqreturned *t);

#endif
