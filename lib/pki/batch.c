/* A sign-batch run's rules and write order: see batch.h. */
#include "batch.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "serial.h"
#include "strmap.h"

struct cb_batch {
    const cb_batch_cfg *cfg;
    cb_strmap *seen_ids;      /* request id -> line, this run */
    cb_strmap *seen_serials;  /* old serial -> line, this run */
    cb_strmap *seen_files;    /* key file -> request id, this run */
    char *journal_path;       /* issue only */
    cb_journal *journal;      /* created at the first generated key */
};

cb_batch *cb_batch_new(const cb_batch_cfg *cfg, cb_err *err)
{
    cb_batch *b = calloc(1, sizeof *b);
    if (b == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    b->cfg = cfg;
    b->seen_ids = cb_strmap_new();
    b->seen_serials = cb_strmap_new();
    b->seen_files = cb_strmap_new();
    if (cfg->mode == CB_ISSUE_NEW)
        b->journal_path = cb_journal_path(cfg->ledger ? cb_ledger_path(cfg->ledger) : cfg->pins_path);
    if (!b->seen_ids || !b->seen_serials || !b->seen_files ||
        (cfg->mode == CB_ISSUE_NEW && b->journal_path == NULL)) {
        cb_batch_free(b);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    return b;
}

void cb_batch_free(cb_batch *b)
{
    if (b == NULL)
        return;
    cb_strmap_free(b->seen_ids);
    cb_strmap_free(b->seen_serials);
    cb_strmap_free(b->seen_files);
    cb_journal_close(b->journal);
    free(b->journal_path);
    free(b);
}

const char *cb_batch_journal_path(const cb_batch *b)
{
    return b->journal_path;
}

int cb_batch_recover(cb_batch *b, cb_journal_report *rep, cb_err *err)
{
    memset(rep, 0, sizeof *rep);
    if (b->cfg->key_dir && cb_atomic_sweep(b->cfg->key_dir, NULL, err) < 0)
        return -1;
    if (b->journal_path == NULL)
        return 0;
    return cb_journal_finish(b->journal_path, b->cfg->ledger, rep, err);
}

/* A field with the blanks around it removed. */
static void trimmed(const cb_record *rec, int col, char *buf, size_t n)
{
    const char *s = col >= 0 ? cb_record_get(rec, col) : "";
    while (*s == ' ' || *s == '\t')
        s++;
    snprintf(buf, n, "%s", s);
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == ' ' || buf[l - 1] == '\t'))
        buf[--l] = '\0';
}

void cb_batch_request_id(const cb_batch *b, const cb_record *rec, char *buf, size_t n)
{
    trimmed(rec, b->cfg->cols->request_id, buf, n);
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

static void key_file_of(const cb_batch *b, const char *id, char *key_file)
{
    char name[256];
    cb_issue_file_name(id, name, sizeof name);
    snprintf(key_file, PATH_MAX, "%s/%s.p12", b->cfg->key_dir, name);
}

/* A request the ledger holds: its certificate goes out again, from the
 * ledger's store; only one issued before the store existed is skipped. */
static int again(cb_batch *b, cb_issue_job *j, const char *id, const char *serial, char *key_file,
                 cb_err *err)
{
    cb_ledger *l = b->cfg->ledger;
    const unsigned char *der;
    size_t len;
    int found = cb_ledger_cert(l, serial, &der, &len, err);
    if (found < 0)
        return -1;
    if (found == 0 || cb_issue_job_again(b->cfg->issuer, j, der, len) < 0) {
        set_status(j, CB_JOB_SKIP, NULL,
                   "request %.200s was already issued as serial %.80s (ledger), and its "
                   "certificate is not in %.150s.certs.pem: skipped",
                   id, serial, cb_ledger_path(l));
        return 0;
    }
    snprintf(j->reason, sizeof j->reason,
             "request %.200s was already issued as serial %.80s (ledger): its certificate is "
             "written out again, not issued twice",
             id, serial);
    struct stat st;
    if (b->cfg->mode == CB_ISSUE_NEW) {
        key_file_of(b, id, key_file);
        if (stat(key_file, &st) != 0)
            key_file[0] = '\0';  /* a CSR's certificate, or a key kept elsewhere */
    }
    return 0;
}

/* Renewal: a certificate is renewed once, across runs and in this run. */
static int check_renewal(cb_batch *b, cb_issue_job *j, const char *line, cb_err *err)
{
    char serial[160], norm[160];
    trimmed(j->rec, b->cfg->cols->old_serial, serial, sizeof serial);
    cb_serial_key(serial, norm, sizeof norm);
    if (*norm == '\0')
        return 0;  /* the job rejects it */
    cb_ledger *l = b->cfg->ledger;
    const char *by = l ? cb_ledger_find_renewal_of(l, norm) : NULL;
    if (by) {
        set_status(j, CB_JOB_REJECT, "old_serial",
                   "certificate %s was already renewed (request %s); a certificate may be "
                   "renewed only once",
                   serial, by);
        return 0;
    }
    if (l && cb_ledger_is_renewed(l, norm)) {
        set_status(j, CB_JOB_REJECT, "old_serial",
                   "certificate %s is itself a renewal; a certificate may be renewed only once", serial);
        return 0;
    }
    const char *first = cb_strmap_get(b->seen_serials, norm);
    if (first) {
        set_status(j, CB_JOB_REJECT, "old_serial",
                   "certificate %s is asked for twice in the batch; the first is at line %s", serial,
                   first);
        return 0;
    }
    return cb_strmap_put(b->seen_serials, norm, line) < 0 ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

/* Issue: a new key's file never overwrites one, and no two requests share
 * one. */
static int check_key_file(cb_batch *b, cb_issue_job *j, const char *id, char *key_file, cb_err *err)
{
    const cb_issue_cols *c = b->cfg->cols;
    if ((c->csr_pem >= 0 && *cb_record_get(j->rec, c->csr_pem)) ||
        (c->csr_file >= 0 && *cb_record_get(j->rec, c->csr_file)))
        return 0;  /* the subscriber keeps the key */
    key_file_of(b, id, key_file);
    struct stat st;
    const char *other = cb_strmap_get(b->seen_files, key_file);
    if (other || stat(key_file, &st) == 0) {
        set_status(j, CB_JOB_REJECT, "request_id",
                   "the key file %s already exists%s%s; key files are never overwritten", key_file,
                   other ? " for request " : "", other ? other : "");
        key_file[0] = '\0';
        return 0;
    }
    return cb_strmap_put(b->seen_files, key_file, id) < 0 ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

int cb_batch_check(cb_batch *b, cb_issue_job *j, char *key_file, cb_err *err)
{
    char id[512], line[32];
    cb_batch_request_id(b, j->rec, id, sizeof id);
    key_file[0] = '\0';
    if (*id == '\0')
        return 0;  /* the job rejects it */
    const char *done = b->cfg->ledger ? cb_ledger_find_request(b->cfg->ledger, id) : NULL;
    if (done)
        return again(b, j, id, done, key_file, err);
    snprintf(line, sizeof line, "%ld", j->rec->line);
    const char *first = cb_strmap_get(b->seen_ids, id);
    if (first) {
        set_status(j, CB_JOB_REJECT, "request_id",
                   "request id %s appears twice in the batch; the first is at line %s", id, first);
        return 0;
    }
    if (cb_strmap_put(b->seen_ids, id, line) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (b->cfg->mode == CB_ISSUE_RENEW)
        return check_renewal(b, j, line, err);
    return check_key_file(b, j, id, key_file, err);
}

/* 1. New keys and PINs into the journal, synced: from here on no key can
 * be lost, whatever happens to the process. */
static int stage_keys(cb_batch *b, cb_issue_job *jobs, char **key_files, size_t n, cb_err *err)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        cb_issue_job *j = &jobs[i];
        if (j->status != CB_JOB_OK || j->p12 == NULL)
            continue;
        if (b->journal == NULL && (b->journal = cb_journal_create(b->journal_path, err)) == NULL)
            return -1;
        char id[512];
        cb_batch_request_id(b, j->rec, id, sizeof id);
        cb_journal_entry e = {id, j->serial, key_files[i], b->cfg->pins_path, j->pin, j->p12, j->p12_len};
        if (cb_journal_add(b->journal, &e, err) < 0)
            return -1;
        any = 1;
    }
    return any ? cb_journal_sync(b->journal, err) : 0;
}

/* 2. The certificates into the ledger's store, then their ledger lines:
 * the commit. */
static int commit_ledger(cb_batch *b, cb_issue_job *jobs, size_t n, cb_err *err)
{
    const char *type = b->cfg->mode == CB_ISSUE_RENEW ? "renew" : "issue";
    cb_ledger *l = b->cfg->ledger;
    int any = 0;
    for (size_t i = 0; l && i < n; i++) {
        cb_issue_job *j = &jobs[i];
        if (j->status != CB_JOB_OK)
            continue;
        char id[512];
        cb_batch_request_id(b, j->rec, id, sizeof id);
        cb_ledger_entry e = {id,         type,         j->old_serial,    j->serial,
                             j->subject, j->not_after, j->sha256,        b->cfg->issued_at,
                             j->cert_pem, j->cert_pem_len};
        if (cb_ledger_append(l, &e, err) < 0)
            return -1;
        any = 1;
    }
    return any ? cb_ledger_sync(l, err) : 0;
}

int cb_batch_commit(cb_batch *b, cb_issue_job *jobs, char **key_files, size_t n, cb_err *err)
{
    if (stage_keys(b, jobs, key_files, n, err) < 0 || commit_ledger(b, jobs, n, err) < 0)
        return -1;
    /* 3. Key files: each is in the journal, so a crash here loses none. */
    for (size_t i = 0; i < n; i++) {
        cb_issue_job *j = &jobs[i];
        if (j->status != CB_JOB_OK)
            continue;
        if (j->p12 == NULL)
            key_files[i][0] = '\0';
        else if (cb_atomic_write_file(key_files[i], j->p12, j->p12_len, 0600, 1, err) < 0)
            return -1;
    }
    return 0;
}

int cb_batch_finish(cb_batch *b, cb_err *err)
{
    if (b->journal == NULL)
        return 0;
    cb_journal_close(b->journal);
    b->journal = NULL;
    cb_journal_report rep;
    return cb_journal_finish(b->journal_path, b->cfg->ledger, &rep, err);
}
