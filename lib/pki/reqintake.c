/* The night's intake of renewal forms: see reqintake.h. */
#include "reqintake.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csvio.h"
#include "forms.h"
#include "rejects.h"
#include "reqledger.h"

/* The columns of Forms 03/04 (FORMS.md). */
static const char *const renewal_columns[] = {
    "request_id", "form", "full_name", "id_number", "id_issue_date", "id_issue_place", "position",
    "agency", "agency_code", "org_name", "org_address", "budget_code", "province", "email",
    "phone", "old_serial", "old_not_after", "device_type", "carrier", "confirmed_by",
    "received_date", NULL,
};

static const char *canon_name(const char *label)
{
    const char *c = cb_forms_canonical(label);
    return c ? c : label;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int cb_reqintake_file_is_empty(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

static int add_columns_of(cb_header *u, char *path)
{
    cb_err e = {0};
    cb_csv_reader *r = cb_csv_reader_open(&path, 1, 0, &e);
    if (r == NULL)
        return 0;
    const cb_header *h = cb_csv_reader_header(r);
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < h->n; k++)
        rc = cb_header_ensure(u, canon_name(h->names[k])) < 0 ? -1 : 0;
    cb_csv_reader_close(r);
    return rc;
}

cb_header *cb_reqintake_union_header(char *const *files, int n)
{
    cb_header *u = cb_header_new();
    for (int i = 0; u && i < n; i++)
        if (!cb_reqintake_file_is_empty(files[i]) && add_columns_of(u, files[i]) < 0) {
            cb_header_free(u);
            return NULL;
        }
    if (u == NULL || u->n > 0)
        return u;
    for (size_t k = 0; renewal_columns[k]; k++)
        if (cb_header_add(u, renewal_columns[k]) < 0) {
            cb_header_free(u);
            return NULL;
        }
    return u;
}

cb_header *cb_reqintake_header(char *const *files, int n)
{
    cb_header *u = cb_reqintake_union_header(files, n);
    if (u != NULL && (cb_header_ensure(u, "source_file") < 0 || cb_header_ensure(u, "source_line") < 0)) {
        cb_header_free(u);
        u = NULL;
    }
    return u;
}

typedef struct intake {
    cb_filter *f;
    const cb_reqintake_opts *o;
    cb_reqledger *l;
    const cb_header *u;
    int c_rid, c_old, c_file, c_line;
    cb_rejects fl;       /* the filtered requests */
    int fl_open;
    cb_record *in, *rec;
} intake;

/* Records an event once. */
static int record_once(intake *t, const char *event, const char *rid, const char *old, const char *detail,
                       cb_err *err)
{
    if (cb_reqledger_find(t->l, event, rid, detail))
        return 0;
    cb_reqevent ev = {.night = t->o->night, .event = event, .request_id = rid, .old_serial = old,
                      .detail = detail};
    return cb_reqledger_append(t->l, &ev, err);
}

static void filtered_reason(const intake *t, const cb_reqevent *p, const char *rid, const char *old,
                            char *why, size_t n)
{
    int vi = t->f->lang == CB_LANG_VI;
    if (strcmp(p->request_id, rid) == 0)
        snprintf(why, n,
                 vi ? "hồ sơ %s đã được đề nghị ngày %s; không đề nghị lại"
                    : "request %s was already proposed on %s; not proposed again",
                 rid, p->night);
    else
        snprintf(why, n,
                 vi ? "chứng thư số %s đã được đề nghị gia hạn ngày %s (hồ sơ %s); không đề nghị lại"
                    : "certificate %s was already proposed for renewal on %s (request %s); not proposed again",
                 old, p->night, p->request_id);
}

/* One request: recorded received; 1 when proposed on an earlier night
 * (filtered), 0 to pass on, -1 with err set. */
static int screen(intake *t, const char *file, long line, cb_err *err)
{
    const char *rid = cb_record_get(t->rec, t->c_rid), *old = cb_record_get(t->rec, t->c_old);
    if (*rid && record_once(t, "received", rid, old, file, err) < 0)
        return -1;
    const cb_reqevent *p = cb_reqledger_proposal(t->l, rid, old);
    if (p == NULL || strcmp(p->night, t->o->night) == 0)
        return 0;
    char why[600];
    filtered_reason(t, p, rid, old, why, sizeof why);
    if (record_once(t, "filtered", rid, old, why, err) < 0)
        return -1;
    cb_filter_drop(t->f);
    if (cb_rejects_add(&t->fl, t->rec, file, line, strcmp(p->request_id, rid) == 0 ? "request_id" : "old_serial",
                       why) < 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the rejects");
    return 1;
}

/* Lays a record of one file out as the union header. */
static int map_record(intake *t, const int *map, size_t n, const char *file)
{
    cb_record_clear(t->rec);
    for (size_t k = 0; k < n; k++)
        if (map[k] >= 0 && cb_record_set(t->rec, map[k], cb_record_get(t->in, (int)k), cb_record_len(t->in, (int)k)) < 0)
            return -1;
    char line[24];
    snprintf(line, sizeof line, "%ld", t->in->line);
    return cb_record_set_str(t->rec, t->c_file, file) < 0 || cb_record_set_str(t->rec, t->c_line, line) < 0 ? -1 : 0;
}

static void reject_file(intake *t, const char *file, long line, const char *why)
{
    char reason[1200];
    snprintf(reason, sizeof reason,
             t->f->lang == CB_LANG_VI ? "tệp %s không đọc được từ dòng %ld: %s"
                                      : "file %s cannot be read from line %ld on: %s",
             file, line, why);
    cb_filter_in(t->f);
    cb_filter_reject_at(t->f, NULL, file, line, NULL, reason);
}

/* One record read from file: rejected when malformed, else screened. */
static int intake_record(intake *t, int st, const cb_err *why, const int *map, size_t n, const char *file,
                         cb_err *err)
{
    cb_filter_in(t->f);
    if (map_record(t, map, n, file) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (st == CB_CSV_MALFORMED)
        return cb_filter_reject_at(t->f, t->rec, file, t->in->line, NULL, why->msg) < 0 ? 1 : 0;
    int s = screen(t, file, t->in->line, err);
    if (s < 0)
        return -1;
    if (s == 0 && cb_filter_emit(t->f, t->rec) < 0)
        return 1;
    return 0;
}

/* One file; a file that cannot be read is its own problem. -1 with err
 * set stops the run; a write error (reported by the driver) too. */
static int intake_file(intake *t, char *path, cb_err *err)
{
    if (cb_reqintake_file_is_empty(path))
        return 0;
    const char *file = base_name(path);
    cb_err why = {0};
    cb_csv_reader *r = cb_csv_reader_open(&path, 1, 0, &why);
    if (r == NULL) {
        reject_file(t, file, 1, why.msg);
        return 0;
    }
    const cb_header *h = cb_csv_reader_header(r);
    int map[h->n + 1], st, rc = 0;
    for (size_t k = 0; k < h->n; k++)
        map[k] = cb_header_find(t->u, canon_name(h->names[k]));
    while (rc == 0 && (st = cb_csv_reader_next(r, t->in, &why)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            reject_file(t, file, t->in->line, why.msg);
            break;
        }
        rc = intake_record(t, st, &why, map, h->n, file, err);
    }
    cb_csv_reader_close(r);
    return rc;
}

static int by_base_name(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    int c = strcmp(base_name(x), base_name(y));
    return c ? c : strcmp(x, y);
}

/* The files read, for file-away --list: exactly these move, never a file
 * that arrived while the night ran. */
static int write_read_list(const char *path, char *const *files, int n, cb_err *err)
{
    cb_output out;
    if (cb_output_open(&out, path, 0644, err) < 0)
        return -1;
    cb_csv_writer w;
    cb_csv_writer_init(&w, out.fp);
    const char *head[1] = {"file"};
    int bad = cb_csv_write_fields(&w, head, 1) < 0;
    for (int i = 0; !bad && i < n; i++) {
        const char *f[1] = {files[i]};
        bad = cb_csv_write_fields(&w, f, 1) < 0;
    }
    if (bad) {
        cb_output_abort(&out);
        return cb_err_sys(err, EX_IOERR, "cannot write the output");
    }
    return cb_output_close(&out, err);
}

static int intake_open(intake *t, cb_err *err)
{
    if ((t->in = cb_record_new()) == NULL || (t->rec = cb_record_new()) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    t->c_rid = cb_header_find(t->u, "request_id");
    t->c_old = cb_header_find(t->u, "old_serial");
    t->c_file = cb_header_find(t->u, "source_file");
    t->c_line = cb_header_find(t->u, "source_line");
    if ((t->l = cb_reqledger_open(t->o->ledger, 1, err)) == NULL ||
        cb_rejects_open(&t->fl, t->f->run.prog, t->o->filtered, t->o->diag, err) < 0)
        return -1;
    t->fl_open = 1;
    if (cb_rejects_set_header(&t->fl, t->u) < 0 || cb_filter_set_header(t->f, t->u) < 0 ||
        cb_filter_set_reject_header(t->f, t->u) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

static int intake_files(intake *t, char **files, int n, cb_err *err)
{
    if (cb_filter_open_outputs(t->f) < 0)
        return 1;
    for (int i = 0; i < n; i++) {
        int rc = intake_file(t, files[i], err);
        if (rc != 0)
            return rc;
    }
    if (t->o->read_list && write_read_list(t->o->read_list, files, n, err) < 0)
        return -1;
    /* The ledger first: what the output says was received is recorded. */
    if (cb_reqledger_sync(t->l, err) < 0)
        return -1;
    t->fl_open = 0;
    return cb_rejects_close(&t->fl, err);
}

int cb_reqintake_run(cb_filter *f, const cb_reqintake_opts *o, char **files, int n)
{
    cb_err err = {0};
    qsort(files, (size_t)n, sizeof *files, by_base_name);
    cb_header *u = cb_reqintake_header(files, n);
    intake t = {.f = f, .o = o, .u = u};
    int rc = u == NULL ? cb_err_set(&err, EX_OSERR, "out of memory") : intake_open(&t, &err);
    if (rc == 0)
        rc = intake_files(&t, files, n, &err);
    if (rc < 0)
        cb_filter_stop(f, NULL, 0, &err);
    else if (rc > 0)
        cb_filter_abandon(f);
    if (t.fl_open)
        cb_rejects_abort(&t.fl);
    if (cb_reqledger_close(t.l, &err) < 0 && rc == 0)
        cb_filter_stop(f, NULL, 0, &err);
    cb_record_free(t.in);
    cb_record_free(t.rec);
    cb_header_free(u);
    return f->rc;
}
