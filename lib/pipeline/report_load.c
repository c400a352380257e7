/* The report's counting: one function per kind of input file, each binding
 * the columns it needs by name and adding each record to the figures of
 * report_model.h; then the orderings the page shows (report.h says what is
 * counted). */
#include <stdlib.h>
#include <string.h>

#include "forms.h"
#include "report_model.h"
#include "serial.h"
#include "strbuf.h"

static int oom(cb_err *err)
{
    return cb_err_sys(err, EX_OSERR, "out of memory");
}

/* A request column by canonical name, whatever label the file used (the
 * rejects keep the header of the forms as the clerk sent them). */
static int find_canon(const cb_header *h, const char *name)
{
    int c = cb_header_find(h, name);
    for (size_t i = 0; c < 0 && i < h->n; i++) {
        const char *canon = cb_forms_canonical(h->names[i]);
        if (canon != NULL && strcmp(canon, name) == 0)
            c = (int)i;
    }
    return c;
}

/* ---- requests: valid, proposed, rejected ---- */

typedef struct req_cols {
    enum rp_kind kind;
    int id, full_name, org_name, agency, agency_key, agency_name, old_serial;
    int field, reason, line;
} req_cols;

static int bind_requests(cb_report *r, const cb_header *h, const char *path, void *ctx,
                         cb_err *err)
{
    (void)r;
    req_cols *c = ctx;
    c->id = find_canon(h, "request_id");
    c->full_name = find_canon(h, "full_name");
    c->org_name = find_canon(h, "org_name");
    c->agency = find_canon(h, "agency");
    c->agency_key = cb_header_find(h, "agency_key");
    c->agency_name = cb_header_find(h, "agency_name");
    c->old_serial = find_canon(h, "old_serial");
    c->field = cb_header_find(h, "reject_field");
    c->reason = cb_header_find(h, "reject_reason");
    c->line = cb_header_find(h, "reject_line");
    if (c->agency < 0 && c->agency_key < 0)
        return cb_err_set(err, EX_DATAERR, "%s:1: no column 'agency' or 'agency_key'", path);
    if (c->kind == RP_REJECTED && c->reason < 0)
        return cb_err_set(err, EX_DATAERR, "%s:1: no column 'reject_reason'", path);
    return 0;
}

static const char *col(const cb_record *rec, int c)
{
    return c >= 0 ? cb_record_get(rec, c) : "";
}

static int add_reason(cb_report *r, const char *field, const char *reason, cb_err *err)
{
    for (size_t i = 0; i < r->nreason; i++)
        if (strcmp(r->reason[i].field, field) == 0) {
            r->reason[i].count++;
            return 0;
        }
    if (cb_report_grow(&r->reason, r->nreason, &r->capreason, sizeof *r->reason) < 0)
        return oom(err);
    rp_reason *g = &r->reason[r->nreason];
    g->field = strdup(field);
    g->example = strdup(reason);
    g->count = 1;
    if (g->field == NULL || g->example == NULL) {
        free(g->field);
        free(g->example);
        return oom(err);
    }
    r->nreason++;
    return 0;
}

static int add_reject(cb_report *r, const cb_record *rec, const req_cols *c, size_t agency,
                      cb_err *err)
{
    if (cb_report_grow(&r->rej, r->nrej, &r->caprej, sizeof *r->rej) < 0)
        return oom(err);
    const char *name = col(rec, c->full_name);
    if (*name == '\0')
        name = col(rec, c->org_name);
    rp_reject *j = &r->rej[r->nrej];
    j->id = strdup(col(rec, c->id));
    j->name = strdup(name);
    j->field = strdup(col(rec, c->field));
    j->reason = strdup(col(rec, c->reason));
    j->line = strdup(col(rec, c->line));
    j->agency = agency;
    if (!j->id || !j->name || !j->field || !j->reason || !j->line) {
        free(j->line);
        free(j->id);
        free(j->name);
        free(j->field);
        free(j->reason);
        return oom(err);
    }
    r->nrej++;
    return add_reason(r, j->field, j->reason, err);
}

static int one_request(cb_report *r, const cb_record *rec, const char *path, void *ctx,
                       cb_err *err)
{
    (void)path;
    const req_cols *c = ctx;
    rp_agency *a = cb_report_request_agency(r, rec, c->agency_key, c->agency_name, c->agency, err);
    if (a == NULL)
        return -1;
    switch (c->kind) {
    case RP_VALID:
        a->received++;
        return cb_report_mark_on_file(r, col(rec, c->old_serial), err);
    case RP_PROPOSED:
        a->proposed++;
        return cb_report_mark_on_file(r, col(rec, c->old_serial), err);
    case RP_REJECTED:
        a->received++;
        a->rejected++;
        return add_reject(r, rec, c, (size_t)(a - r->ag), err);
    }
    return 0;
}

int cb_report_load_requests(cb_report *r, const char *path, enum rp_kind kind, cb_err *err)
{
    req_cols c = {.kind = kind};
    return cb_report_each(r, path, bind_requests, one_request, &c, err);
}

/* ---- the province's request ledger ---- */

/* One event of the ledger (h15's state/requests.csv: recorded_at, night,
 * event, request_id, old_serial, detail), kept until the whole file is
 * read: whether a request is on file depends on its last event. */
typedef struct ledger_row {
    char *req;           /* request_id, or "#" and the serial's key */
    char serial[CB_SERIAL_MAX];   /* key of old_serial, "" when none */
    char *agency_key;    /* from an agency_key or agency column, else NULL */
    enum { LR_OTHER, LR_REJECTED, LR_RENEWED, LR_DELIVERED } kind;
} ledger_row;

typedef struct ledger_cols {
    int id, event, agency, agency_key, old_serial;
    ledger_row *rows;
    size_t n, cap;
} ledger_cols;

static int bind_ledger(cb_report *r, const cb_header *h, const char *path, void *ctx,
                       cb_err *err)
{
    (void)r;
    ledger_cols *c = ctx;
    static const char *const names[] = {"event", "status", "state"};
    c->event = -1;
    for (size_t i = 0; i < 3 && c->event < 0; i++)
        c->event = cb_header_find(h, names[i]);
    c->id = cb_header_find(h, "request_id");
    c->agency = find_canon(h, "agency");
    c->agency_key = cb_header_find(h, "agency_key");
    c->old_serial = find_canon(h, "old_serial");
    if (c->event < 0)
        return cb_err_set(err, EX_DATAERR, "%s:1: no column 'event' (or 'status', 'state')", path);
    return 0;
}

static int one_ledger_row(cb_report *r, const cb_record *rec, const char *path, void *ctx,
                          cb_err *err)
{
    (void)path;
    ledger_cols *c = ctx;
    if (cb_report_grow(&c->rows, c->n, &c->cap, sizeof *c->rows) < 0)
        return oom(err);
    ledger_row *row = &c->rows[c->n++];    /* counted now: freed with the others */
    memset(row, 0, sizeof *row);
    if (cb_serial_key(col(rec, c->old_serial), row->serial, sizeof row->serial) < 0)
        row->serial[0] = '\0';
    const char *ev = col(rec, c->event), *id = col(rec, c->id);
    row->kind = !strcmp(ev, "rejected")    ? LR_REJECTED
                : !strcmp(ev, "renewed")   ? LR_RENEWED
                : !strcmp(ev, "delivered") ? LR_DELIVERED
                                           : LR_OTHER;
    size_t n = strlen(id) + strlen(row->serial) + 2;
    if ((row->req = malloc(n)) == NULL)
        return oom(err);
    snprintf(row->req, n, *id ? "%s" : "#%s", *id ? id : row->serial);
    const char *key = col(rec, c->agency_key);
    if (*key == '\0' && c->agency >= 0 && (key = cb_report_agency_key(r, col(rec, c->agency), err)) == NULL)
        return -1;
    if (*key != '\0' && (row->agency_key = strdup(key)) == NULL)
        return oom(err);
    return 0;
}

/* A renewal or delivery, counted for its agency: the ledger's own agency
 * column, else the agency of the certificate it renews (settled when the
 * certificates are read), else no agency. */
static int count_done(cb_report *r, const ledger_row *row, cb_err *err)
{
    if (row->agency_key == NULL && row->serial[0] != '\0') {
        cb_strmap *m = row->kind == LR_RENEWED ? &r->pending_renewed : &r->pending_delivered;
        return cb_strmap_put(m, row->serial, "") < 0 ? oom(err) : 0;
    }
    rp_agency *a = cb_report_agency(r, row->agency_key ? row->agency_key : "", NULL, 0, err);
    if (a == NULL)
        return -1;
    if (row->kind == LR_RENEWED)
        a->renewed++;
    else
        a->delivered++;
    return 0;
}

/* From the last event back: a request's last event says whether it is on
 * file (anything but a rejection); each renewal and delivery counts once. */
static int settle_ledger(cb_report *r, const ledger_cols *c, cb_err *err)
{
    cb_strmap last, counted;
    cb_strmap_init(&last);
    cb_strmap_init(&counted);
    int rc = 0;
    for (size_t i = c->n; rc == 0 && i-- > 0;) {
        const ledger_row *row = &c->rows[i];
        if (cb_strmap_get(&last, row->req) == NULL) {
            if (cb_strmap_put(&last, row->req, "") < 0)
                rc = oom(err);
            else if (row->kind != LR_REJECTED && row->serial[0] != '\0')
                rc = cb_report_mark_on_file(r, row->serial, err);
        }
        if (rc == 0 && (row->kind == LR_RENEWED || row->kind == LR_DELIVERED)) {
            char k[2] = {row->kind == LR_RENEWED ? 'R' : 'D', '\0'};
            cb_buf b = {0};
            if (cb_buf_add(&b, k, 1) < 0 || cb_buf_add(&b, row->req, strlen(row->req)) < 0)
                rc = oom(err);
            else if (cb_strmap_get(&counted, b.s) == NULL)
                rc = cb_strmap_put(&counted, b.s, "") < 0 ? oom(err) : count_done(r, row, err);
            cb_buf_free(&b);
        }
    }
    cb_strmap_clear(&last);
    cb_strmap_clear(&counted);
    return rc;
}

int cb_report_load_ledger(cb_report *r, const char *path, cb_err *err)
{
    ledger_cols c;
    memset(&c, 0, sizeof c);
    int rc = cb_report_each(r, path, bind_ledger, one_ledger_row, &c, err);
    if (rc == 0)
        rc = settle_ledger(r, &c, err);
    for (size_t i = 0; i < c.n; i++) {
        free(c.rows[i].req);
        free(c.rows[i].agency_key);
    }
    free(c.rows);
    return rc;
}

/* ---- notify's logs ---- */

static int bind_notices(cb_report *r, const cb_header *h, const char *path, void *ctx,
                        cb_err *err)
{
    (void)r;
    int *c = ctx;
    return (*c = cb_report_need_col(h, path, "status", err)) < 0 ? -1 : 0;
}

static int one_notice(cb_report *r, const cb_record *rec, const char *path, void *ctx,
                      cb_err *err)
{
    (void)path;
    (void)err;
    const char *st = cb_record_get(rec, *(int *)ctx);
    if (strcmp(st, "sent") == 0)
        r->notices_sent++;
    else if (strcmp(st, "failed") == 0)
        r->notices_failed++;
    return 0;
}

int cb_report_load_notices(cb_report *r, const char *path, cb_err *err)
{
    int c = -1;
    return cb_report_each(r, path, bind_notices, one_notice, &c, err);
}

/* ---- the certificates ---- */

typedef struct cert_cols {
    int serial, cn, o, ou, expiry, status;
} cert_cols;

static int bind_certs(cb_report *r, const cb_header *h, const char *path, void *ctx,
                      cb_err *err)
{
    (void)r;
    cert_cols *c = ctx;
    c->serial = cb_header_find(h, "serial");
    c->cn = cb_header_find(h, "subject_cn");
    c->o = cb_header_find(h, "subject_o");
    c->ou = cb_header_find(h, "subject_ou");
    if ((c->expiry = cb_report_need_col(h, path, "expiry_date", err)) < 0 ||
        (c->status = cb_report_need_col(h, path, "status", err)) < 0)
        return -1;
    return 0;
}

static int add_due(cb_report *r, const cb_record *rec, const cert_cols *c, size_t agency,
                   cb_date expiry, int days, cb_err *err)
{
    if (cb_report_grow(&r->due, r->ndue, &r->capdue, sizeof *r->due) < 0)
        return oom(err);
    rp_due *d = &r->due[r->ndue];
    d->name = strdup(col(rec, c->cn));
    d->unit = strdup(col(rec, c->ou));
    d->serial = strdup(col(rec, c->serial));
    d->agency = agency;
    d->expiry = expiry;
    d->days = days;
    if (!d->name || !d->unit || !d->serial) {
        free(d->name);
        free(d->unit);
        free(d->serial);
        return oom(err);
    }
    r->ndue++;
    return 0;
}

/* A certificate still valid today: counted in its windows, its agency and
 * its forecast week; a holder to chase when due and without a request. */
static int valid_cert(cb_report *r, const cb_record *rec, const cert_cols *c, cb_date expiry,
                      int days, cb_err *err)
{
    const char *o = col(rec, c->o);
    const char *key = cb_report_agency_key(r, o, err);
    rp_agency *a = key ? cb_report_agency(r, key, o, RP_NAME_CERT, err) : NULL;
    if (a == NULL)
        return -1;
    r->valid++;
    a->holders++;
    if (days <= RP_DUE_DAYS) {
        r->le60++;
        a->due60++;
        r->le30 += days <= 30;
        r->le7 += days <= 7;
    }
    if (days / 7 < RP_WEEKS) {
        a->weeks[days / 7]++;
        a->in_window++;
        r->week_total[days / 7]++;
    }
    if (days <= RP_DUE_DAYS && !cb_report_is_on_file(r, col(rec, c->serial)))
        return add_due(r, rec, c, (size_t)(a - r->ag), expiry, days, err);
    return 0;
}

/* The ledger's renewals and deliveries with no agency of their own go to
 * the agency of the certificate they renew, whatever its status now. */
static int settle_done(cb_report *r, const cb_record *rec, const cert_cols *c, cb_err *err)
{
    char key[CB_SERIAL_MAX], mk[CB_SERIAL_MAX + 1];
    if ((cb_strmap_count(&r->pending_renewed) == 0 && cb_strmap_count(&r->pending_delivered) == 0) ||
        cb_serial_key(col(rec, c->serial), key, sizeof key) < 0)
        return 0;
    for (int kind = 0; kind < 2; kind++) {
        const cb_strmap *m = kind ? &r->pending_delivered : &r->pending_renewed;
        snprintf(mk, sizeof mk, "%c%s", kind ? 'D' : 'R', key);
        if (cb_strmap_get(m, key) == NULL || cb_strmap_get(&r->matched, mk) != NULL)
            continue;
        const char *o = col(rec, c->o), *akey = cb_report_agency_key(r, o, err);
        rp_agency *a = akey ? cb_report_agency(r, akey, o, RP_NAME_CERT, err) : NULL;
        if (a == NULL || cb_strmap_put(&r->matched, mk, "") < 0)
            return a == NULL ? -1 : oom(err);
        if (kind)
            a->delivered++, r->matched_delivered++;
        else
            a->renewed++, r->matched_renewed++;
    }
    return 0;
}

static int one_cert(cb_report *r, const cb_record *rec, const char *path, void *ctx,
                    cb_err *err)
{
    const cert_cols *c = ctx;
    if (settle_done(r, rec, c, err) < 0)
        return -1;
    const char *st = cb_record_get(rec, c->status);
    cb_date expiry;
    int judged = strcmp(st, "valid") == 0 || strcmp(st, "expiring") == 0 ||
                 strcmp(st, "expired") == 0;
    if (judged && cb_date_parse(cb_record_get(rec, c->expiry), &expiry) < 0)
        return cb_report_problem_add(r, path, rec->line,
                                     r->lang == CB_LANG_VI ? "ngày hết hạn (expiry_date) không đọc được"
                                           : "expiry_date is not a date", err);
    if (judged) {
        r->total++;
        int days = (int)(expiry - r->today);
        if (days < 0) {
            r->expired++;
            return 0;
        }
        return valid_cert(r, rec, c, expiry, days, err);
    }
    long *n = strcmp(st, "revoked") == 0         ? &r->revoked
              : strcmp(st, "untrusted") == 0     ? &r->untrusted
              : strcmp(st, "not_yet_valid") == 0 ? &r->not_yet_valid
                                                 : NULL;
    if (n == NULL)
        return cb_report_problem_add(r, path, rec->line,
                                     r->lang == CB_LANG_VI ? "trạng thái (status) không rõ" : "unknown status", err);
    (*n)++;
    r->total++;
    return 0;
}

int cb_report_load_certs(cb_report *r, const char *path, cb_err *err)
{
    cert_cols c;
    return cb_report_each(r, path, bind_certs, one_cert, &c, err);
}

/* ---- orderings ---- */

static int by_agency_name(const void *a, const void *b)
{
    const rp_agency *x = *(const rp_agency *const *)a, *y = *(const rp_agency *const *)b;
    return strcmp(x->key, y->key);
}

static int by_window(const void *a, const void *b)
{
    const rp_agency *x = *(const rp_agency *const *)a, *y = *(const rp_agency *const *)b;
    if (x->in_window != y->in_window)
        return x->in_window > y->in_window ? -1 : 1;
    return strcmp(x->key, y->key);
}

static int by_days(const void *a, const void *b)
{
    const rp_due *x = a, *y = b;
    if (x->days != y->days)
        return x->days < y->days ? -1 : 1;
    int c = strcmp(x->agency_key, y->agency_key);
    return c ? c : strcmp(x->name, y->name);
}

static int by_count(const void *a, const void *b)
{
    const rp_reason *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->field, y->field);
}

/* The agencies in an order, as indexes into r->ag. */
static int agency_order(cb_report *r, int (*cmp)(const void *, const void *), size_t *out)
{
    const rp_agency **p = malloc((r->nag + 1) * sizeof *p);
    if (p == NULL)
        return -1;
    for (size_t i = 0; i < r->nag; i++)
        p[i] = &r->ag[i];
    if (r->nag > 1)
        qsort(p, r->nag, sizeof *p, cmp);
    for (size_t i = 0; i < r->nag; i++)
        out[i] = (size_t)(p[i] - r->ag);
    free(p);
    return 0;
}

int cb_report_finish_model(cb_report *r, cb_err *err)
{
    long unmatched_r = (long)cb_strmap_count(&r->pending_renewed) - r->matched_renewed;
    long unmatched_d = (long)cb_strmap_count(&r->pending_delivered) - r->matched_delivered;
    if (unmatched_r > 0 || unmatched_d > 0) {
        rp_agency *a = cb_report_agency(r, "", NULL, 0, err);    /* no agency known */
        if (a == NULL)
            return -1;
        a->renewed += unmatched_r;
        a->delivered += unmatched_d;
    }
    size_t *by_w = malloc((r->nag + 1) * sizeof *by_w);
    r->order = malloc((r->nag + 1) * sizeof *r->order);
    if (by_w == NULL || r->order == NULL) {
        free(by_w);
        return oom(err);
    }
    if (agency_order(r, by_agency_name, r->order) < 0 || agency_order(r, by_window, by_w) < 0) {
        free(by_w);
        return oom(err);
    }
    for (size_t i = 0; i < r->ndue; i++)
        r->due[i].agency_key = r->ag[r->due[i].agency].key;
    if (r->ndue > 1)
        qsort(r->due, r->ndue, sizeof *r->due, by_days);
    if (r->nreason > 1)
        qsort(r->reason, r->nreason, sizeof *r->reason, by_count);
    for (size_t i = 0; i < r->nag; i++) {
        const rp_agency *a = &r->ag[by_w[i]];
        if (a->in_window == 0)
            break;
        if (r->ntop < RP_TOP_AGENCIES) {
            r->top[r->ntop++] = by_w[i];
            continue;
        }
        r->have_rest = 1;
        for (int w = 0; w < RP_WEEKS; w++)
            r->rest_weeks[w] += a->weeks[w];
    }
    free(by_w);
    return 0;
}
