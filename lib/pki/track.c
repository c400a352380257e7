/* Where each request stands: see track.h. */
#include "track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "csvio.h"
#include "ledger.h"
#include "publish.h"
#include "strmap.h"

#define ISSUE_DAYS 3       /* step 2: key pair and certificate */
#define PUBLISH_DAYS 1     /* step 4: publication after the agency's request */
#define PROCEDURE_DAYS 4   /* the whole of 1.010847 */
#define RENEW_DAYS 3       /* Nghị định 130/2018 Điều 63 */

struct cb_track {
    cb_track_opts o;
    cb_publisher *pub;
    cb_calendar *cal;
    cb_strmap effective;   /* request_id -> received_date of its effective-time request */
};

cb_track *cb_track_open(const cb_track_opts *o, cb_err *err)
{
    cb_track *t = calloc(1, sizeof *t);
    if (t == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    t->o = *o;
    cb_pub_opts po = {.ledger = o->ledger, .published = o->published, .read_only = 1};
    if ((t->cal = cb_calendar_new()) == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
    } else if (cb_calendar_load_default(t->cal, err) == 0 &&
               (!o->holidays || cb_calendar_load_file(t->cal, o->holidays, err) == 0) &&
               (t->pub = cb_publisher_open(&po, err)) != NULL) {
        return t;
    }
    cb_track_free(t);
    return NULL;
}

void cb_track_free(cb_track *t)
{
    if (t == NULL)
        return;
    cb_publisher_free(t->pub);
    cb_calendar_free(t->cal);
    cb_strmap_clear(&t->effective);
    free(t);
}

int cb_track_load_effective(cb_track *t, char *const *files, int nfiles, cb_err *err)
{
    cb_csv_reader *r = cb_csv_reader_open(files, nfiles, 0, err);
    if (r == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    int rid = cb_header_find(h, "request_id"), ser = cb_header_find(h, "serial"),
        rec_col = cb_header_find(h, "received_date"), st, rc = 0;
    const cb_ledger *l = cb_publisher_ledger(t->pub);
    cb_record *rec = cb_record_new();
    while (rc == 0 && rec && (st = cb_csv_reader_next(r, rec, err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            rc = -1;
            break;
        }
        if (st != CB_CSV_RECORD)
            continue;  /* publish rejects it; nothing to track */
        const char *id = rid >= 0 ? cb_record_get(rec, rid) : "";
        if (*id == '\0' && ser >= 0 && (id = cb_ledger_find_serial(l, cb_record_get(rec, ser))) == NULL)
            continue;
        if (*id && cb_strmap_put(&t->effective, id, rec_col >= 0 ? cb_record_get(rec, rec_col) : "") < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
    }
    if (rec == NULL)
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

static void due(cb_track *t, cb_date from, int days, char *out)
{
    cb_date_format(cb_calendar_add_workdays(t->cal, from, days), out);
}

/* The date of a date or instant field, or -1 when it is neither. */
static int day_of(const char *s, cb_date *d)
{
    int64_t at;
    if (cb_date_parse(s, d) == 0)
        return 0;
    if (cb_instant_parse(s, &at) < 0)
        return -1;
    *d = cb_date_of_instant(at);
    return 0;
}

/* The steps after issue of a new certificate: the agency's request, then
 * publication. */
static void after_issue(cb_track *t, const char *request_id, cb_track_row *row)
{
    cb_publication pb;
    if (cb_publisher_find(t->pub, row->serial, &pb)) {
        row->step = "published";
        snprintf(row->step_at, sizeof row->step_at, "%s", pb.effective_at);
        snprintf(row->effective_at, sizeof row->effective_at, "%s", pb.effective_at);
        row->step_due[0] = '\0';
        row->late |= strcmp(pb.late, "yes") == 0;
        cb_date done, proc;
        if (day_of(pb.published_at, &done) == 0 && cb_date_parse(row->procedure_due, &proc) == 0)
            row->late |= done > proc;
        return;
    }
    const char *asked = cb_strmap_get(&t->effective, request_id);
    cb_date d;
    if (asked && cb_date_parse(asked, &d) == 0) {
        row->step = "effective_requested";
        cb_date_format(d, row->step_at);
        due(t, d, PUBLISH_DAYS, row->step_due);
    }
}

int cb_track_request(cb_track *t, const char *request_id, const char *request_type,
                     const char *received_date, cb_track_row *row, cb_err *err)
{
    memset(row, 0, sizeof *row);
    cb_date received, when, d;
    int renew = strcmp(request_type, "renew") == 0;
    row->field = "request_type";
    if (!renew && strcmp(request_type, "issue") != 0)
        return cb_err_set(err, EX_DATAERR,
                          t->o.lang_vi ? "loại hồ sơ '%s' không phải issue hay renew"
                                       : "request_type '%s' is neither issue nor renew",
                          request_type);
    row->field = "received_date";
    if (cb_date_parse(received_date, &received) < 0)
        return cb_err_set(err, EX_DATAERR,
                          t->o.lang_vi ? "'%s' không phải ngày tiếp nhận" : "'%s' is not a date of receipt",
                          received_date);
    row->field = NULL;
    row->step = "received";
    cb_date_format(received, row->step_at);
    due(t, received, renew ? RENEW_DAYS : ISSUE_DAYS, row->step_due);
    due(t, received, renew ? RENEW_DAYS : PROCEDURE_DAYS, row->procedure_due);
    const cb_ledger *l = cb_publisher_ledger(t->pub);
    const char *serial = cb_ledger_find_request(l, request_id);
    const char *issued = cb_ledger_issued_at(l, request_id);
    if (serial) {
        snprintf(row->serial, sizeof row->serial, "%s", serial);
        row->step = "issued";
        snprintf(row->step_at, sizeof row->step_at, "%s", issued ? issued : "");
        cb_date step_due;
        cb_date_parse(row->step_due, &step_due);
        row->late = issued && day_of(issued, &when) == 0 && when > step_due;
        row->step_due[0] = '\0';   /* the agency's turn: it owes the hand-over */
        if (!renew)
            after_issue(t, request_id, row);
    }
    int finished = strcmp(row->step, renew ? "issued" : "published") == 0;
    cb_date proc;
    cb_date_parse(row->procedure_due, &proc);
    row->overdue = !finished && ((row->step_due[0] && cb_date_parse(row->step_due, &d) == 0 &&
                                  t->o.today > d) ||
                                 t->o.today > proc);
    return 0;
}
