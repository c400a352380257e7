/* requests: the province's request ledger (state/requests.csv), the steps
 * of the nightly job and of the return of updates that change a request's
 * state (lib/reqledger.c):
 *
 *   intake     the night's form files, each read on its own (one bad file is
 *              that file's problem), as one CSV stream for validate-form; a
 *              request proposed on an earlier night is filtered with its
 *              reason; received/filtered recorded
 *   record     records an event (proposed, rejected, ...) for each record of
 *              a CSV, once, and passes the records on
 *   pending    the requests proposed and not yet delivered, rebuilt from the
 *              proposal lists the ledger names
 *   returned   split-updates' manifest: renewed and delivered recorded, the
 *              delivered rows passed on with the agency's columns
 *   file-away  moves the night's form files to forms/processed/DATE/ */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "csvio.h"
#include "date.h"
#include "forms.h"
#include "rejects.h"
#include "reqledger.h"
#include "run.h"
#include "runner.h"
#include "strmap.h"

static const char *prog = "requests";

typedef struct opts {
    const char *cmd, *ledger, *as_of, *output, *rejects, *filtered, *event, *detail,
        *detail_col, *key_col, *where, *pending, *to, *list;
    int quiet, vi;
    char night[16];
    char **files;
    int nfiles;
} opts;

static void usage(FILE *fp)
{
    fputs("usage: requests intake   --ledger FILE [--as-of DATE] [--rejects FILE] [--filtered FILE]\n"
          "                         [--read-list FILE] [--lang en|vi] [-o FILE] [-q] [FORM.csv...]\n"
          "       requests record   --ledger FILE --event EVENT [--detail TEXT | --detail-column COL]\n"
          "                         [--where COL=VALUE] [--key-column NAME] [--as-of DATE]\n"
          "                         [-o FILE] [-q] [FILE...]\n"
          "       requests pending  --ledger FILE [--as-of DATE] [-o FILE] [-q]\n"
          "       requests returned --ledger FILE [--pending FILE] [--as-of DATE] [-o FILE] [-q] [MANIFEST]\n"
          "       requests file-away --to DIR [--list FILE] [-o FILE] [-q] [FILE...]\n"
          "       requests --help | --version\n"
          "\n"
          "  --ledger FILE        the request ledger (state/requests.csv)\n"
          "  --as-of DATE         the night, YYYY-MM-DD (default: today in UTC+07:00)\n"
          "  --rejects FILE       intake: rows of files that cannot be read, as CSV\n"
          "  --filtered FILE      intake: requests already proposed on an earlier night, as CSV\n"
          "  --read-list FILE     intake: the form files read, one row each (for file-away --list)\n"
          "  --lang en|vi         intake: language of the reasons (default en)\n"
          "  --event EVENT        record: received, filtered, rejected, proposed, renewed, delivered\n"
          "  --detail TEXT        record: the event's detail (e.g. the proposal list)\n"
          "  --detail-column COL  record: the detail is this column of each record\n"
          "  --where COL=VALUE    record: only records whose COL is VALUE (the others filtered)\n"
          "  --key-column NAME    record: append NAME = request_id/hash of the detail, a key\n"
          "                       for notify --ledger --key (one letter per request and reason)\n"
          "  --pending FILE       returned: the pending requests, for agency_email and agency_name\n"
          "  --to DIR             file-away: the directory the files move to\n"
          "  --list FILE          file-away: move the files named in FILE's column file too\n"
          "  -o FILE              write to FILE (atomically) instead of stdout\n"
          "  -q                   no summary line\n",
          fp);
}

static int fail(const cb_err *err)
{
    fprintf(stderr, "%s: %s\n", prog, err->msg);
    return err->code ? err->code : EX_SOFTWARE;
}

/* ---- CSV output shared by the subcommands ---- */

typedef struct sink {
    cb_output out;
    cb_csv_writer w;
    int open, failed;
} sink;

static int sink_open(sink *s, const char *path, const cb_header *h, cb_err *err)
{
    memset(s, 0, sizeof *s);
    if (cb_output_open(&s->out, path, 0644, err) < 0)
        return -1;
    s->open = 1;
    cb_csv_writer_init(&s->w, s->out.fp);
    if (h != NULL && cb_csv_write_header(&s->w, h) < 0)
        s->failed = 1;
    return 0;
}

static int sink_close(sink *s, int ok, cb_err *err)
{
    if (!s->open)
        return 0;
    s->open = 0;
    if (!ok || s->failed) {
        cb_output_abort(&s->out);
        return s->failed ? cb_err_sys(err, EX_IOERR, "cannot write the output") : 0;
    }
    return cb_output_close(&s->out, err);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- intake ---- */

/* The columns of Forms 03/04 (FORMS.md): the header of a night without
 * forms, so that every output of the night keeps its header. */
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

static int file_is_empty(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

/* Pass 1: the union of the files' columns (canonical names), so that a file
 * with a column the others lack keeps it. A file that cannot be opened as
 * CSV is left for pass 2 to reject. */
static cb_header *union_header(char **files, int nfiles)
{
    cb_header *u = cb_header_new();
    for (int i = 0; u && i < nfiles; i++) {
        if (file_is_empty(files[i]))
            continue;
        cb_err e = {0};
        cb_csv_reader *r = cb_csv_reader_open(&files[i], 1, 0, &e);
        if (r == NULL)
            continue;
        const cb_header *h = cb_csv_reader_header(r);
        for (size_t k = 0; k < h->n; k++)
            if (cb_header_ensure(u, canon_name(h->names[k])) < 0) {
                cb_header_free(u);
                u = NULL;
                break;
            }
        cb_csv_reader_close(r);
    }
    if (u != NULL && u->n == 0)
        for (size_t k = 0; renewal_columns[k]; k++)
            cb_header_add(u, renewal_columns[k]);
    if (u != NULL && (cb_header_ensure(u, "source_file") < 0 || cb_header_ensure(u, "source_line") < 0)) {
        cb_header_free(u);
        u = NULL;
    }
    return u;
}

typedef struct intake {
    const opts *o;
    cb_run *run;
    cb_reqledger *l;
    const cb_header *u;
    int c_rid, c_old, c_file, c_line;
    sink out;
    cb_rejects rj, fl;
    cb_record *in, *rec;
    int failed;
} intake;

/* A request proposed on an earlier night is not proposed again. A re-run of
 * the night that proposed it passes it on: the night's outputs come out the
 * same. */
static int screen(intake *t, const char *file, long line)
{
    const char *rid = cb_record_get(t->rec, t->c_rid), *old = cb_record_get(t->rec, t->c_old);
    cb_err err = {0};
    if (*rid && !cb_reqledger_find(t->l, "received", rid, file)) {
        cb_reqevent ev = {.night = t->o->night, .event = "received", .request_id = rid,
                          .old_serial = old, .detail = file};
        if (cb_reqledger_append(t->l, &ev, &err) < 0)
            return fail(&err);
    }
    const cb_reqevent *p = cb_reqledger_proposal(t->l, rid, old);
    if (p == NULL || strcmp(p->night, t->o->night) == 0)
        return 0;
    char why[600];
    int same = strcmp(p->request_id, rid) == 0;
    if (same)
        snprintf(why, sizeof why,
                 t->o->vi ? "hồ sơ %s đã được đề nghị ngày %s; không đề nghị lại"
                          : "request %s was already proposed on %s; not proposed again",
                 rid, p->night);
    else
        snprintf(why, sizeof why,
                 t->o->vi ? "chứng thư số %s đã được đề nghị gia hạn ngày %s (hồ sơ %s); không đề nghị lại"
                          : "certificate %s was already proposed for renewal on %s (request %s); not proposed again",
                 old, p->night, p->request_id);
    if (!cb_reqledger_find(t->l, "filtered", rid, why)) {
        cb_reqevent ev = {.night = t->o->night, .event = "filtered", .request_id = rid,
                          .old_serial = old, .detail = why};
        if (cb_reqledger_append(t->l, &ev, &err) < 0)
            return fail(&err);
    }
    t->run->filtered++;
    if (cb_rejects_add(&t->fl, t->rec, file, line, same ? "request_id" : "old_serial", why) < 0)
        t->failed = 1;
    return 1;
}

/* Lays a record of one file out as the union header. */
static void map_record(intake *t, const int *map, size_t n, const char *file)
{
    cb_record_clear(t->rec);
    for (size_t k = 0; k < n; k++)
        if (map[k] >= 0)
            cb_record_set(t->rec, map[k], cb_record_get(t->in, (int)k), cb_record_len(t->in, (int)k));
    char line[24];
    snprintf(line, sizeof line, "%ld", t->in->line);
    cb_record_set_str(t->rec, t->c_file, file);
    cb_record_set_str(t->rec, t->c_line, line);
}

static void reject_file(intake *t, const char *file, long line, const char *why)
{
    t->run->in++;
    t->run->rejected++;
    char reason[1200];
    if (t->o->vi)
        snprintf(reason, sizeof reason, "tệp %s không đọc được từ dòng %ld: %s", file, line, why);
    else
        snprintf(reason, sizeof reason, "file %s cannot be read from line %ld on: %s", file, line, why);
    if (cb_rejects_add(&t->rj, NULL, file, line, NULL, reason) < 0)
        t->failed = 1;
}

/* Pass 2 for one file; a file that cannot be read is its own problem. */
static int intake_file(intake *t, char *path)
{
    if (file_is_empty(path))
        return 0;
    const char *file = base_name(path);
    cb_err err = {0};
    cb_csv_reader *r = cb_csv_reader_open(&path, 1, 0, &err);
    if (r == NULL) {
        reject_file(t, file, 1, err.msg);
        return 0;
    }
    const cb_header *h = cb_csv_reader_header(r);
    int map[h->n + 1];
    for (size_t k = 0; k < h->n; k++)
        map[k] = cb_header_find(t->u, canon_name(h->names[k]));
    int st, rc = 0;
    while (rc == 0 && !t->failed && (st = cb_csv_reader_next(r, t->in, &err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            reject_file(t, file, t->in->line, err.msg);
            break;
        }
        t->run->in++;
        cb_run_tick(t->run);
        map_record(t, map, h->n, file);
        if (st == CB_CSV_MALFORMED) {
            t->run->rejected++;
            if (cb_rejects_add(&t->rj, t->rec, file, t->in->line, NULL, err.msg) < 0)
                t->failed = 1;
            continue;
        }
        int s = screen(t, file, t->in->line);
        if (s > 1)
            rc = s;
        else if (s == 0) {
            t->run->out++;
            if (cb_csv_write_record(&t->out.w, t->rec, t->u->n) < 0)
                t->out.failed = 1;
        }
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
static int write_read_list(const char *path, char **files, int n, cb_err *err)
{
    cb_header *h = cb_header_new();
    sink out;
    if (h == NULL || cb_header_add(h, "file") < 0) {
        cb_header_free(h);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    int rc = sink_open(&out, path, h, err);
    cb_header_free(h);
    for (int i = 0; rc == 0 && i < n; i++) {
        const char *f[1] = {files[i]};
        if (cb_csv_write_fields(&out.w, f, 1) < 0)
            out.failed = 1;
    }
    return rc < 0 ? -1 : sink_close(&out, 1, err);
}

static int cmd_intake(const opts *o, cb_run *run)
{
    cb_err err = {0};
    intake t = {.o = o, .run = run};
    /* By name, wherever each file is (incoming, or processed by a night
     * that is re-run): the same night reads the same stream. */
    qsort(o->files, (size_t)o->nfiles, sizeof *o->files, by_base_name);
    cb_header *u = union_header(o->files, o->nfiles);
    int rc = EX_OK, rj_open = 0, fl_open = 0;
    t.u = u;
    t.in = cb_record_new();
    t.rec = cb_record_new();
    if (u == NULL || t.in == NULL || t.rec == NULL) {
        rc = fail(&(cb_err){.code = EX_OSERR, .msg = "out of memory"});
        goto done;
    }
    t.c_rid = cb_header_find(u, "request_id");
    t.c_old = cb_header_find(u, "old_serial");
    t.c_file = cb_header_find(u, "source_file");
    t.c_line = cb_header_find(u, "source_line");
    if ((t.l = cb_reqledger_open(o->ledger, 1, &err)) == NULL ||
        cb_rejects_open(&t.rj, prog, o->rejects, stderr, &err) < 0 || !(rj_open = 1) ||
        cb_rejects_open(&t.fl, prog, o->filtered, stderr, &err) < 0 || !(fl_open = 1) ||
        cb_rejects_set_header(&t.rj, u) < 0 || cb_rejects_set_header(&t.fl, u) < 0 ||
        sink_open(&t.out, o->output, u, &err) < 0) {
        rc = fail(&err);
        goto done;
    }
    for (int i = 0; rc == EX_OK && i < o->nfiles; i++)
        rc = intake_file(&t, o->files[i]);
    if (rc == EX_OK && o->list && write_read_list(o->list, o->files, o->nfiles, &err) < 0)
        rc = fail(&err);
    /* The ledger first: what the output says was received is recorded. */
    int ok = rc == EX_OK && !t.failed && !t.out.failed;
    if (cb_reqledger_sync(t.l, &err) < 0 || sink_close(&t.out, ok, &err) < 0 ||
        cb_rejects_close(&t.rj, &err) < 0 || cb_rejects_close(&t.fl, &err) < 0) {
        rj_open = fl_open = 0;
        rc = cb_exit_worst(rc, fail(&err));
    }
    rj_open = fl_open = 0;
    if (rc == EX_OK && t.failed)
        rc = fail(&(cb_err){.code = EX_IOERR, .msg = "cannot write the rejects"});
done:
    sink_close(&t.out, 0, &err);
    if (rj_open)
        cb_rejects_abort(&t.rj);
    if (fl_open)
        cb_rejects_abort(&t.fl);
    cb_reqledger_close(t.l, &err);
    cb_record_free(t.in);
    cb_record_free(t.rec);
    cb_header_free(u);
    return rc;
}

/* ---- reading one CSV input (record, returned) ---- */

typedef struct input {
    cb_csv_reader *r;
    const cb_header *h;
    int empty;   /* zero bytes: zero records, no header */
} input;

static int input_open(input *in, const opts *o, cb_err *err)
{
    memset(in, 0, sizeof *in);
    int all_empty = o->nfiles > 0;
    for (int i = 0; i < o->nfiles; i++)
        all_empty &= file_is_empty(o->files[i]);
    if (all_empty) {
        in->empty = 1;
        return 0;
    }
    if ((in->r = cb_csv_reader_open(o->files, o->nfiles, 0, err)) == NULL)
        return -1;
    in->h = cb_csv_reader_header(in->r);
    return 0;
}

static int need_col(const cb_header *h, const char *name, int *col, cb_err *err)
{
    if (h == NULL || (*col = cb_header_find(h, name)) < 0)
        return cb_err_set(err, EX_DATAERR, "the input has no column %s", name);
    return 0;
}

/* A short stable key for one request and one detail (a reason): notify's
 * ledger then sends one letter per request and reason. */
static void event_key(const char *rid, const char *detail, char *out, size_t n)
{
    snprintf(out, n, "%s/%08lx", rid, (unsigned long)(cb_str_hash(detail) & 0xffffffffUL));
}

/* ---- record ---- */

typedef struct recorder {
    const opts *o;
    cb_reqledger *l;
    int c_rid, c_old, c_detail, c_where, c_key;
    const char *where_value;
} recorder;

static int record_one(recorder *k, cb_record *rec, cb_err *err)
{
    const char *rid = cb_record_get(rec, k->c_rid);
    const char *detail = k->c_detail >= 0 ? cb_record_get(rec, k->c_detail)
                         : k->o->detail   ? k->o->detail : "";
    if (*rid && !cb_reqledger_find(k->l, k->o->event, rid, detail)) {
        cb_reqevent ev = {.night = k->o->night, .event = k->o->event, .request_id = rid,
                          .old_serial = k->c_old >= 0 ? cb_record_get(rec, k->c_old) : "",
                          .detail = detail};
        if (cb_reqledger_append(k->l, &ev, err) < 0)
            return -1;
    }
    if (k->c_key >= 0) {
        char key[300];
        event_key(rid, detail, key, sizeof key);
        if (cb_record_set_str(rec, k->c_key, key) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return 0;
}

static int record_bind(recorder *k, const cb_header *h, cb_header **oh, cb_err *err)
{
    k->c_old = cb_header_find(h, "old_serial");
    k->c_detail = k->c_where = k->c_key = -1;
    char *where = k->o->where ? strdup(k->o->where) : NULL;
    if (k->o->where && where == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (where != NULL) {
        char *eq = strchr(where, '=');
        *eq = '\0';
        k->where_value = k->o->where + (eq - where) + 1;
    }
    int rc = need_col(h, "request_id", &k->c_rid, err) < 0 ||
                     (k->o->detail_col && need_col(h, k->o->detail_col, &k->c_detail, err) < 0) ||
                     (where && need_col(h, where, &k->c_where, err) < 0)
                 ? -1 : 0;
    free(where);
    if (rc < 0)
        return -1;
    if ((*oh = cb_header_copy(h)) == NULL ||
        (k->o->key_col && (k->c_key = cb_header_ensure(*oh, k->o->key_col)) < 0))
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

/* The loop record and returned share: bind the header, open the ledger,
 * one(record) says -1 error, 0 filtered, 1 passed on. */
typedef struct pass {
    int (*bind)(void *ctx, const cb_header *h, cb_header **oh, cb_err *err);
    int (*prepare)(void *ctx, cb_err *err);
    int (*one)(void *ctx, cb_record *rec, cb_err *err);
    cb_reqledger **l;
} pass;

static int run_pass(const opts *o, cb_run *run, const pass *p, void *ctx)
{
    cb_err err = {0};
    input in;
    sink out = {0};
    cb_header *oh = NULL;
    cb_record *rec = cb_record_new();
    int rc = EX_OK, st;
    if (rec == NULL || input_open(&in, o, &err) < 0 ||
        (!in.empty && p->bind(ctx, in.h, &oh, &err) < 0) ||
        (p->prepare && p->prepare(ctx, &err) < 0) ||
        (*p->l = cb_reqledger_open(o->ledger, 1, &err)) == NULL ||
        sink_open(&out, o->output, oh, &err) < 0) {
        rc = fail(&err);
        goto done;
    }
    while (!in.empty && (st = cb_csv_reader_next(in.r, rec, &err)) != CB_CSV_EOF) {
        if (st != CB_CSV_RECORD) {
            /* The inputs are our own outputs: a damaged one stops the step. */
            fprintf(stderr, "%s: %s:%ld: %s\n", prog, cb_csv_reader_name(in.r), rec->line, err.msg);
            rc = EX_DATAERR;
            break;
        }
        run->in++;
        int s = p->one(ctx, rec, &err);
        if (s < 0) {
            rc = fail(&err);
            break;
        }
        if (s == 0) {
            run->filtered++;
            continue;
        }
        run->out++;
        if (cb_csv_write_record(&out.w, rec, oh->n) < 0)
            out.failed = 1;
    }
    /* The ledger is durable before the records leave. */
    if (cb_reqledger_sync(*p->l, &err) < 0 || sink_close(&out, rc == EX_OK, &err) < 0)
        rc = cb_exit_worst(rc, fail(&err));
done:
    sink_close(&out, 0, &err);
    cb_reqledger_close(*p->l, &err);
    *p->l = NULL;
    if (in.r)
        cb_csv_reader_close(in.r);
    cb_header_free(oh);
    cb_record_free(rec);
    return rc;
}

static int record_bind_cb(void *ctx, const cb_header *h, cb_header **oh, cb_err *err)
{
    return record_bind(ctx, h, oh, err);
}

static int record_one_cb(void *ctx, cb_record *rec, cb_err *err)
{
    recorder *k = ctx;
    if (k->c_where >= 0 && strcmp(cb_record_get(rec, k->c_where), k->where_value) != 0)
        return 0;
    return record_one(k, rec, err) < 0 ? -1 : 1;
}

/* The directory of the ledger, resolved: files the ledger names (the
 * proposal lists) are kept relative to it, so a state directory moved or
 * restored elsewhere still finds them. */
static char *ledger_dir(const char *ledger)
{
    char *copy = strdup(ledger), *slash = copy ? strrchr(copy, '/') : NULL;
    if (copy == NULL)
        return NULL;
    if (slash)
        *slash = '\0';
    char *dir = realpath(slash ? (*copy ? copy : "/") : ".", NULL);
    free(copy);
    return dir;
}

/* detail as the ledger keeps a file's name: relative to the ledger's
 * directory when the file is inside it. */
static char *ledger_name(const char *ledger, const char *file)
{
    char *dir = ledger_dir(ledger), *abs = realpath(file, NULL), *name = NULL;
    size_t n = dir ? strlen(dir) : 0;
    if (abs && dir && !strncmp(abs, dir, n) && abs[n] == '/')
        name = strdup(abs + n + 1);
    else if (abs)
        name = strdup(abs);
    free(dir);
    free(abs);
    return name;
}

static int cmd_record(const opts *o, cb_run *run)
{
    opts o2 = *o;
    char *name = o->detail && access(o->detail, F_OK) == 0 ? ledger_name(o->ledger, o->detail) : NULL;
    if (name)
        o2.detail = name;
    recorder k = {.o = &o2, .c_where = -1};
    pass p = {.bind = record_bind_cb, .one = record_one_cb, .l = &k.l};
    int rc = run_pass(&o2, run, &p, &k);
    free(name);
    return rc;
}

/* ---- pending ---- */

/* A request waits for its certificate from its proposal until the night
 * after its delivery: a re-run of the night that delivered it finds it
 * again, and gives the same result. */
static int is_pending(const cb_reqledger *l, const cb_reqevent *p, const char *night)
{
    const cb_reqevent *d = cb_reqledger_find(l, "delivered", p->request_id, NULL);
    return d == NULL || strcmp(d->night, night) >= 0;
}

/* The proposal lists the ledger names, each once, in ledger order. */
static int proposal_files(const cb_reqledger *l, char ***files, int *n)
{
    cb_strmap seen = {0};
    *files = calloc(cb_reqledger_count(l) + 1, sizeof **files);
    *n = 0;
    int rc = *files ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < cb_reqledger_count(l); i++) {
        const cb_reqevent *e = cb_reqledger_at(l, i);
        if (strcmp(e->event, "proposed") || !*e->detail || cb_strmap_get(&seen, e->detail))
            continue;
        if (cb_strmap_put(&seen, e->detail, "") < 0 || ((*files)[*n] = strdup(e->detail)) == NULL)
            rc = -1;
        else
            (*n)++;
    }
    cb_strmap_clear(&seen);
    return rc;
}

static int pending_file(const cb_reqledger *l, const opts *o, const char *file, char *path,
                        const cb_header *u, sink *out, cb_run *run, cb_err *err)
{
    cb_csv_reader *r = cb_csv_reader_open(&path, 1, 0, err);
    if (r == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    int map[h->n + 1], c_rid = cb_header_find(h, "request_id"), st, rc = 0;
    for (size_t k = 0; k < h->n; k++)
        map[k] = cb_header_find(u, h->names[k]);
    cb_record *in = cb_record_new(), *rec = cb_record_new();
    while (in && rec && (st = cb_csv_reader_next(r, in, err)) != CB_CSV_EOF) {
        if (st != CB_CSV_RECORD) {
            rc = cb_err_set(err, EX_DATAERR, "%s:%ld: %s", file, in->line, err->msg);
            break;
        }
        const cb_reqevent *p = cb_reqledger_find(l, "proposed", cb_record_get(in, c_rid), NULL);
        if (c_rid < 0 || p == NULL || strcmp(p->detail, file) || !is_pending(l, p, o->night))
            continue;
        cb_record_clear(rec);
        for (size_t k = 0; k < h->n; k++)
            cb_record_set(rec, map[k], cb_record_get(in, (int)k), cb_record_len(in, (int)k));
        run->in++;
        run->out++;
        if (cb_csv_write_record(&out->w, rec, u->n) < 0)
            out->failed = 1;
    }
    if (in == NULL || rec == NULL)
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    cb_record_free(in);
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

/* Where the proposal lists are: the ledger names them relative to its own
 * directory. */
static char **resolve_paths(const char *ledger, char **files, int n)
{
    char *dir = ledger_dir(ledger);
    char **paths = calloc((size_t)n + 1, sizeof *paths);
    for (int i = 0; paths && i < n; i++) {
        const char *base = files[i][0] == '/' ? "" : dir ? dir : ".";
        size_t len = strlen(files[i]) + strlen(base) + 2;
        if ((paths[i] = malloc(len)) == NULL) {
            while (i-- > 0)
                free(paths[i]);
            free(paths);
            paths = NULL;
            break;
        }
        snprintf(paths[i], len, "%s%s%s", base, *base ? "/" : "", files[i]);
    }
    free(dir);
    return paths;
}

static cb_header *pending_header(char **paths, int n)
{
    if (n > 0)
        return union_header(paths, n);
    cb_header *u = cb_header_new();
    for (size_t k = 0; u && renewal_columns[k]; k++)
        if (cb_header_add(u, renewal_columns[k]) < 0) {
            cb_header_free(u);
            return NULL;
        }
    return u;
}

static int cmd_pending(const opts *o, cb_run *run)
{
    cb_err err = {0};
    char **files = NULL, **paths = NULL;
    int n = 0, rc = EX_OK;
    sink out = {0};
    cb_header *u = NULL;
    cb_reqledger *l = cb_reqledger_open(o->ledger, 0, &err);
    if (l == NULL || proposal_files(l, &files, &n) < 0 ||
        (paths = resolve_paths(o->ledger, files, n)) == NULL || (u = pending_header(paths, n)) == NULL) {
        rc = l ? fail(&(cb_err){.code = EX_OSERR, .msg = "out of memory"}) : fail(&err);
        goto done;
    }
    if (sink_open(&out, o->output, u, &err) < 0) {
        rc = fail(&err);
        goto done;
    }
    /* The proposal lists are kept with the night's run: one missing is
     * state lost, said as such (EX_NOINPUT). */
    for (int i = 0; rc == EX_OK && i < n; i++)
        if (pending_file(l, o, files[i], paths[i], u, &out, run, &err) < 0)
            rc = fail(&err);
    if (sink_close(&out, rc == EX_OK, &err) < 0)
        rc = cb_exit_worst(rc, fail(&err));
done:
    sink_close(&out, 0, &err);
    for (int i = 0; i < n; i++) {
        free(files[i]);
        free(paths ? paths[i] : NULL);
    }
    free(files);
    free(paths);
    cb_header_free(u);
    cb_reqledger_close(l, &err);
    return rc;
}

/* ---- returned ---- */

/* agency_email and agency_name of each pending request, to address the
 * agencies' letters. */
static int load_agencies(const char *path, cb_strmap *email, cb_strmap *name, cb_err *err)
{
    char *files[1] = {(char *)path};
    if (file_is_empty(path))
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
        const char *rid = cb_record_get(rec, c_rid);
        if (cb_strmap_put(email, rid, cb_record_get(rec, c_em)) < 0 ||
            cb_strmap_put(name, rid, cb_record_get(rec, c_nm)) < 0) {
            rc = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
    }
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

typedef struct returned {
    const opts *o;
    cb_reqledger *l;
    int c_rid, c_old, c_serial, c_status, c_path, c_em, c_nm;
    cb_strmap email, name;
} returned;

static int record_event(returned *t, const char *event, const cb_record *rec, const char *detail,
                        cb_err *err)
{
    const char *rid = cb_record_get(rec, t->c_rid);
    if (!*rid || !*detail || cb_reqledger_find(t->l, event, rid, detail))
        return 0;
    cb_reqevent ev = {.night = t->o->night, .event = event, .request_id = rid,
                      .old_serial = cb_record_get(rec, t->c_old), .detail = detail};
    return cb_reqledger_append(t->l, &ev, err);
}

/* One manifest row: a certificate back is renewed; one delivered passes on
 * (unchanged: delivered by an earlier run of this return, the same file). */
static int returned_one(returned *t, cb_record *rec, cb_err *err)
{
    const char *status = cb_record_get(rec, t->c_status);
    int delivered = !strcmp(status, "delivered") || !strcmp(status, "unchanged");
    if (record_event(t, "renewed", rec, cb_record_get(rec, t->c_serial), err) < 0 ||
        (delivered && record_event(t, "delivered", rec, cb_record_get(rec, t->c_path), err) < 0))
        return -1;
    if (!delivered)
        return 0;
    const char *rid = cb_record_get(rec, t->c_rid);
    const char *em = cb_strmap_get(&t->email, rid), *nm = cb_strmap_get(&t->name, rid);
    if ((em && cb_record_set_str(rec, t->c_em, em) < 0) || (nm && cb_record_set_str(rec, t->c_nm, nm) < 0))
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 1;
}

static int returned_bind(returned *t, const cb_header *h, cb_header **oh, cb_err *err)
{
    t->c_old = cb_header_find(h, "old_serial");
    if (need_col(h, "request_id", &t->c_rid, err) < 0 || need_col(h, "serial", &t->c_serial, err) < 0 ||
        need_col(h, "status", &t->c_status, err) < 0 || need_col(h, "path", &t->c_path, err) < 0)
        return -1;
    if ((*oh = cb_header_copy(h)) == NULL || (t->c_em = cb_header_ensure(*oh, "agency_email")) < 0 ||
        (t->c_nm = cb_header_ensure(*oh, "agency_name")) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

static int returned_bind_cb(void *ctx, const cb_header *h, cb_header **oh, cb_err *err)
{
    return returned_bind(ctx, h, oh, err);
}

static int returned_prepare(void *ctx, cb_err *err)
{
    returned *t = ctx;
    return t->o->pending ? load_agencies(t->o->pending, &t->email, &t->name, err) : 0;
}

static int returned_one_cb(void *ctx, cb_record *rec, cb_err *err)
{
    return returned_one(ctx, rec, err);
}

static int cmd_returned(const opts *o, cb_run *run)
{
    returned t = {.o = o};
    pass p = {.bind = returned_bind_cb, .prepare = returned_prepare, .one = returned_one_cb, .l = &t.l};
    int rc = run_pass(o, run, &p, &t);
    cb_strmap_clear(&t.email);
    cb_strmap_clear(&t.name);
    return rc;
}

/* ---- file-away ---- */

static int file_away(const opts *o, cb_run *run);

static int same_content(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = getc(fa), cb = getc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Moves path into dir, never over another file: a second file of the same
 * name the same night is kept as NAME.2, NAME.3, ... A file already there
 * (a re-run reads forms/processed/DATE too) stays. */
static int move_one(const char *path, const char *dir, char *to, size_t n, cb_err *err)
{
    char *a = realpath(path, NULL), *d = realpath(dir, NULL);
    const char *slash = a ? strrchr(a, '/') : NULL;
    int here = a && d && slash && (size_t)(slash - a) == strlen(d) && !strncmp(a, d, strlen(d));
    free(a);
    free(d);
    if (here) {
        snprintf(to, n, "%s", path);
        return 0;
    }
    for (int k = 1; k < 1000; k++) {
        if (k == 1)
            snprintf(to, n, "%s/%s", dir, base_name(path));
        else
            snprintf(to, n, "%s/%s.%d", dir, base_name(path), k);
        if (access(to, F_OK) == 0) {
            if (!same_content(path, to))
                continue;
            if (unlink(path) != 0)
                return cb_err_sys(err, EX_IOERR, "cannot remove %s", path);
            return 0;
        }
        /* link then unlink never replaces a file that appeared meanwhile;
         * where links are not supported, rename after the check above. */
        int moved = link(path, to) == 0 ? unlink(path) == 0
                    : (errno == EPERM || errno == ENOTSUP || errno == EXDEV) && rename(path, to) == 0;
        if (!moved || sync_dir(dir) != 0)
            return cb_err_sys(err, EX_IOERR, "cannot move %s to %s", path, dir);
        return 0;
    }
    return cb_err_set(err, EX_CANTCREAT, "%s: too many files of that name in %s", path, dir);
}

/* The files named in a read list that are still where they were read. */
static int read_list(const char *path, char ***files, int *n, cb_err *err)
{
    char *names[1] = {(char *)path};
    *files = NULL;
    *n = 0;
    if (file_is_empty(path))
        return 0;
    cb_csv_reader *r = cb_csv_reader_open(names, 1, 0, err);
    if (r == NULL)
        return -1;
    int col = cb_header_find(cb_csv_reader_header(r), "file"), st, rc = 0, cap = 0;
    cb_record *rec = cb_record_new();
    while (rec && col >= 0 && (st = cb_csv_reader_next(r, rec, err)) == CB_CSV_RECORD) {
        if (access(cb_record_get(rec, col), F_OK) != 0)
            continue;
        if (*n + 1 >= cap) {
            cap = cap ? cap * 2 : 16;
            char **t = realloc(*files, (size_t)cap * sizeof *t);
            if (t == NULL) {
                rc = cb_err_set(err, EX_OSERR, "out of memory");
                break;
            }
            *files = t;
        }
        if (((*files)[*n] = strdup(cb_record_get(rec, col))) == NULL) {
            rc = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
        (*n)++;
    }
    if (rec == NULL || col < 0)
        rc = cb_err_set(err, rec ? EX_DATAERR : EX_OSERR, "%s: no column file", path);
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

static int cmd_file_away(const opts *o, cb_run *run)
{
    cb_err err = {0};
    char **listed = NULL;
    int nlisted = 0;
    if (o->list && read_list(o->list, &listed, &nlisted, &err) < 0)
        return fail(&err);
    char **all = calloc((size_t)(o->nfiles + nlisted) + 1, sizeof *all);
    if (all == NULL)
        return EX_OSERR;
    for (int i = 0; i < o->nfiles; i++)
        all[i] = o->files[i];
    for (int i = 0; i < nlisted; i++)
        all[o->nfiles + i] = listed[i];
    opts o2 = *o;
    o2.files = all;
    o2.nfiles += nlisted;
    int rc = file_away(&o2, run);
    for (int i = 0; i < nlisted; i++)
        free(listed[i]);
    free(listed);
    free(all);
    return rc;
}

static int file_away(const opts *o, cb_run *run)
{
    cb_err err = {0};
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.", o->to);
    cb_header *h = cb_header_new();
    sink out = {0};
    int rc = EX_OK;
    if (h == NULL || cb_header_add(h, "file") < 0 || cb_header_add(h, "moved_to") < 0) {
        cb_header_free(h);
        return EX_OSERR;
    }
    if (cb_mkdir_parent(probe, &err) < 0 || sink_open(&out, o->output, h, &err) < 0) {
        cb_header_free(h);
        return fail(&err);
    }
    for (int i = 0; i < o->nfiles; i++) {
        char to[4400];
        run->in++;
        if (move_one(o->files[i], o->to, to, sizeof to, &err) < 0) {
            rc = cb_exit_worst(rc, fail(&err));
            continue;
        }
        run->out++;
        const char *f[2] = {o->files[i], to};
        if (cb_csv_write_fields(&out.w, f, 2) < 0)
            out.failed = 1;
    }
    /* Where the files left from is synced too: after a crash each is in
     * one of the two places, never none. */
    for (int i = 0; i < o->nfiles; i++) {
        char *dir = strdup(o->files[i]), *s = dir ? strrchr(dir, '/') : NULL;
        if (s)
            *s = '\0';
        sync_dir(s ? dir : ".");
        free(dir);
    }
    if (sink_close(&out, 1, &err) < 0)
        rc = cb_exit_worst(rc, fail(&err));
    cb_header_free(h);
    return rc;
}

static int parse(int argc, char **argv, opts *o)
{
    enum { O_LEDGER = 256, O_ASOF, O_REJ, O_FILT, O_LANG, O_EVENT, O_DETAIL, O_DCOL, O_WHERE,
           O_KEY, O_PEND, O_TO, O_LIST, O_HELP, O_VERSION };
    static const struct option lo[] = {
        {"ledger", required_argument, 0, O_LEDGER}, {"as-of", required_argument, 0, O_ASOF},
        {"rejects", required_argument, 0, O_REJ},   {"filtered", required_argument, 0, O_FILT},
        {"lang", required_argument, 0, O_LANG},     {"event", required_argument, 0, O_EVENT},
        {"detail", required_argument, 0, O_DETAIL}, {"detail-column", required_argument, 0, O_DCOL},
        {"where", required_argument, 0, O_WHERE},   {"key-column", required_argument, 0, O_KEY},
        {"pending", required_argument, 0, O_PEND},  {"to", required_argument, 0, O_TO},
        {"read-list", required_argument, 0, O_LIST}, {"list", required_argument, 0, O_LIST},
        {"output", required_argument, 0, 'o'},      {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, O_HELP},           {"version", no_argument, 0, O_VERSION},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:q", lo, NULL)) != -1) {
        switch (c) {
        case O_LEDGER: o->ledger = optarg; break;
        case O_ASOF: o->as_of = optarg; break;
        case O_REJ: o->rejects = optarg; break;
        case O_FILT: o->filtered = optarg; break;
        case O_LANG:
            if (strcmp(optarg, "en") && strcmp(optarg, "vi")) {
                fprintf(stderr, "%s: --lang: '%s' is neither en nor vi\n", prog, optarg);
                return EX_USAGE;
            }
            o->vi = strcmp(optarg, "vi") == 0;
            break;
        case O_EVENT: o->event = optarg; break;
        case O_DETAIL: o->detail = optarg; break;
        case O_DCOL: o->detail_col = optarg; break;
        case O_WHERE: o->where = optarg; break;
        case O_KEY: o->key_col = optarg; break;
        case O_PEND: o->pending = optarg; break;
        case O_TO: o->to = optarg; break;
        case O_LIST: o->list = optarg; break;
        case 'o': o->output = optarg; break;
        case 'q': o->quiet = 1; break;
        case O_HELP: usage(stdout); return -1;
        case O_VERSION: printf("%s certbatch %s\n", prog, CB_VERSION); return -1;
        default: usage(stderr); return EX_USAGE;
        }
    }
    return 0;
}

/* What each subcommand needs, checked before anything is read. */
static const char *check_opts(const opts *o)
{
    int needs_ledger = strcmp(o->cmd, "file-away") != 0;
    if (needs_ledger && o->ledger == NULL)
        return "--ledger FILE is needed";
    if (!strcmp(o->cmd, "file-away") && o->to == NULL)
        return "file-away needs --to DIR";
    if (!strcmp(o->cmd, "record")) {
        if (o->event == NULL || !cb_reqledger_event_known(o->event))
            return "record needs --event received|filtered|rejected|proposed|renewed|delivered";
        if (o->detail && o->detail_col)
            return "--detail and --detail-column cannot be used together";
        if (o->where && (strchr(o->where, '=') == NULL || *o->where == '='))
            return "--where wants COL=VALUE";
    }
    if (o->list && strcmp(o->cmd, "intake") && strcmp(o->cmd, "file-away"))
        return "--read-list goes with intake, --list with file-away";
    if (!strcmp(o->cmd, "pending") && o->nfiles > 0)
        return "pending reads only the ledger";
    return NULL;
}

int main(int argc, char **argv)
{
    opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? EX_OK : rc;
    if (optind >= argc) {
        usage(stderr);
        return EX_USAGE;
    }
    o.cmd = argv[optind];
    o.files = argv + optind + 1;
    o.nfiles = argc - optind - 1;
    static const char *const cmds[] = {"intake", "record", "pending", "returned", "file-away", NULL};
    int known = 0;
    for (size_t i = 0; cmds[i]; i++)
        known |= !strcmp(cmds[i], o.cmd);
    const char *why = known ? check_opts(&o) : "unknown subcommand";
    if (why != NULL) {
        fprintf(stderr, "%s: %s%s%s\n", prog, known ? "" : o.cmd, known ? "" : ": ", why);
        return EX_USAGE;
    }
    cb_err err = {0};
    cb_date today;
    if (cb_today(o.as_of, &today, &err) < 0) {
        fprintf(stderr, "%s: --as-of: %s\n", prog, err.msg);
        return EX_USAGE;
    }
    cb_date_format(today, o.night);
    cb_run run;
    cb_run_start(&run, prog, stderr, o.quiet);
    if (!strcmp(o.cmd, "intake"))
        rc = cmd_intake(&o, &run);
    else if (!strcmp(o.cmd, "record"))
        rc = cmd_record(&o, &run);
    else if (!strcmp(o.cmd, "pending"))
        rc = cmd_pending(&o, &run);
    else if (!strcmp(o.cmd, "returned"))
        rc = cmd_returned(&o, &run);
    else
        rc = cmd_file_away(&o, &run);
    cb_run_summary(&run);
    return rc;
}
