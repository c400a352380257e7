/* A sign-batch issue or renew run on the filter driver: see signrun.h. */
#include "signrun.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "atomic.h"
#include "audit.h"
#include "batch.h"
#include "issue.h"
#include "ledger.h"
#include "parallel.h"
#include "profile.h"

/* The manifest's columns, appended to the request's. */
static const char *const man_extra[] = {"serial", "subject", "not_before", "not_after", "sha256",
                                        "key_file"};
#define MAN_NCOLS (sizeof man_extra / sizeof *man_extra)

struct cb_signrun {
    const cb_signrun_cfg *cfg;
    /* the issuer side, loaded before anything is written */
    X509 *ca;
    cb_signing_key key;
    cb_profile prof;
    cb_issuer issuer;
    int issuer_ok;
    cb_certindex *old;            /* renew */
    char pins_path[PATH_MAX];     /* issue */
    /* the run, from begin on */
    cb_issue_cols cols;
    cb_issue_ctx ctx;
    cb_ledger *ledger;
    cb_audit *audit;
    cb_batch_cfg bcfg;
    cb_batch *rules;              /* the ledger's rules and the write order */
    char issued_at[32];
    /* the batch being gathered */
    cb_issue_job *jobs;
    char **key_files;
    size_t njobs, cap;
    /* the manifest */
    int have_manifest;
    cb_atomic manifest;
    cb_csv_writer man_w;
    cb_header *man_header;
    int man_cols[MAN_NCOLS];
};

/* ---- the issuer side ---- */

static int load_issuer(cb_signrun *r, cb_err *err)
{
    const cb_signrun_cfg *c = r->cfg;
    if (c->profile ? cb_profile_load_file(&r->prof, c->profile, err) < 0
                   : cb_profile_defaults(&r->prof, err) < 0)
        return -1;
    if ((r->ca = cb_cert_load(c->ca_cert, err)) == NULL)
        return -1;
    if (cb_key_load_src(&r->key, c->ca_key, &c->secret, c->pkcs11_module, err) < 0 ||
        cb_issuer_init(&r->issuer, r->ca, r->key.pkey, &r->prof, r->key.token != NULL,
                                 err) < 0)
        return -1;
    r->issuer_ok = 1;
    return 0;
}

static int load_old_certs(cb_signrun *r, cb_err *err)
{
    if ((r->old = cb_certindex_new()) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (int i = 0; i < r->cfg->nold; i++)
        if (cb_certindex_add_path(r->old, r->cfg->old_certs[i], err) < 0)
            return -1;
    cb_certindex_seal(r->old);
    return 0;
}

static int make_key_dir(cb_signrun *r, cb_err *err)
{
    const cb_signrun_cfg *c = r->cfg;
    if (mkdir(c->key_dir, 0700) != 0 && errno != EEXIST)
        return cb_err_sys(err, EX_CANTCREAT, "cannot create %s", c->key_dir);
    int n = c->pins ? snprintf(r->pins_path, sizeof r->pins_path, "%s", c->pins)
                    : snprintf(r->pins_path, sizeof r->pins_path, "%s/pins.csv", c->key_dir);
    if (n < 0 || (size_t)n >= sizeof r->pins_path)
        return cb_err_set(err, EX_USAGE, "the PIN file's path is too long");
    return 0;
}

cb_signrun *cb_signrun_new(const cb_signrun_cfg *cfg, cb_err *err)
{
    cb_signrun *r = calloc(1, sizeof *r);
    if (r == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    /* Everything that can fail on a secret or a key before anything is
     * written: a wrong passphrase leaves no trace. */
    if (load_issuer(r, err) < 0 ||
        (cfg->mode == CB_ISSUE_RENEW ? load_old_certs(r, err) : make_key_dir(r, err)) < 0) {
        cb_signrun_close(r, NULL);
        return NULL;
    }
    return r;
}

/* ---- begin: the ledger, the recovery, the batch and the manifest ---- */

/* begin's own problems are told as `prog: message`: no input line is at
 * fault. The driver sees the run stopped and opens no output. */
static int stop(cb_filter *f, const cb_err *err)
{
    cb_filter_stop(f, NULL, 0, err);
    return 0;
}

/* The hidden temporaries a killed run left beside the outputs go, and a
 * batch journal it left is finished — or rolled back where the ledger
 * never committed it — and said so. */
static int recover(cb_signrun *r, cb_filter *f, cb_err *err)
{
    const char *paths[] = {f->output, r->cfg->manifest, f->rejects_path,
                           r->cfg->mode == CB_ISSUE_NEW ? r->pins_path : NULL};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (paths[i] && strcmp(paths[i], "-") != 0 && cb_atomic_sweep_path(paths[i], err) < 0)
            return -1;
    cb_journal_report jr;
    if (cb_batch_recover(r->rules, &jr, err) < 0)
        return -1;
    if (jr.entries && !f->quiet)
        cb_filter_note(f,
                       "%s: finished the batch a previous run left half-done: %zu key file%s and "
                       "%zu PIN%s written, %zu key%s never committed rolled back",
                       cb_batch_journal_path(r->rules), jr.keys, jr.keys == 1 ? "" : "s", jr.pins,
                       jr.pins == 1 ? "" : "s", jr.rolled_back, jr.rolled_back == 1 ? "" : "s");
    return 0;
}

/* Room for a batch: a few per thread for the slow key generation of an
 * issue, many for the quick signatures of a renewal. */
static int alloc_jobs(cb_signrun *r, cb_err *err)
{
    r->cap = (size_t)(r->cfg->mode == CB_ISSUE_RENEW ? 512 : 16) * (size_t)r->cfg->jobs;
    r->jobs = calloc(r->cap, sizeof *r->jobs);
    r->key_files = calloc(r->cap, sizeof *r->key_files);
    if (!r->jobs || !r->key_files)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < r->cap; i++)
        if ((r->jobs[i].rec = cb_record_new()) == NULL ||
            (r->key_files[i] = calloc(1, PATH_MAX)) == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

static int open_manifest(cb_signrun *r, const cb_header *in, cb_err *err)
{
    if (r->cfg->manifest == NULL)
        return 0;
    if ((r->man_header = cb_header_copy(in)) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < MAN_NCOLS; i++)
        if ((r->man_cols[i] = cb_header_ensure(r->man_header, man_extra[i])) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    if (cb_atomic_open(&r->manifest, r->cfg->manifest, 0644, err) < 0)
        return -1;
    r->have_manifest = 1;
    cb_csv_writer_init(&r->man_w, r->manifest.fp);
    cb_csv_write_header(&r->man_w, r->man_header);
    return 0;
}

static void set_context(cb_signrun *r)
{
    int renew = r->cfg->mode == CB_ISSUE_RENEW;
    r->ctx = (cb_issue_ctx){
        .mode = r->cfg->mode,
        .issuer = &r->issuer,
        .cols = &r->cols,
        .old = r->old,
        .key_alg = r->cfg->key_alg ? r->cfg->key_alg : r->prof.key_alg,
        .want_p12 = !renew,
        .months = renew ? (r->cfg->extend_months ? r->cfg->extend_months : r->prof.renew_months)
                        : r->prof.validity_months,
        .now = (int64_t)time(NULL),
    };
    cb_instant_format(r->ctx.now, r->issued_at);
    r->bcfg = (cb_batch_cfg){r->cfg->mode, &r->issuer, &r->cols, r->ledger, r->cfg->key_dir,
                             renew ? NULL : r->pins_path, r->issued_at};
}

static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    cb_signrun *r = ctx;
    const cb_signrun_cfg *c = r->cfg;
    cb_issue_cols_find(&r->cols, in);
    if ((c->ledger && (r->ledger = cb_ledger_open(c->ledger, err)) == NULL) ||
        (c->audit && (r->audit = cb_audit_open(c->audit, NULL, err)) == NULL))
        return stop(f, err);
    set_context(r);
    if ((r->rules = cb_batch_new(&r->bcfg, err)) == NULL || recover(r, f, err) < 0 ||
        alloc_jobs(r, err) < 0 || open_manifest(r, in, err) < 0)
        return stop(f, err);
    return 0;
}

/* ---- a batch: gathered, run, made durable, shown ---- */

/* A job's certificate on the output, and its manifest row. */
static int write_out(cb_signrun *r, cb_filter *f, size_t i, cb_err *err)
{
    cb_issue_job *j = &r->jobs[i];
    FILE *out = cb_filter_output(f);
    if (out == NULL)
        return cb_err_set(err, EX_USAGE, "-o: the certificates are PEM, not a workbook");
    if (fwrite(j->cert_pem, 1, j->cert_pem_len, out) != j->cert_pem_len)
        return cb_filter_write_error(f);
    if (r->have_manifest) {
        const char *v[MAN_NCOLS] = {j->serial,    j->subject, j->not_before,
                                    j->not_after, j->sha256,  r->key_files[i]};
        for (size_t k = 0; k < MAN_NCOLS; k++)
            cb_record_set_str(j->rec, r->man_cols[k], v[k]);
        if (cb_csv_write_record(&r->man_w, j->rec, r->man_header->n) < 0)
            return cb_err_sys(err, EX_IOERR, "cannot write the manifest");
    }
    cb_filter_count_out(f);
    return 0;
}

/* One job's outcome, as the run shows it. */
static int show(cb_signrun *r, cb_filter *f, size_t i, cb_err *err)
{
    cb_issue_job *j = &r->jobs[i];
    const char *input = cb_filter_input(f);
    switch (j->status) {
    case CB_JOB_AGAIN:
        if (!f->quiet)
            cb_filter_note(f, "%s:%ld: %s", input, j->rec->line, j->reason);
        return write_out(r, f, i, err);
    case CB_JOB_OK:
        return write_out(r, f, i, err);
    case CB_JOB_SKIP:
        cb_filter_drop(f);
        if (!f->quiet)
            cb_filter_note(f, "%s:%ld: %s", input, j->rec->line, j->reason);
        return 0;
    case CB_JOB_REJECT:
        return cb_filter_reject_at(f, j->rec, input, j->rec->line, j->field, j->reason);
    default:
        return cb_err_set(err, EX_SOFTWARE, "%s:%ld: %s", input, j->rec->line,
                          j->reason[0] ? j->reason : "the request was not processed");
    }
}

static void job_worker(void *arg, size_t i)
{
    cb_signrun *r = arg;
    cb_issue_job_run(&r->ctx, &r->jobs[i]);
}

/* Runs the batch gathered, makes it durable (cb_batch_commit), then shows
 * it in input order. A problem stops the run, told here unless the
 * driver told it (a write error). */
static int flush(cb_signrun *r, cb_filter *f)
{
    cb_err err = {0};
    size_t n = r->njobs;
    r->njobs = 0;
    if (n == 0)
        return 0;
    cb_parallel_for(n, r->cfg->jobs, job_worker, r, &err);
    int rc = cb_batch_commit(r->rules, r->jobs, r->key_files, n, &err) < 0 ||
                     cb_audit_jobs(r->audit, r->cfg->mode == CB_ISSUE_RENEW ? "renew" : "issue",
                                   r->jobs, n, r->cols.request_id, &err) < 0
                 ? -1
                 : 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = show(r, f, i, &err);
    if (rc == 0 && cb_filter_output(f) && fflush(cb_filter_output(f)) != 0)
        rc = cb_filter_write_error(f);
    if (rc < 0 && !f->failed)
        cb_filter_stop(f, NULL, 0, &err);
    return rc;
}

/* Each record joins the batch once the run's rules have seen it, in
 * input order; a full batch runs. A problem has stopped the run through
 * the driver, and no record is lost: those gathered were shown. */
static int process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    cb_signrun *r = ctx;
    cb_issue_job *j = &r->jobs[r->njobs];
    cb_issue_job_clear(j);
    if (cb_record_copy(j->rec, rec) < 0)
        return stop(f, &(cb_err){EX_OSERR, "out of memory"});
    if (cb_batch_check(r->rules, j, r->key_files[r->njobs], err) < 0)
        return stop(f, err);
    if (++r->njobs == r->cap)
        flush(r, f);
    return 0;
}

static int end(void *ctx, cb_filter *f, cb_err *err)
{
    (void)err;
    flush(ctx, f);
    return 0;
}

const cb_filter_step cb_signrun_step = {begin, process, end};

/* ---- the end of the run ---- */

void cb_signrun_finish(cb_signrun *r, cb_filter *f)
{
    cb_err err = {0};
    if (r->rules && cb_batch_finish(r->rules, &err) < 0) {
        cb_err why = err;
        cb_err_set(&err, why.code, "%.700s (the keys and PINs wait in %.250s for the next run)",
                   why.msg, cb_batch_journal_path(r->rules));
        cb_filter_fail(f, &err);
    }
    if (r->have_manifest && cb_atomic_commit(&r->manifest, 0, &err) < 0) {
        cb_filter_fail(f, &err);
        cb_atomic_abort(&r->manifest);
    }
    r->have_manifest = 0;
}

int cb_signrun_close(cb_signrun *r, cb_filter *f)
{
    cb_err err = {0};
    if (r != NULL) {
        if (r->audit && cb_audit_close(r->audit, r->ca, r->key.pkey, &err) < 0 && f)
            cb_filter_fail(f, &err);
        if (r->ledger && cb_ledger_close(r->ledger, &err) < 0 && f)
            cb_filter_fail(f, &err);
        if (r->have_manifest)
            cb_atomic_abort(&r->manifest);
        for (size_t i = 0; r->jobs && i < r->cap; i++) {
            cb_issue_job_clear(&r->jobs[i]);
            cb_record_free(r->jobs[i].rec);
            if (r->key_files)
                free(r->key_files[i]);
        }
        free(r->jobs);
        free(r->key_files);
        cb_batch_free(r->rules);
        cb_header_free(r->man_header);
        cb_certindex_free(r->old);
        if (r->issuer_ok)
            cb_issuer_free(&r->issuer);
        cb_key_free(&r->key);
        X509_free(r->ca);
        cb_profile_free(&r->prof);
        free(r);
    }
    if (f == NULL)
        return 0;
    /* A diagnostic or summary that could not be told is a loss too. */
    if (fflush(f->diag) != 0 || ferror(f->diag))
        f->rc = cb_exit_worst(f->rc, EX_IOERR);
    return f->rc;
}
