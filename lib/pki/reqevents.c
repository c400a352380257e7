/* The steps that record a request's events: see reqevents.h. */
#include "reqevents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "reqintake.h"

static int need_col(const cb_header *h, const char *name, int *col, cb_err *err)
{
    if ((*col = cb_header_find(h, name)) < 0)
        return cb_err_set(err, EX_DATAERR, "the input has no column %s", name);
    return 0;
}

/* Records an event once; nothing for a record without request_id. */
static int record_once(cb_reqledger *l, const char *night, const char *event, const char *rid,
                       const char *old, const char *detail, cb_err *err)
{
    if (!*rid || cb_reqledger_find(l, event, rid, detail))
        return 0;
    cb_reqevent ev = {.night = night, .event = event, .request_id = rid, .old_serial = old, .detail = detail};
    return cb_reqledger_append(l, &ev, err);
}

/* The end of both steps: the events are durable before the records
 * leave (the driver commits the output after). ctx points to a step whose
 * first member is its cb_reqstep. */
static int step_end(void *ctx, cb_filter *f, cb_err *err)
{
    (void)f;
    return cb_reqledger_sync(((cb_reqstep *)ctx)->l, err);
}

static void step_clear(cb_reqstep *s)
{
    cb_header_free(s->oh);
    s->oh = NULL;
}

/* ---- record ---- */

void cb_reqrecord_key(const char *request_id, const char *detail, char *out, size_t n)
{
    snprintf(out, n, "%s/%08lx", request_id, (unsigned long)(cb_str_hash(detail) & 0xffffffffUL));
}

static int record_begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    cb_reqrecord *k = ctx;
    k->c_rid = k->c_detail = k->c_where = k->c_key = -1;
    if (in->n == 0)
        return 0;
    k->c_old = cb_header_find(in, "old_serial");
    if (need_col(in, "request_id", &k->c_rid, err) < 0 ||
        (k->detail_col && need_col(in, k->detail_col, &k->c_detail, err) < 0) ||
        (k->where_col && need_col(in, k->where_col, &k->c_where, err) < 0))
        return -1;
    if ((k->s.oh = cb_header_copy(in)) == NULL || (k->key_col && (k->c_key = cb_header_ensure(k->s.oh, k->key_col)) < 0) ||
        cb_filter_set_header(f, k->s.oh) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

static int record_process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    cb_reqrecord *k = ctx;
    if (k->c_where >= 0 && strcmp(cb_record_get(rec, k->c_where), k->where_value) != 0) {
        cb_filter_drop(f);
        return 0;
    }
    const char *rid = cb_record_get(rec, k->c_rid);
    const char *detail = k->c_detail >= 0 ? cb_record_get(rec, k->c_detail) : k->detail ? k->detail : "";
    if (record_once(k->s.l, k->s.night, k->event, rid, k->c_old >= 0 ? cb_record_get(rec, k->c_old) : "", detail,
                    err) < 0)
        return -1;
    if (k->c_key >= 0) {
        char key[300];
        cb_reqrecord_key(rid, detail, key, sizeof key);
        if (cb_record_set_str(rec, k->c_key, key) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }
    cb_filter_emit(f, rec);
    return 0;
}

const cb_filter_step cb_reqrecord_step = {record_begin, record_process, step_end};

void cb_reqrecord_clear(cb_reqrecord *k)
{
    step_clear(&k->s);
}

/* ---- returned ---- */

static int load_pending_row(cb_reqreturned *t, const cb_record *rec, int c_rid, int c_em, int c_nm)
{
    const char *rid = cb_record_get(rec, c_rid);
    return cb_strmap_put(&t->email, rid, cb_record_get(rec, c_em)) < 0 ||
                   cb_strmap_put(&t->name, rid, cb_record_get(rec, c_nm)) < 0
               ? -1 : 0;
}

int cb_reqreturned_load_pending(cb_reqreturned *t, const char *path, cb_err *err)
{
    char *files[1] = {(char *)path};
    if (cb_reqintake_file_is_empty(path))
        return 0;
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    int c_rid = cb_header_find(h, "request_id"), c_em = cb_header_find(h, "agency_email"),
        c_nm = cb_header_find(h, "agency_name"), st, rc = 0;
    cb_record *rec = cb_record_new();
    while (rec && (st = cb_csv_reader_next(r, rec, err)) != CB_CSV_EOF && c_rid >= 0) {
        if (st != CB_CSV_RECORD) {
            rc = cb_err_set(err, EX_DATAERR, "%s:%ld: %s", path, rec->line, err->msg);
            break;
        }
        if (load_pending_row(t, rec, c_rid, c_em, c_nm) < 0) {
            rc = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
    }
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

static int returned_begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    cb_reqreturned *t = ctx;
    if (in->n == 0)
        return 0;
    t->c_old = cb_header_find(in, "old_serial");
    if (need_col(in, "request_id", &t->c_rid, err) < 0 || need_col(in, "serial", &t->c_serial, err) < 0 ||
        need_col(in, "status", &t->c_status, err) < 0 || need_col(in, "path", &t->c_path, err) < 0)
        return -1;
    if ((t->s.oh = cb_header_copy(in)) == NULL || (t->c_em = cb_header_ensure(t->s.oh, "agency_email")) < 0 ||
        (t->c_nm = cb_header_ensure(t->s.oh, "agency_name")) < 0 || cb_filter_set_header(f, t->s.oh) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

static int returned_process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    cb_reqreturned *t = ctx;
    const char *status = cb_record_get(rec, t->c_status), *rid = cb_record_get(rec, t->c_rid);
    const char *old = cb_record_get(rec, t->c_old);
    int delivered = !strcmp(status, "delivered") || !strcmp(status, "unchanged");
    const char *serial = cb_record_get(rec, t->c_serial), *path = cb_record_get(rec, t->c_path);
    if ((*serial && record_once(t->s.l, t->s.night, "renewed", rid, old, serial, err) < 0) ||
        (delivered && *path && record_once(t->s.l, t->s.night, "delivered", rid, old, path, err) < 0))
        return -1;
    if (!delivered) {
        cb_filter_drop(f);
        return 0;
    }
    const char *em = cb_strmap_get(&t->email, rid), *nm = cb_strmap_get(&t->name, rid);
    if ((em && cb_record_set_str(rec, t->c_em, em) < 0) || (nm && cb_record_set_str(rec, t->c_nm, nm) < 0))
        return cb_err_set(err, EX_OSERR, "out of memory");
    cb_filter_emit(f, rec);
    return 0;
}

const cb_filter_step cb_reqreturned_step = {returned_begin, returned_process, step_end};

void cb_reqreturned_clear(cb_reqreturned *t)
{
    cb_strmap_clear(&t->email);
    cb_strmap_clear(&t->name);
    step_clear(&t->s);
}
