/* The morning report's figures, read from a night's CSV files: see
 * report.h for what is counted and how. The page itself is drawn in
 * report_page.c from the structures of report_model.h. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "csvio.h"
#include "report_model.h"
#include "serial.h"
#include "vntext.h"

void cb_report_format_count(long n, char *buf)
{
    char digits[24];
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    int len = snprintf(digits, sizeof digits, "%llu", u);
    char *o = buf;
    if (n < 0)
        *o++ = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            *o++ = '.';
        *o++ = digits[i];
    }
    *o = '\0';
}

cb_report *cb_report_new(cb_date today, cb_lang lang, cb_err *err)
{
    cb_report *r = calloc(1, sizeof *r);
    if (r == NULL) {
        cb_err_sys(err, EX_OSERR, "out of memory");
        return NULL;
    }
    r->today = today;
    r->lang = lang;
    return r;
}

static void free_agencies(cb_report *r)
{
    for (size_t i = 0; i < r->nag; i++) {
        free(r->ag[i].key);
        free(r->ag[i].name);
    }
    free(r->ag);
    free(r->order);
    cb_strmap_clear(&r->ag_index);
    cb_strmap_clear(&r->key_of);
}

void cb_report_free(cb_report *r)
{
    if (r == NULL)
        return;
    free_agencies(r);
    for (size_t i = 0; i < r->ndue; i++) {
        free(r->due[i].name);
        free(r->due[i].unit);
        free(r->due[i].serial);
    }
    free(r->due);
    for (size_t i = 0; i < r->nrej; i++) {
        free(r->rej[i].id);
        free(r->rej[i].name);
        free(r->rej[i].field);
        free(r->rej[i].reason);
        free(r->rej[i].line);
    }
    free(r->rej);
    for (size_t i = 0; i < r->nreason; i++) {
        free(r->reason[i].field);
        free(r->reason[i].example);
    }
    free(r->reason);
    for (size_t i = 0; i < r->nprob; i++)
        free(r->prob[i].reason);
    free(r->prob);
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i]);
    free(r->files);
    cb_strmap_clear(&r->on_file);
    cb_strmap_clear(&r->pending_renewed);
    cb_strmap_clear(&r->pending_delivered);
    cb_strmap_clear(&r->matched);
    free(r->run_dir);
    free(r);
}

void cb_report_counts(const cb_report *r, unsigned long *in, unsigned long *used,
                      unsigned long *problems)
{
    *in = r->records_in;
    *used = r->records_in - r->nprob;
    *problems = r->nprob;
}

size_t cb_report_nproblems(const cb_report *r)
{
    return r->nprob;
}

const cb_report_problem *cb_report_problem_at(const cb_report *r, size_t i)
{
    static const cb_report_problem none = {"", 0, ""};
    if (i >= r->nprob)
        return &none;
    return (const cb_report_problem *)&r->prob[i].pub;
}

int cb_report_grow(void *arrp, size_t n, size_t *cap, size_t sz)
{
    return cb_array_grow(arrp, n, cap, sz, 16);
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d = strdup(s ? s : "");
    if (d == NULL)
        *oom = 1;
    return d;
}

/* The file names are kept once; problems point at them. */
static const char *keep_file(cb_report *r, const char *file, cb_err *err)
{
    if (r->nfiles > 0 && strcmp(r->files[r->nfiles - 1], file) == 0)
        return r->files[r->nfiles - 1];
    if (cb_report_grow(&r->files, r->nfiles, &r->capfiles, sizeof *r->files) < 0 ||
        (r->files[r->nfiles] = strdup(file)) == NULL) {
        cb_err_sys(err, EX_OSERR, "out of memory");
        return NULL;
    }
    return r->files[r->nfiles++];
}

int cb_report_problem_add(cb_report *r, const char *file, long line, const char *reason,
                          cb_err *err)
{
    const char *f = keep_file(r, file, err);
    if (f == NULL || cb_report_grow(&r->prob, r->nprob, &r->capprob, sizeof *r->prob) < 0)
        return cb_err_sys(err, EX_OSERR, "out of memory");
    char *why = strdup(reason);
    if (why == NULL)
        return cb_err_sys(err, EX_OSERR, "out of memory");
    r->prob[r->nprob].pub = (cb_report_problem){f, line, why};
    r->prob[r->nprob++].reason = why;
    return 0;
}

/* The agency of a key, made on first sight. Its name shown is the one of
 * the highest rank seen (the registry's, then a certificate's subject_o,
 * then a form's, which a clerk may have typed in capitals). */
rp_agency *cb_report_agency(cb_report *r, const char *key, const char *name, int rank,
                            cb_err *err)
{
    if (name == NULL || name[0] == '\0')
        rank = 0;
    const char *idx = cb_strmap_get(&r->ag_index, key);
    if (idx != NULL) {
        rp_agency *a = &r->ag[strtoul(idx, NULL, 10)];
        if (rank > a->name_rank) {
            char *n = strdup(name);
            if (n == NULL) {
                cb_err_sys(err, EX_OSERR, "out of memory");
                return NULL;
            }
            free(a->name);
            a->name = n;
            a->name_rank = rank;
        }
        return a;
    }
    char num[24];
    snprintf(num, sizeof num, "%zu", r->nag);
    int oom = 0;
    if (cb_report_grow(&r->ag, r->nag, &r->capag, sizeof *r->ag) < 0 ||
        cb_strmap_put(&r->ag_index, key, num) < 0) {
        cb_err_sys(err, EX_OSERR, "out of memory");
        return NULL;
    }
    rp_agency *a = &r->ag[r->nag++];
    memset(a, 0, sizeof *a);
    a->key = dup_or_null(key, &oom);
    a->name = dup_or_null(name, &oom);
    a->name_rank = rank;
    if (oom) {
        cb_err_sys(err, EX_OSERR, "out of memory");
        return NULL;
    }
    return a;
}

/* The grouping key of an agency as typed, computed once per spelling. */
const char *cb_report_agency_key(cb_report *r, const char *name, cb_err *err)
{
    const char *k = cb_strmap_get(&r->key_of, name);
    if (k != NULL)
        return k;
    char *key = cb_agency_key(name);
    if (key == NULL || cb_strmap_put(&r->key_of, name, key) < 0) {
        free(key);
        cb_err_sys(err, EX_OSERR, "out of memory");
        return NULL;
    }
    free(key);
    return cb_strmap_get(&r->key_of, name);
}

/* The agency of a request record: its agency_key column where it has one
 * (validate-form's), else the key of its agency column. */
rp_agency *cb_report_request_agency(cb_report *r, const cb_record *rec, int c_key,
                                    int c_name, int c_agency, cb_err *err)
{
    const char *name = c_name >= 0 ? cb_record_get(rec, c_name) : "";
    const char *typed = c_agency >= 0 ? cb_record_get(rec, c_agency) : "";
    int rank = RP_NAME_REGISTRY;
    if (*name == '\0') {
        name = typed;
        rank = RP_NAME_FORM;
    }
    const char *key = c_key >= 0 ? cb_record_get(rec, c_key) : "";
    if (*key == '\0' && (key = cb_report_agency_key(r, typed, err)) == NULL)
        return NULL;
    return cb_report_agency(r, key, name, rank, err);
}

int cb_report_mark_on_file(cb_report *r, const char *serial, cb_err *err)
{
    char key[CB_SERIAL_MAX];
    if (cb_serial_key(serial, key, sizeof key) < 0)
        return 0;    /* no serial (an issuance request), or not one */
    return cb_strmap_put(&r->on_file, key, "") < 0 ? cb_err_sys(err, EX_OSERR, "out of memory") : 0;
}

int cb_report_is_on_file(const cb_report *r, const char *serial)
{
    char key[CB_SERIAL_MAX];
    return cb_serial_key(serial, key, sizeof key) == 0 && cb_strmap_get(&r->on_file, key) != NULL;
}

/* Opens one CSV input. A missing file is EX_NOINPUT, named. */
cb_csv_reader *cb_report_open_csv(const char *path, cb_err *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s", path);
        return NULL;
    }
    char *files[1] = {(char *)path};
    return cb_csv_reader_open(files, 1, 0, err);
}

/* The index of a column the report needs, or EX_DATAERR naming it. */
int cb_report_need_col(const cb_header *h, const char *path, const char *name, cb_err *err)
{
    int c = cb_header_find(h, name);
    if (c < 0)
        cb_err_set(err, EX_DATAERR, "%s:1: no column '%s'", path, name);
    return c;
}

/* Reads every record of one file through fn; unreadable records become
 * problems. An input with no bytes is zero records. */
int cb_report_each(cb_report *r, const char *path, rp_bind_fn bind, rp_record_fn fn, void *ctx,
                   cb_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        return 0;
    cb_csv_reader *rd = cb_report_open_csv(path, err);
    if (rd == NULL)
        return -1;
    cb_record *rec = cb_record_new();
    int rc = rec == NULL ? cb_err_sys(err, EX_OSERR, "out of memory")
                         : bind(r, cb_csv_reader_header(rd), path, ctx, err);
    int st_;
    while (rc == 0 && (st_ = cb_csv_reader_next(rd, rec, err)) != CB_CSV_EOF) {
        if (st_ == CB_CSV_FATAL) {
            rc = -1;
            break;
        }
        r->records_in++;
        if (st_ == CB_CSV_MALFORMED)
            rc = cb_report_problem_add(r, path, rec->line, err->msg, err);
        else
            rc = fn(r, rec, path, ctx, err);
    }
    cb_record_free(rec);
    cb_csv_reader_close(rd);
    return rc;
}

int cb_report_load(cb_report *r, const cb_report_inputs *in, cb_err *err)
{
    struct stat st;
    if (stat(in->certs, &st) < 0)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s", in->certs);
    if (in->run_dir != NULL && (r->run_dir = strdup(in->run_dir)) == NULL)
        return cb_err_sys(err, EX_OSERR, "out of memory");
    /* Requests first: the certificates are judged against them. */
    if ((in->valid && cb_report_load_requests(r, in->valid, RP_VALID, err) < 0) ||
        (in->proposal && cb_report_load_requests(r, in->proposal, RP_PROPOSED, err) < 0) ||
        (in->rejects && cb_report_load_requests(r, in->rejects, RP_REJECTED, err) < 0) ||
        (in->requests_ledger && cb_report_load_ledger(r, in->requests_ledger, err) < 0))
        return -1;
    r->have_valid = in->valid != NULL;
    r->have_rejects = in->rejects != NULL;
    r->have_proposal = in->proposal != NULL;
    r->have_ledger = in->requests_ledger != NULL;
    for (size_t i = 0; i < in->nnotices; i++)
        if (cb_report_load_notices(r, in->notices[i], err) < 0)
            return -1;
    r->have_notices = in->nnotices > 0;
    if (cb_report_load_certs(r, in->certs, err) < 0)
        return -1;
    return cb_report_finish_model(r, err);
}
