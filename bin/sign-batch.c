/* sign-batch: issue and renew certificates from request records with the CA
 * key, and sign or check batch files with a detached CMS signature. The
 * work is in lib/issue.c (certificates), lib/ledger.c (re-runs),
 * lib/keyload.c (keys, passphrases, tokens) and lib/cms.c (signatures);
 * this file holds the options, the loop in batches and the outputs, which
 * it writes in input order and in an order that survives a crash (see
 * emit): new keys and PINs into the batch journal (lib/journal.c), the
 * certificates and their ledger lines (the commit), then key files, then
 * the certificates out. A re-run finishes what a crash left half-done, and
 * writes the certificates the ledger already holds for its requests out
 * again from the ledger's store: its output is always the whole batch. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "cb_err.h"
#include "cms.h"
#include "csvio.h"
#include "date.h"
#include "issue.h"
#include "audit.h"
#include "journal.h"
#include "keyload.h"
#include "ledger.h"
#include "profile.h"
#include "rejects.h"
#include "run.h"

#define PROG "sign-batch"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: " PROG " issue --ca-cert FILE --ca-key KEY --key-dir DIR [--pins FILE]\n"
            "                  [--key-alg rsa2048|rsa3072|ec-p256] [--profile FILE] [--ledger FILE]\n"
            "                  [--manifest FILE] [--rejects FILE] [--strict] [-j N] [-o FILE] [-q]\n"
            "                  [FILE...]\n"
            "       " PROG " renew --ca-cert FILE --ca-key KEY --old-certs FILE|DIR [--extend-months N]\n"
            "                  [--profile FILE] [--ledger FILE] [--manifest FILE] [--rejects FILE]\n"
            "                  [--strict] [-j N] [-o FILE] [-q] [FILE...]\n"
            "       " PROG " sign --cert FILE --key KEY [-o FILE] [-q] [FILE]\n"
            "       " PROG " verify --ca FILE --sig FILE [-q] [FILE]\n"
            "       " PROG " --help | --version\n"
            "Key passphrase or token PIN: --pass-file FILE, --pass-fd N or $CB_CA_PASS.\n"
            "A key in a token: --ca-key 'pkcs11:token=...;object=...' [--pkcs11-module LIB].\n"
            "Audit log (issue, renew, sign): --audit FILE, a checkpoint signed by the key (audit-verify).\n");
}

typedef struct opts {
    const char *mode;
    const char *ca_cert, *ca_key, *profile, *key_alg, *key_dir, *pins, *ledger, *manifest;
    const char *rejects, *out, *cert, *key, *ca, *sig, *pkcs11_module, *audit;
    const char *old_certs[64];
    int nold;
    int extend_months;
    int jobs;
    int strict, quiet;
    cb_secret_src secret;
} opts;

static int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int die(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* ---- sign and verify ---- */

static int load_signing_key(const opts *o, const char *spec, cb_signing_key *k, cb_err *err)
{
    char *secret = NULL;
    if (cb_secret_read(&o->secret, &secret, err) < 0)
        return -1;
    const char *module = o->pkcs11_module ? o->pkcs11_module : getenv("CB_PKCS11_MODULE");
    int rc = cb_key_load(k, spec, secret, module, err);
    cb_secret_free(secret);
    return rc;
}

static int do_sign(const opts *o, int nfiles, char **files)
{
    cb_err err = {0};
    cb_run run;
    if (!o->cert || !o->key)
        return usage(stderr), EX_USAGE;
    if (nfiles > 1)
        return die(EX_USAGE, "sign takes one file");
    cb_run_start(&run, PROG, stderr, o->quiet);
    const char *path = nfiles == 1 && strcmp(files[0], "-") != 0 ? files[0] : NULL;
    X509 *cert = cb_cert_load(o->cert, &err);
    if (cert == NULL)
        return die(err.code, "%s", err.msg);
    cb_signing_key k;
    if (load_signing_key(o, o->key, &k, &err) < 0) {
        X509_free(cert);
        return die(err.code, "%s", err.msg);
    }
    BIO *in = path ? BIO_new_file(path, "rb") : BIO_new_fp(stdin, BIO_NOCLOSE);
    int rc = 0;
    cb_output out;
    if (in == NULL) {
        rc = die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s: %s", path,
                 strerror(errno));
    } else if (cb_output_open(&out, o->out, 0644, &err) < 0) {
        rc = die(err.code, "%s", err.msg);
    } else {
        run.in = 1;
        BIO *ob = BIO_new_fp(out.fp, BIO_NOCLOSE);
        if (ob == NULL || cb_cms_sign(cert, k.pkey, NULL, in, ob, &err) < 0) {
            BIO_free(ob);
            cb_output_abort(&out);
            rc = die(err.code ? err.code : EX_SOFTWARE, "%s", err.code ? err.msg : "out of memory");
        } else {
            BIO_free(ob);
            if (cb_output_close(&out, &err) < 0)
                rc = die(err.code, "%s", err.msg);
            else if ((run.out = 1) && cb_audit_sign(o->audit, path, cert, k.pkey, &err) < 0)
                rc = die(err.code, "signed, but %s", err.msg);
        }
    }
    BIO_free(in);
    cb_key_free(&k);
    X509_free(cert);
    if (rc == 0)
        cb_run_summary(&run);
    return rc;
}

static int do_verify(const opts *o, int nfiles, char **files)
{
    cb_err err = {0};
    cb_run run;
    if (!o->ca || !o->sig)
        return usage(stderr), EX_USAGE;
    if (nfiles > 1)
        return die(EX_USAGE, "verify takes one file");
    cb_run_start(&run, PROG, stderr, o->quiet);
    const char *path = nfiles == 1 && strcmp(files[0], "-") != 0 ? files[0] : NULL;
    char signer[512];
    run.in = 1;
    if (cb_cms_verify(o->ca, o->sig, path, stdin, signer, sizeof signer, &err) < 0) {
        run.rejected = 1;
        cb_run_summary(&run);
        return die(err.code, "%s", err.msg);
    }
    run.out = 1;
    if (!o->quiet)
        cb_warn(&run, "%s: good signature by %s", path ? path : "stdin", signer);
    cb_run_summary(&run);
    return 0;
}

/* ---- issue and renew ---- */

typedef struct batch {
    const opts *o;
    cb_issue_ctx ctx;
    cb_issue_cols cols;
    cb_ledger *ledger;
    cb_audit *audit;
    cb_strmap *seen_ids;      /* request id -> line, this run */
    cb_strmap *seen_serials;  /* old serial -> line, this run */
    cb_strmap *seen_files;    /* key file -> request id, this run */
    cb_rejects rj;
    cb_run run;
    cb_output out;
    cb_csv_writer out_w;
    int have_manifest;
    cb_atomic manifest;
    cb_csv_writer man_w;
    cb_header *man_header;
    int man_cols[6];
    const char *pins_path;
    char *journal_path;       /* LEDGER.journal, or PINS.journal without a ledger */
    cb_journal *journal;      /* created at the first generated key */
    const char *input;
    cb_issue_job *jobs;
    char **key_files;
    size_t njobs, cap;
    char issued_at[32];
} batch;

static void job_worker(void *arg, size_t i)
{
    batch *b = arg;
    cb_issue_job_run(&b->ctx, &b->jobs[i]);
}

static void set_status(cb_issue_job *j, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_status(cb_issue_job *j, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->reason, sizeof j->reason, fmt, ap);
    va_end(ap);
    j->status = status;
    j->field = field;
}

static void trimmed(const cb_record *r, int col, char *buf, size_t n)
{
    const char *s = col >= 0 ? cb_record_get(r, col) : "";
    while (*s == ' ' || *s == '\t')
        s++;
    snprintf(buf, n, "%s", s);
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == ' ' || buf[l - 1] == '\t'))
        buf[--l] = '\0';
}

/* A request the ledger holds: its certificate goes out again, from the
 * ledger's store; only one issued before the store existed is skipped. */
static int again(batch *b, size_t i, const char *id, const char *serial, cb_err *err)
{
    cb_issue_job *j = &b->jobs[i];
    const unsigned char *der;
    size_t len;
    int found = cb_ledger_cert(b->ledger, serial, &der, &len, err);
    if (found < 0)
        return -1;
    if (found == 0 || cb_issue_job_again(b->ctx.issuer, j, der, len) < 0) {
        set_status(j, CB_JOB_SKIP, NULL,
                   "request %.200s was already issued as serial %.80s (ledger), and its "
                   "certificate is not in %.150s.certs.pem: skipped",
                   id, serial, cb_ledger_path(b->ledger));
        return 0;
    }
    snprintf(j->reason, sizeof j->reason,
             "request %.200s was already issued as serial %.80s (ledger): its certificate is "
             "written out again, not issued twice",
             id, serial);
    if (b->ctx.mode == CB_ISSUE_NEW) {
        char name[256];
        struct stat st;
        cb_issue_file_name(id, name, sizeof name);
        snprintf(b->key_files[i], PATH_MAX, "%s/%s.p12", b->o->key_dir, name);
        if (stat(b->key_files[i], &st) != 0)
            b->key_files[i][0] = '\0';  /* a CSR's certificate, or a key kept elsewhere */
    }
    return 0;
}

/* The checks that need the whole run: the ledger, and requests or serials
 * met earlier in this run. Done in input order, before the jobs run. */
static int precheck(batch *b, size_t i, cb_err *err)
{
    cb_issue_job *j = &b->jobs[i];
    char id[512], line[32], serial[160];
    trimmed(j->rec, b->cols.request_id, id, sizeof id);
    b->key_files[i][0] = '\0';
    if (*id == '\0')
        return 0;  /* the job rejects it */
    snprintf(line, sizeof line, "%ld", j->rec->line);
    const char *done = b->ledger ? cb_ledger_find_request(b->ledger, id) : NULL;
    if (done)
        return again(b, i, id, done, err);
    const char *first = cb_strmap_get(b->seen_ids, id);
    if (first) {
        set_status(j, CB_JOB_REJECT, "request_id",
                   "request id %s appears twice in the batch; the first is at line %s", id, first);
        return 0;
    }
    if (cb_strmap_put(b->seen_ids, id, line) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (b->ctx.mode == CB_ISSUE_RENEW) {
        trimmed(j->rec, b->cols.old_serial, serial, sizeof serial);
        char norm[160];
        cb_serial_normalize(serial, norm, sizeof norm);
        if (*norm == '\0')
            return 0;  /* the job rejects it */
        const char *by = b->ledger ? cb_ledger_find_renewal_of(b->ledger, norm) : NULL;
        if (by) {
            set_status(j, CB_JOB_REJECT, "old_serial",
                       "certificate %s was already renewed (request %s); a certificate may be "
                       "renewed only once",
                       serial, by);
            return 0;
        }
        if (b->ledger && cb_ledger_is_renewed(b->ledger, norm)) {
            set_status(j, CB_JOB_REJECT, "old_serial",
                       "certificate %s is itself a renewal; a certificate may be renewed only once",
                       serial);
            return 0;
        }
        first = cb_strmap_get(b->seen_serials, norm);
        if (first) {
            set_status(j, CB_JOB_REJECT, "old_serial",
                       "certificate %s is asked for twice in the batch; the first is at line %s",
                       serial, first);
            return 0;
        }
        if (cb_strmap_put(b->seen_serials, norm, line) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
        return 0;
    }
    int has_csr = (b->cols.csr_pem >= 0 && *cb_record_get(j->rec, b->cols.csr_pem)) ||
                  (b->cols.csr_file >= 0 && *cb_record_get(j->rec, b->cols.csr_file));
    if (has_csr)
        return 0;
    char name[256];
    cb_issue_file_name(id, name, sizeof name);
    snprintf(b->key_files[i], PATH_MAX, "%s/%s.p12", b->o->key_dir, name);
    struct stat st;
    const char *other = cb_strmap_get(b->seen_files, b->key_files[i]);
    if (other || stat(b->key_files[i], &st) == 0) {
        set_status(j, CB_JOB_REJECT, "request_id",
                   "the key file %s already exists%s%s; key files are never overwritten",
                   b->key_files[i], other ? " for request " : "", other ? other : "");
        b->key_files[i][0] = '\0';
        return 0;
    }
    if (cb_strmap_put(b->seen_files, b->key_files[i], id) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

/* 1. New keys and PINs into the journal, synced: from here on no key can
 * be lost, whatever happens to the process. */
static int stage_keys(batch *b, cb_err *err)
{
    int any = 0;
    for (size_t i = 0; i < b->njobs; i++) {
        cb_issue_job *j = &b->jobs[i];
        if (j->status != CB_JOB_OK || j->p12 == NULL)
            continue;
        if (b->journal == NULL && (b->journal = cb_journal_create(b->journal_path, err)) == NULL)
            return -1;
        char id[512];
        trimmed(j->rec, b->cols.request_id, id, sizeof id);
        cb_journal_entry e = {id, j->serial, b->key_files[i], b->pins_path, j->pin, j->p12, j->p12_len};
        if (cb_journal_add(b->journal, &e, err) < 0)
            return -1;
        any = 1;
    }
    return any ? cb_journal_sync(b->journal, err) : 0;
}

/* 2. The certificates into the ledger's store, then their ledger lines:
 * the commit. */
static int commit(batch *b, cb_err *err)
{
    const char *type = b->ctx.mode == CB_ISSUE_RENEW ? "renew" : "issue";
    int any = 0;
    for (size_t i = 0; b->ledger && i < b->njobs; i++) {
        cb_issue_job *j = &b->jobs[i];
        if (j->status != CB_JOB_OK)
            continue;
        char id[512];
        trimmed(j->rec, b->cols.request_id, id, sizeof id);
        cb_ledger_entry e = {id,         type,         j->old_serial,   j->serial,
                             j->subject, j->not_after, j->sha256,       b->issued_at,
                             j->cert_pem, j->cert_pem_len};
        if (cb_ledger_append(b->ledger, &e, err) < 0)
            return -1;
        any = 1;
    }
    return any ? cb_ledger_sync(b->ledger, err) : 0;
}

static int write_out(batch *b, size_t i, cb_err *err)
{
    cb_issue_job *j = &b->jobs[i];
    if (fwrite(j->cert_pem, 1, j->cert_pem_len, b->out.fp) != j->cert_pem_len)
        return cb_err_sys(err, EX_IOERR, "cannot write the certificates");
    if (b->have_manifest) {
        cb_record_set_str(j->rec, b->man_cols[0], j->serial);
        cb_record_set_str(j->rec, b->man_cols[1], j->subject);
        cb_record_set_str(j->rec, b->man_cols[2], j->not_before);
        cb_record_set_str(j->rec, b->man_cols[3], j->not_after);
        cb_record_set_str(j->rec, b->man_cols[4], j->sha256);
        cb_record_set_str(j->rec, b->man_cols[5], b->key_files[i]);
        if (cb_csv_write_record(&b->man_w, j->rec, b->man_header->n) < 0)
            return cb_err_sys(err, EX_IOERR, "cannot write the manifest");
    }
    b->run.out++;
    return 0;
}

/* Writes the results of the jobs: stage, commit, key files, then in input
 * order the certificates, manifest rows and rejects. A crash before the
 * commit leaves nothing issued (the journal's keys are rolled back by the
 * re-run); after it, the re-run publishes the keys and PINs from the
 * journal and writes the certificates from the ledger's store. Returns 0,
 * or -1 with err set for an error that stops the run. */
static int emit(batch *b, cb_err *err)
{
    if (stage_keys(b, err) < 0 || commit(b, err) < 0 ||
        cb_audit_jobs(b->audit, b->ctx.mode == CB_ISSUE_RENEW ? "renew" : "issue", b->jobs, b->njobs,
                      b->cols.request_id, err) < 0)
        return -1;
    /* 3. Key files: each is in the journal, so a crash here loses none. */
    for (size_t i = 0; i < b->njobs; i++) {
        cb_issue_job *j = &b->jobs[i];
        if (j->status == CB_JOB_OK && j->p12 &&
            cb_atomic_write_file(b->key_files[i], j->p12, j->p12_len, 0600, 1, err) < 0)
            return -1;
        if (j->status == CB_JOB_OK && j->p12 == NULL)
            b->key_files[i][0] = '\0';
    }
    /* 4. What the run shows: certificates, manifest, rejects. */
    for (size_t i = 0; i < b->njobs; i++) {
        cb_issue_job *j = &b->jobs[i];
        switch (j->status) {
        case CB_JOB_AGAIN:
            if (!b->o->quiet)
                cb_warn(&b->run, "%s:%ld: %s", b->input, j->rec->line, j->reason);
            /* fall through */
        case CB_JOB_OK:
            if (write_out(b, i, err) < 0)
                return -1;
            break;
        case CB_JOB_SKIP:
            b->run.filtered++;
            if (!b->o->quiet)
                cb_warn(&b->run, "%s:%ld: %s", b->input, j->rec->line, j->reason);
            break;
        case CB_JOB_REJECT:
            b->run.rejected++;
            if (cb_rejects_add(&b->rj, j->rec, b->input, j->rec->line, j->field, j->reason) < 0)
                return cb_err_sys(err, EX_IOERR, "cannot write the rejects");
            break;
        default:
            return cb_err_set(err, EX_SOFTWARE, "%s:%ld: %s", b->input, j->rec->line,
                              j->reason[0] ? j->reason : "the request was not processed");
        }
        cb_run_tick(&b->run);
    }
    if (fflush(b->out.fp) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the certificates");
    return 0;
}

/* Before anything is written: the hidden temporaries a killed run left
 * beside the outputs go (a PKCS#12 among them), and a batch journal it
 * left is finished — or rolled back where the ledger never committed it. */
static int recover(batch *b, cb_err *err)
{
    const opts *o = b->o;
    const char *paths[] = {o->out, o->manifest, o->rejects, b->pins_path};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (paths[i] && strcmp(paths[i], "-") != 0 && cb_atomic_sweep_path(paths[i], err) < 0)
            return -1;
    if (o->key_dir && cb_atomic_sweep(o->key_dir, NULL, err) < 0)
        return -1;
    if (b->journal_path == NULL)
        return 0;
    cb_journal_report jr;
    if (cb_journal_finish(b->journal_path, b->ledger, &jr, err) < 0)
        return -1;
    if (jr.entries && !o->quiet)
        fprintf(stderr,
                PROG ": %s: finished the batch a previous run left half-done: %zu key file%s and "
                "%zu PIN%s written, %zu key%s never committed rolled back\n",
                b->journal_path, jr.keys, jr.keys == 1 ? "" : "s", jr.pins, jr.pins == 1 ? "" : "s",
                jr.rolled_back, jr.rolled_back == 1 ? "" : "s");
    return 0;
}

static int load_issuer_side(const opts *o, X509 **ca, cb_signing_key *k, cb_profile *prof,
                            cb_err *err)
{
    if (o->profile ? cb_profile_load_file(prof, o->profile, err) < 0
                   : cb_profile_defaults(prof, err) < 0)
        return -1;
    if ((*ca = cb_cert_load(o->ca_cert, err)) == NULL)
        return -1;
    return load_signing_key(o, o->ca_key, k, err);
}

static int do_batch(const opts *o, int nfiles, char **files)
{
    int renew = strcmp(o->mode, "renew") == 0;
    if (!o->ca_cert || !o->ca_key)
        return die(EX_USAGE, "%s needs --ca-cert and --ca-key", o->mode);
    if (renew && o->nold == 0)
        return die(EX_USAGE, "renew needs --old-certs FILE|DIR");
    if (!renew && !o->key_dir)
        return die(EX_USAGE, "issue needs --key-dir DIR for the new keys");
    if (o->key_alg && !cb_key_alg_valid(o->key_alg))
        return die(EX_USAGE, "--key-alg: '%s' is not one of rsa2048, rsa3072, ec-p256", o->key_alg);

    cb_err err = {0};
    int rc = 0;
    X509 *ca = NULL;
    cb_signing_key key = {0};
    cb_profile prof = {0};
    cb_issuer issuer;
    int issuer_ok = 0;
    cb_certindex *old = NULL;
    cb_csv_reader *rd = NULL;
    batch b;
    memset(&b, 0, sizeof b);
    b.o = o;
    char pins_path[PATH_MAX];

    /* Everything that can fail on a secret or a key before anything is
     * written: a wrong passphrase leaves no trace. */
    if (load_issuer_side(o, &ca, &key, &prof, &err) < 0 ||
        cb_issuer_init(&issuer, ca, key.pkey, &prof, key.token != NULL, &err) < 0) {
        rc = die(err.code, "%s", err.msg);
        goto out;
    }
    issuer_ok = 1;
    if (renew) {
        if ((old = cb_certindex_new()) == NULL) {
            rc = die(EX_OSERR, "out of memory");
            goto out;
        }
        for (int i = 0; i < o->nold; i++)
            if (cb_certindex_add_path(old, o->old_certs[i], &err) < 0) {
                rc = die(err.code, "%s", err.msg);
                goto out;
            }
        cb_certindex_seal(old);
    } else {
        if (mkdir(o->key_dir, 0700) != 0 && errno != EEXIST) {
            rc = die(EX_CANTCREAT, "cannot create %s: %s", o->key_dir, strerror(errno));
            goto out;
        }
        snprintf(pins_path, sizeof pins_path, "%s", o->pins ? o->pins : "");
        if (!o->pins)
            snprintf(pins_path, sizeof pins_path, "%s/pins.csv", o->key_dir);
        b.pins_path = pins_path;
    }
    rd = cb_csv_reader_open(files, nfiles, 0, &err);
    if (rd == NULL) {
        rc = die(err.code, "%s", err.msg);
        goto out;
    }
    if ((o->ledger && (b.ledger = cb_ledger_open(o->ledger, &err)) == NULL) ||
        (o->audit && (b.audit = cb_audit_open(o->audit, NULL, &err)) == NULL)) {
        rc = die(err.code, "%s", err.msg);
        goto out;
    }
    if (!renew && (b.journal_path = cb_journal_path(o->ledger ? o->ledger : pins_path)) == NULL) {
        rc = die(EX_OSERR, "out of memory");
        goto out;
    }
    if (recover(&b, &err) < 0) {
        rc = die(err.code, "%s", err.msg);
        goto out;
    }
    const cb_header *h = cb_csv_reader_header(rd);
    cb_issue_cols_find(&b.cols, h);
    b.ctx = (cb_issue_ctx){
        .mode = renew ? CB_ISSUE_RENEW : CB_ISSUE_NEW,
        .issuer = &issuer,
        .cols = &b.cols,
        .old = old,
        .key_alg = o->key_alg ? o->key_alg : prof.key_alg,
        .want_p12 = !renew,
        .months = renew ? (o->extend_months ? o->extend_months : prof.renew_months)
                        : prof.validity_months,
        .now = (int64_t)time(NULL),
    };
    cb_instant_format(b.ctx.now, b.issued_at);
    b.seen_ids = cb_strmap_new();
    b.seen_serials = cb_strmap_new();
    b.seen_files = cb_strmap_new();
    b.cap = (size_t)(renew ? 512 : 16) * (size_t)o->jobs;
    b.jobs = calloc(b.cap, sizeof *b.jobs);
    b.key_files = calloc(b.cap, sizeof *b.key_files);
    if (!b.seen_ids || !b.seen_serials || !b.seen_files || !b.jobs || !b.key_files) {
        rc = die(EX_OSERR, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < b.cap; i++)
        if ((b.jobs[i].rec = cb_record_new()) == NULL ||
            (b.key_files[i] = calloc(1, PATH_MAX)) == NULL) {
            rc = die(EX_OSERR, "out of memory");
            goto out;
        }

    /* The outputs. */
    cb_run_start(&b.run, PROG, stderr, o->quiet);
    if (cb_rejects_open(&b.rj, PROG, o->rejects, stderr, &err) < 0 ||
        cb_rejects_set_header(&b.rj, h) < 0) {
        rc = die(err.code ? err.code : EX_OSERR, "%s", err.code ? err.msg : "out of memory");
        goto out;
    }
    if (cb_output_open(&b.out, o->out, 0644, &err) < 0) {
        rc = die(err.code, "%s", err.msg);
        cb_rejects_abort(&b.rj);
        goto out;
    }
    if (o->manifest) {
        static const char *const extra[6] = {"serial", "subject", "not_before",
                                             "not_after", "sha256", "key_file"};
        b.man_header = cb_header_copy(h);
        for (int i = 0; b.man_header && i < 6; i++)
            b.man_cols[i] = cb_header_ensure(b.man_header, extra[i]);
        if (b.man_header == NULL || cb_atomic_open(&b.manifest, o->manifest, 0644, &err) < 0) {
            rc = die(err.code ? err.code : EX_OSERR, "%s", err.code ? err.msg : "out of memory");
            cb_output_abort(&b.out);
            cb_rejects_abort(&b.rj);
            goto out;
        }
        b.have_manifest = 1;
        cb_csv_writer_init(&b.man_w, b.manifest.fp);
        cb_csv_write_header(&b.man_w, b.man_header);
    }

    /* The loop: read a batch, check it against the run, run the jobs on
     * the threads, write the results in order. */
    int eof = 0;
    while (!eof && rc == 0) {
        b.njobs = 0;
        while (b.njobs < b.cap) {
            cb_issue_job *j = &b.jobs[b.njobs];
            cb_issue_job_clear(j);
            int st = cb_csv_reader_next(rd, j->rec, &err);
            b.input = cb_csv_reader_name(rd);
            if (st == CB_CSV_EOF) {
                eof = 1;
                break;
            }
            if (st == CB_CSV_FATAL) {
                rc = err.code ? err.code : EX_IOERR;
                fprintf(stderr, PROG ": %s\n", err.msg);
                eof = 1;
                break;
            }
            b.run.in++;
            if (st == CB_CSV_MALFORMED)
                set_status(j, CB_JOB_REJECT, NULL, "%s", err.msg);
            else if (precheck(&b, b.njobs, &err) < 0) {
                rc = die(err.code, "%s", err.msg);
                eof = 1;
                break;
            }
            b.njobs++;
        }
        if (b.njobs == 0)
            break;
        cb_parallel_for(b.njobs, o->jobs, job_worker, &b, &err);
        if (emit(&b, &err) < 0) {
            rc = die(err.code, "%s", err.msg);
            break;
        }
    }

    /* Whatever happened, the keys committed get their files and PINs (a
     * journal that cannot be finished stays for the next run), and the
     * outputs keep what was issued. */
    if (b.journal) {
        cb_journal_close(b.journal);
        b.journal = NULL;
        cb_journal_report jr;
        if (cb_journal_finish(b.journal_path, b.ledger, &jr, &err) < 0)
            rc = cb_exit_worst(rc, die(err.code, "%s (the keys and PINs wait in %s for the next run)",
                                       err.msg, b.journal_path));
    }
    if (b.have_manifest && cb_atomic_commit(&b.manifest, 0, &err) < 0)
        rc = cb_exit_worst(rc, die(err.code, "%s", err.msg));
    if (cb_output_close(&b.out, &err) < 0)
        rc = cb_exit_worst(rc, die(err.code, "%s", err.msg));
    if (cb_rejects_close(&b.rj, &err) < 0)
        rc = cb_exit_worst(rc, die(err.code, "%s", err.msg));
    cb_run_summary(&b.run);
    if (rc == 0 && o->strict && b.run.rejected)
        rc = EX_DATAERR;
    /* A diagnostic or summary that could not be told is a loss too. */
    if (fflush(stderr) != 0 || ferror(stderr))
        rc = cb_exit_worst(rc, EX_IOERR);
out:
    if (cb_audit_close(b.audit, ca, key.pkey, &err) < 0)
        rc = cb_exit_worst(rc, die(err.code, "%s", err.msg));
    if (b.ledger && cb_ledger_close(b.ledger, &err) < 0)
        rc = cb_exit_worst(rc, die(err.code, "%s", err.msg));
    for (size_t i = 0; b.jobs && i < b.cap; i++) {
        cb_issue_job_clear(&b.jobs[i]);
        cb_record_free(b.jobs[i].rec);
        if (b.key_files)
            free(b.key_files[i]);
    }
    free(b.jobs);
    free(b.key_files);
    cb_journal_close(b.journal);
    free(b.journal_path);
    cb_header_free(b.man_header);
    cb_strmap_free(b.seen_ids);
    cb_strmap_free(b.seen_serials);
    cb_strmap_free(b.seen_files);
    cb_csv_reader_close(rd);
    cb_certindex_free(old);
    if (issuer_ok)
        cb_issuer_free(&issuer);
    cb_key_free(&key);
    X509_free(ca);
    cb_profile_free(&prof);
    return rc;
}

int main(int argc, char **argv)
{
    cb_guard_std_fds();
    static const struct option lopts[] = {
        {"ca-cert", required_argument, 0, 'C'},  {"ca-key", required_argument, 0, 'K'},
        {"profile", required_argument, 0, 'P'},  {"key-alg", required_argument, 0, 'A'},
        {"key-dir", required_argument, 0, 'D'},  {"pins", required_argument, 0, 'N'},
        {"ledger", required_argument, 0, 'L'},   {"manifest", required_argument, 0, 'M'},
        {"rejects", required_argument, 0, 'R'},  {"old-certs", required_argument, 0, 'O'},
        {"extend-months", required_argument, 0, 'E'},
        {"cert", required_argument, 0, 'c'},     {"key", required_argument, 0, 'k'},
        {"ca", required_argument, 0, 'a'},       {"sig", required_argument, 0, 's'},
        {"pass-file", required_argument, 0, 'f'}, {"pass-fd", required_argument, 0, 'F'},
        {"pkcs11-module", required_argument, 0, 'm'}, {"audit", required_argument, 0, 'U'},
        {"strict", no_argument, 0, 'S'},         {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},        {0, 0, 0, 0},
    };
    opts o = {.jobs = 1, .secret = {NULL, -1, "CB_CA_PASS"}};
    if (argc < 2)
        return usage(stderr), EX_USAGE;
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return usage(stdout), 0;
    if (strcmp(argv[1], "--version") == 0)
        return printf(PROG " certbatch " CB_VERSION "\n"), 0;
    o.mode = argv[1];
    if (strcmp(o.mode, "issue") && strcmp(o.mode, "renew") && strcmp(o.mode, "sign") &&
        strcmp(o.mode, "verify")) {
        fprintf(stderr, PROG ": unknown mode '%s'\n", o.mode);
        return usage(stderr), EX_USAGE;
    }
    argc--;
    argv++;
    int c;
    while ((c = getopt_long(argc, argv, "o:qj:", lopts, NULL)) != -1) {
        switch (c) {
        case 'C': o.ca_cert = optarg; break;
        case 'K': o.ca_key = optarg; break;
        case 'P': o.profile = optarg; break;
        case 'A': o.key_alg = optarg; break;
        case 'D': o.key_dir = optarg; break;
        case 'N': o.pins = optarg; break;
        case 'L': o.ledger = optarg; break;
        case 'M': o.manifest = optarg; break;
        case 'R': o.rejects = optarg; break;
        case 'O':
            if (o.nold == 64)
                return die(EX_USAGE, "too many --old-certs");
            o.old_certs[o.nold++] = optarg;
            break;
        case 'E':
            if (parse_int(optarg, 1, CB_MAX_RENEW_MONTHS, &o.extend_months) < 0)
                return die(EX_USAGE,
                           "--extend-months: a renewal extends by 1 to %d months (Nghị định "
                           "68/2024/NĐ-CP Điều 9)",
                           CB_MAX_RENEW_MONTHS);
            break;
        case 'c': o.cert = optarg; break;
        case 'k': o.key = optarg; break;
        case 'a': o.ca = optarg; break;
        case 's': o.sig = optarg; break;
        case 'f': o.secret.file = optarg; break;
        case 'F':
            if (parse_int(optarg, 0, INT_MAX, &o.secret.fd) < 0)
                return die(EX_USAGE, "--pass-fd: not a file descriptor: %s", optarg);
            break;
        case 'm': o.pkcs11_module = optarg; break;
        case 'U': o.audit = optarg; break;
        case 'S': o.strict = 1; break;
        case 'o': o.out = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'j':
            if (parse_int(optarg, 1, 256, &o.jobs) < 0)
                return die(EX_USAGE, "-j: a number of workers from 1 to 256");
            break;
        case 'h': return usage(stdout), 0;
        case 'V': return printf(PROG " certbatch " CB_VERSION "\n"), 0;
        default: return usage(stderr), EX_USAGE;
        }
    }
    int nfiles = argc - optind;
    char **files = argv + optind;
    if (strcmp(o.mode, "sign") == 0)
        return do_sign(&o, nfiles, files);
    if (strcmp(o.mode, "verify") == 0)
        return do_verify(&o, nfiles, files);
    return do_batch(&o, nfiles, files);
}
