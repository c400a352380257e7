/* notify's letters: see letters.h. The order of what happens to a letter
 * is the delivery guarantee: built, handed over, delivered (the mailer's
 * flush), and only then recorded in the ledger, so after a crash a letter
 * is either undelivered and unrecorded (the re-run sends it) or delivered
 * and, keyed by its notices, found again by the re-run.
 *
 * Into a Maildir or an mbox (and on a dry run), where a letter costs more
 * to build (GMime) than to write, letters wait ready in a batch: the batch
 * is built on two threads (cb_parallel_for), then sent one by one in input
 * order on the caller's, so the files, the ledger, the log and the rejects
 * keep the order of the records. A record rejected while letters wait
 * sends them first. */
#include "letters.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "csvio.h"
#include "parallel.h"
#include "strmap.h"

/* A recipient's digest: the records, and the notice each carries. */
struct group {
    char *recipient;
    cb_record **recs;
    char **events;
    size_t n, cap;
};

struct cb_letters {
    const cb_letters_opts *o;
    cb_filter *f;
    const cb_header *hdr;
    int col_to, col_digest, col_attach, col_key, col_days;
    cb_mailer *mailer;
    cb_notify_ledger *ledger;
    cb_output mbox;
    cb_atomic logfile;
    int mbox_open, logfile_open;
    cb_mail_attachment file_att;   /* --attach-file */
    int have_file_att;
    int ledger_later, started, tempfail;
    int delivering;                /* set while a delivery is under way (or failed) */
    char down_reason[1100];        /* set once the server is down */
    cb_csv_writer logw;            /* rows of letters not yet delivered */
    FILE *log, *held_log;
    char *held_buf;
    size_t held_len, held_out;
    cb_keymap group_of;            /* digest US address -> index in groups */
    struct group *groups;
    size_t ngroups, gcap;
    char run_id[17];               /* random, with a count: the letters' Message-IDs */
    size_t nletters;
    struct letter *ready;          /* BUILD_BATCH letters waiting to be built, or NULL */
    size_t nready;
    int threads;
};

/* What a letter is made of while it is being sent. A letter waiting in
 * the batch owns copies of its record, recipient and notice (the driver
 * reuses them); a digest's belong to its group. */
typedef struct letter {
    const char *rcpt;
    const cb_record *const *recs;
    char *const *events;           /* NULL entries: no ledger */
    size_t n;
    char *subject, *to_name, *body, *msg, *mid, *hsubject;
    cb_mail_attachment *att;
    size_t natt, len;
    int64_t date;
    char mid_wanted[300];
    int made;                      /* what prepare, then build, said */
    cb_err why;
    cb_record *own_rec;
    const cb_record *own_recs[1];
    char *own_rcpt, *own_events[1];
} letter;

#define BUILD_BATCH 128

/* made: */
enum { MADE_OK, MADE_REJECT, MADE_BAD_ADDRESS, MADE_STOP = -1 };

static void letter_free(cb_letters *l, letter *t);
static int send_ready(cb_letters *l);

static int stop(cb_letters *l, const cb_err *e)
{
    cb_filter_stop(l->f, NULL, 0, e);
    return -1;
}

static int oom(cb_letters *l)
{
    return stop(l, &(cb_err){EX_OSERR, "out of memory"});
}

cb_letters *cb_letters_new(const cb_letters_opts *o, cb_filter *f, cb_err *err)
{
    cb_letters *l = calloc(1, sizeof *l);
    if (l == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    *l = (cb_letters){.o = o, .f = f, .col_digest = -1, .col_attach = -1, .col_key = -1, .col_days = -1};
    unsigned char r[8];
    if (RAND_bytes(r, sizeof r) != 1) {
        free(l);
        cb_err_set(err, EX_SOFTWARE, "no random numbers for the Message-IDs");
        return NULL;
    }
    for (int i = 0; i < 8; i++)
        snprintf(l->run_id + 2 * i, 3, "%02x", r[i]);
    return l;
}

static void group_free(struct group *g)
{
    for (size_t k = 0; k < g->n; k++) {
        cb_record_free(g->recs[k]);
        free(g->events[k]);
    }
    free(g->recs);
    free(g->events);
    free(g->recipient);
}

void cb_letters_free(cb_letters *l)
{
    if (l == NULL)
        return;
    cb_mailer_close(l->mailer, NULL);
    if (l->logfile_open)
        cb_atomic_abort(&l->logfile);
    if (l->mbox_open)
        cb_output_abort(&l->mbox);
    for (size_t i = 0; i < l->ngroups; i++)
        group_free(&l->groups[i]);
    free(l->groups);
    cb_keymap_clear(&l->group_of);
    free((void *)l->file_att.data);
    if (l->held_log != NULL)
        fclose(l->held_log);
    free(l->held_buf);
    for (size_t i = 0; i < l->nready; i++)
        letter_free(l, &l->ready[i]);
    free(l->ready);
    free(l);
}

static int need_col(const cb_header *h, const char *name, const char *opt, cb_err *err)
{
    int i = cb_header_find(h, name);
    if (i < 0)
        cb_err_set(err, EX_DATAERR, "%s %s: the input has no column '%s'", opt, name, name);
    return i;
}

int cb_letters_mbox_out(const cb_letters_opts *o)
{
    return o->mailer.kind == CB_MAIL_MBOX && !o->dry_run;
}

static int bind(cb_letters *l, const cb_header *in, cb_err *err)
{
    const cb_letters_opts *o = l->o;
    l->hdr = in;
    if (in->n == 0)   /* an input with no bytes: no column to bind */
        return 0;
    if (cb_template_bind(o->tpl, in, o->var_names, o->nvars, err) < 0 ||
        (l->col_to = need_col(in, o->to, "--to", err)) < 0 ||
        (o->digest_by && (l->col_digest = need_col(in, o->digest_by, "--digest-by", err)) < 0) ||
        (o->attach && (l->col_attach = need_col(in, o->attach, "--attach", err)) < 0) ||
        (o->key && (l->col_key = need_col(in, o->key, "--key", err)) < 0) ||
        (o->nth && (l->col_days = need_col(in, "days_left", "--thresholds needs", err)) < 0))
        return -1;
    if (o->ledger != NULL && l->col_key < 0) {
        l->col_key = cb_header_find(in, "serial");
        if (l->col_key < 0)
            l->col_key = cb_header_find(in, "request_id");
        if (l->col_key < 0)
            return cb_err_set(err, EX_USAGE, "--ledger: name the column that identifies a record with --key");
    }
    return 0;
}

/* --attach-file: the file read once, its type told by its name. */
static int load_file(const char *path, cb_mail_attachment *att, cb_err *err)
{
    static const char *const types[][2] = {
        {".html", "text/html"}, {".htm", "text/html"}, {".csv", "text/csv"},
        {".pdf", "application/pdf"}, {".txt", "text/plain"},
    };
    FILE *fp = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t len = 0;
    if (fp == NULL)
        return cb_err_sys(err, EX_NOINPUT, "--attach-file: %s", path);
    int rc = cb_read_all(fp, &data, &len);
    fclose(fp);
    if (rc < 0)
        return cb_err_sys(err, EX_IOERR, "--attach-file: %s", path);
    const char *base = strrchr(path, '/'), *dot = strrchr(path, '.');
    *att = (cb_mail_attachment){base ? base + 1 : path, "application/octet-stream", data, len};
    for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i][0]) == 0)
            att->content_type = types[i][1];
    return 0;
}

int cb_letters_open(cb_letters *l, const cb_header *in, cb_err *err)
{
    const cb_letters_opts *o = l->o;
    cb_mailer_opts mo = o->mailer;
    if (bind(l, in, err) < 0)
        return -1;
    if (o->attach_file != NULL) {
        if (load_file(o->attach_file, &l->file_att, err) < 0)
            return -1;
        l->have_file_att = 1;
    }
    if (cb_letters_mbox_out(o)) {
        if (cb_output_open(&l->mbox, o->mbox_path, 0644, err) < 0)
            return -1;
        l->mbox_open = 1;
        mo.mbox = l->mbox.fp;
    }
    if (o->log_path != NULL) {
        if (cb_atomic_open(&l->logfile, o->log_path, 0644, err) < 0)
            return -1;
        l->logfile_open = 1;
    }
    if (!o->dry_run && (l->mailer = cb_mailer_open(&mo, err)) == NULL)
        return -1;
    if (o->dry_run || mo.kind == CB_MAIL_MAILDIR || mo.kind == CB_MAIL_MBOX) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        l->threads = cpus >= 2 ? 2 : 1;
        if ((l->ready = calloc(BUILD_BATCH, sizeof *l->ready)) == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return 0;
}

static int held_log_open(cb_letters *l)
{
    l->held_len = 0;
    if ((l->held_log = open_memstream(&l->held_buf, &l->held_len)) == NULL)
        return -1;
    cb_csv_writer_init(&l->logw, l->held_log);
    return 0;
}

/* Before the first letter (the driver's outputs are open by then): the
 * log's header, in the --log file, else on the output unless that is the
 * mbox. */
static int start(cb_letters *l)
{
    if (l->started)
        return 0;
    l->started = 1;
    l->ledger = l->o->ledger;
    l->ledger_later = cb_letters_mbox_out(l->o);
    l->log = l->logfile_open ? l->logfile.fp : l->mbox_open ? NULL : cb_filter_output(l->f);
    if (!l->logfile_open && !l->mbox_open && l->log == NULL)
        return stop(l, &(cb_err){EX_USAGE, "-o: the log is CSV, not a workbook"});
    if (l->ledger != NULL)
        cb_notify_ledger_defer(l->ledger, 1);
    if (held_log_open(l) < 0)
        return oom(l);
    if (l->log != NULL) {
        cb_csv_writer w;
        cb_csv_writer_init(&w, l->log);
        static const char *const head[] = {"recipient", "subject", "message_id", "records", "status", "detail"};
        if (cb_csv_write_fields(&w, head, 6) < 0)
            return stop(l, &(cb_err){EX_IOERR, "cannot write the log"});
    }
    return 0;
}

static int log_row(cb_letters *l, const letter *t, const char *status, const char *detail)
{
    if (l->log == NULL)
        return 0;
    char num[24];
    snprintf(num, sizeof num, "%zu", t->n);
    const char *f[] = {t->rcpt, t->hsubject ? t->hsubject : "", t->mid ? t->mid : "", num, status,
                       detail ? detail : ""};
    return cb_csv_write_fields(&l->logw, f, 6) < 0 ? oom(l) : 0;
}

/* The letters handed over are delivered: now, and only now, they are
 * recorded (ledger, log) and counted out. */
static int deliver_held(cb_letters *l)
{
    cb_err e = {0};
    size_t n = l->held_out;
    l->held_out = 0;
    l->delivering = 1;
    if (l->mailer != NULL && cb_mailer_flush(l->mailer, &e) < 0) {
        l->f->run.rejected += n;   /* never delivered; the next run sends them */
        return stop(l, &e);
    }
    l->f->run.out += n;
    if (l->ledger != NULL && !l->ledger_later && cb_notify_ledger_commit(l->ledger, &e) < 0)
        return stop(l, &e);
    if (fflush(l->held_log) != 0)
        return oom(l);
    if (l->log != NULL && l->held_len > 0 && fwrite(l->held_buf, 1, l->held_len, l->log) != l->held_len)
        return stop(l, &(cb_err){EX_IOERR, "cannot write the log"});
    fclose(l->held_log);
    free(l->held_buf);
    l->held_buf = NULL;
    l->held_log = NULL;
    if (held_log_open(l) < 0)
        return oom(l);
    l->delivering = 0;
    return 0;
}

void cb_letters_close(cb_letters *l)
{
    cb_filter *f = l->f;
    cb_err err = {0};
    /* A delivery that failed half-way is not tried again: the ledger may
     * hold part of its rows. */
    if (l->started && !l->delivering && send_ready(l) == 0)
        deliver_held(l);
    if (l->mailer && cb_mailer_close(l->mailer, &err) < 0)
        cb_filter_fail(f, &err);
    l->mailer = NULL;
    if (l->logfile_open && cb_atomic_commit(&l->logfile, 0, &err) < 0)
        cb_filter_fail(f, &err);
    l->logfile_open = 0;
    int handed = 0;
    if (l->mbox_open && (f->rc == 0 || f->run.out > 0)) {
        if (cb_output_close(&l->mbox, &err) < 0)
            cb_filter_fail(f, &err);
        else
            handed = 1;
    } else if (l->mbox_open) {
        cb_output_abort(&l->mbox);
    }
    l->mbox_open = 0;
    if (l->ledger && l->ledger_later && handed && cb_notify_ledger_commit(l->ledger, &err) < 0)
        cb_filter_fail(f, &err);
    if (f->run.out > 0)
        cb_filter_keep_outputs(f);
    if (l->tempfail)
        cb_filter_exit_at_least(f, EX_TEMPFAIL);
}

static void reject_all(cb_letters *l, const letter *t, const char *field, const char *why)
{
    for (size_t i = 0; i < t->n; i++)
        cb_filter_reject(l->f, t->recs[i], field, why);
}

/* The certificate file named in a record, as DER for application/pkix-cert
 * (RFC 2585); a file that is already DER goes as it is. */
static unsigned char *read_cert_der(const char *path, size_t *len, cb_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        cb_err_sys(err, EX_NOINPUT, "cannot open the certificate file %s", path);
        return NULL;
    }
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    if (x == NULL) {
        rewind(fp);
        x = d2i_X509_fp(fp, NULL);
    }
    fclose(fp);
    if (x == NULL) {
        cb_err_set(err, EX_DATAERR, "%s is not a certificate (PEM or DER)", path);
        return NULL;
    }
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    if (n <= 0) {
        cb_err_set(err, EX_SOFTWARE, "cannot encode the certificate in %s", path);
        return NULL;
    }
    unsigned char *copy = malloc((size_t)n);
    if (copy != NULL)
        memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

/* The certificate a record names, attached as NAME.cer. */
static int attach_cert(cb_mail_attachment *a, const char *path, cb_err *err)
{
    size_t dl;
    unsigned char *der = read_cert_der(path, &dl, err);
    if (der == NULL)
        return -1;
    char *base = strdup(path), *b = base ? basename(base) : NULL, *dot = b ? strrchr(b, '.') : NULL;
    if (dot != NULL && dot != b)
        *dot = '\0';
    size_t fl = b ? strlen(b) + 5 : 0;
    char *fname = b ? malloc(fl) : NULL;
    if (fname != NULL)
        snprintf(fname, fl, "%s.cer", b);
    free(base);
    if (fname == NULL) {
        free(der);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    *a = (cb_mail_attachment){fname, "application/pkix-cert", der, dl};
    return 0;
}

/* The attachments: each record's certificate, then --attach-file. 0, or -1
 * with err set (EX_DATAERR and the like: the records are rejected). */
static int attachments(cb_letters *l, letter *t, cb_err *err)
{
    if (l->col_attach < 0 && !l->have_file_att)
        return 0;
    if ((t->att = calloc(t->n + 1, sizeof *t->att)) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < t->n && l->col_attach >= 0; i++) {
        const char *path = cb_record_get(t->recs[i], l->col_attach);
        if (*path == '\0')
            continue;
        if (attach_cert(&t->att[t->natt], path, err) < 0)
            return -1;
        t->natt++;
    }
    if (l->have_file_att)
        t->att[t->natt++] = l->file_att;
    return 0;
}

static void letter_free(cb_letters *l, letter *t)
{
    for (size_t i = 0; i < t->natt; i++) {
        if (l->have_file_att && t->att[i].data == l->file_att.data)
            continue;
        free((void *)t->att[i].data);
        free((void *)t->att[i].filename);
    }
    free(t->att);
    free(t->subject);
    free(t->to_name);
    free(t->body);
    free(t->msg);
    free(t->mid);
    free(t->hsubject);
    cb_record_free(t->own_rec);
    free(t->own_rcpt);
    free(t->own_events[0]);
}

/* Renders the letter (the template over its records, the attachments)
 * and names it, on the caller's thread: MADE_OK, MADE_REJECT or MADE_STOP
 * with t->why. */
static int prepare(cb_letters *l, letter *t)
{
    const cb_letters_opts *o = l->o;
    t->subject = cb_template_render_str(o->tpl, CB_TPL_SUBJECT, t->recs, t->n, o->var_values, o->today, &t->why);
    t->to_name = t->subject ? cb_template_render_str(o->tpl, CB_TPL_TO_NAME, t->recs, t->n, o->var_values, o->today, &t->why) : NULL;
    t->body = t->to_name ? cb_template_render_str(o->tpl, CB_TPL_BODY, t->recs, t->n, o->var_values, o->today, &t->why) : NULL;
    if (t->body == NULL)
        return MADE_STOP;
    if (attachments(l, t, &t->why) < 0)
        return t->why.code == EX_OSERR ? MADE_STOP : MADE_REJECT;
    /* One random number a run, and a count: GMime's Message-ID costs a read
     * of /dev/urandom a letter. */
    snprintf(t->mid_wanted, sizeof t->mid_wanted, "certbatch.%s.%zu@%.250s", l->run_id, ++l->nletters,
             strrchr(o->from_addr, '@') + 1);
    t->date = (int64_t)time(NULL);
    return MADE_OK;
}

/* Builds the prepared letter's message: on any thread, touching nothing
 * but t. MADE_OK, MADE_BAD_ADDRESS or MADE_STOP with t->why. */
static int build(const cb_letters *l, letter *t)
{
    const cb_letters_opts *o = l->o;
    cb_mail_msg m = {o->from_name, o->from_addr, t->to_name, t->rcpt, t->subject, t->body, t->att, t->natt,
                     t->date, t->mid_wanted};
    if (cb_mail_build(&m, l->mailer ? cb_mailer_crlf(l->mailer) : 0, &t->msg, &t->len, &t->mid, &t->why) < 0)
        return t->why.code == EX_DATAERR ? MADE_BAD_ADDRESS : MADE_STOP;
    if ((t->hsubject = cb_mail_header_text(t->subject)) == NULL) {
        t->why = (cb_err){EX_OSERR, "out of memory"};
        return MADE_STOP;
    }
    return MADE_OK;
}

/* What prepare and build said, told in input order: 0 the letter goes, 1
 * its records were rejected, -1 the run stops. */
static int made(cb_letters *l, letter *t)
{
    if (t->made == MADE_STOP)
        return stop(l, &t->why);
    if (t->made != MADE_OK) {
        reject_all(l, t, t->made == MADE_BAD_ADDRESS ? l->hdr->names[l->col_to] : NULL, t->why.msg);
        return 1;
    }
    return 0;
}

/* Hands the message over, trying again after a temporary failure: up to
 * retries more times, waiting retry_delay seconds, doubled each time (at
 * most 16 times as long). */
static int send_with_retries(cb_letters *l, const letter *t, const char *key, cb_err *e)
{
    for (int attempt = 0;; attempt++) {
        int rc = cb_mailer_send(l->mailer, l->o->from_addr, t->rcpt, key, t->msg, t->len, e);
        if (rc >= 0 || e->code != EX_TEMPFAIL || attempt >= l->o->retries)
            return rc;
        if (l->o->retry_delay > 0)
            sleep((unsigned)(l->o->retry_delay << (attempt < 4 ? attempt : 4)));
    }
}

/* The letter's identity, for a Maildir file name a re-run recognises: its
 * recipient and the notices it carries. NULL without a ledger. */
static char *letter_key(const letter *t)
{
    size_t len = strlen(t->rcpt) + 2;
    for (size_t i = 0; i < t->n; i++) {
        if (t->events[i] == NULL)
            return NULL;
        len += strlen(t->events[i]) + 1;
    }
    char *k = malloc(len), *p = k;
    if (k == NULL)
        return NULL;
    for (const char *s = t->rcpt; *s; s++)
        *p++ = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
    *p++ = '\x1f';
    for (size_t i = 0; i < t->n; i++)
        p += sprintf(p, "%s%s", i ? "\x1e" : "", t->events[i]);
    *p = '\0';
    return k;
}

/* The letter was handed over (sent == 1: found delivered by an earlier
 * run): its notices go into the ledger, its log row waits for the flush. */
static int handed_over(cb_letters *l, const letter *t, int sent)
{
    char at[32];
    cb_err e = {0};
    cb_instant_format((int64_t)time(NULL), at);
    for (size_t i = 0; l->ledger != NULL && i < t->n; i++)
        if (t->events[i] != NULL && cb_notify_ledger_add(l->ledger, t->rcpt, t->events[i], at, &e) < 0)
            return stop(l, &e);
    l->held_out += t->n;
    if (log_row(l, t, "sent", sent == 1 ? "delivered by an earlier run" : "") < 0)
        return -1;
    return cb_mailer_due(l->mailer) ? deliver_held(l) : 0;
}

/* The mailer said no: a refusal rejects the letter's records; a server
 * down rejects them and every later letter's at once (they would wait out
 * the same retries), so the next run sends them all. */
static int not_sent(cb_letters *l, const letter *t, const cb_err *e)
{
    if (e->code != EX_NOUSER && e->code != EX_TEMPFAIL) {
        reject_all(l, t, NULL, e->msg);
        return stop(l, e);
    }
    if (e->code == EX_TEMPFAIL) {
        l->tempfail = 1;
        snprintf(l->down_reason, sizeof l->down_reason, "not sent, the next run will retry: %s", e->msg);
    }
    const char *why = e->code == EX_TEMPFAIL ? l->down_reason : e->msg;
    reject_all(l, t, e->code == EX_NOUSER ? l->hdr->names[l->col_to] : NULL, why);
    return log_row(l, t, e->code == EX_NOUSER ? "refused" : "failed", e->msg);
}

/* A letter made (prepared and built, or not): sent, or its records
 * rejected. */
static int send_letter(cb_letters *l, letter *t)
{
    if (l->tempfail) {
        reject_all(l, t, NULL, l->down_reason);
        return log_row(l, t, "failed", l->down_reason);
    }
    int rc = made(l, t);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (l->mailer == NULL) {   /* a dry run */
        l->f->run.out += t->n;
        return log_row(l, t, "dry-run", "");
    }
    cb_err e = {0};
    char *key = letter_key(t);
    rc = send_with_retries(l, t, key, &e);
    free(key);
    return rc >= 0 ? handed_over(l, t, rc) : not_sent(l, t, &e);
}

static void build_ready(void *arg, size_t i)
{
    cb_letters *l = arg;
    letter *t = &l->ready[i];
    if (t->made == MADE_OK)
        t->made = build(l, t);
}

/* The letters waiting in the batch: built on the threads, then sent in
 * order; those after a failure that stops the run are counted rejected
 * (read, never sent: the next run sends them). */
static int send_ready(cb_letters *l)
{
    size_t n = l->nready;
    int rc = 0;
    l->nready = 0;
    cb_parallel_for(n, l->threads, build_ready, l, NULL);
    for (size_t i = 0; i < n; i++) {
        letter *t = &l->ready[i];
        if (rc == 0)
            rc = send_letter(l, t);
        else
            l->f->run.rejected += t->n;
        letter_free(l, t);
    }
    return rc;
}

/* A single record's letter keeps copies of what the driver reuses. */
static int own_copies(letter *t, const char *rcpt, const cb_record *rec, const char *event)
{
    if ((t->own_rcpt = strdup(rcpt)) == NULL || (t->own_rec = cb_record_new()) == NULL ||
        cb_record_copy(t->own_rec, rec) < 0 || (event != NULL && (t->own_events[0] = strdup(event)) == NULL))
        return -1;
    t->own_rec->line = rec->line;
    t->own_recs[0] = t->own_rec;
    t->rcpt = t->own_rcpt;
    t->recs = t->own_recs;
    t->events = t->own_events;
    return 0;
}

/* A letter of n records (one, copied when own, or a digest's): sent now,
 * or, batching, made ready and sent with its batch. */
static int send_one(cb_letters *l, const char *rcpt, const cb_record *const *recs, char *const *events, size_t n,
                    int own)
{
    if (l->ready == NULL) {
        letter t = {.rcpt = rcpt, .recs = recs, .events = events, .n = n};
        if (!l->tempfail && (t.made = prepare(l, &t)) == MADE_OK)
            t.made = build(l, &t);
        int rc = send_letter(l, &t);
        letter_free(l, &t);
        return rc;
    }
    letter *t = &l->ready[l->nready];
    *t = (letter){.rcpt = rcpt, .recs = recs, .events = events, .n = n};
    if (own && own_copies(t, rcpt, recs[0], events[0]) < 0) {
        letter_free(l, t);
        return oom(l);
    }
    t->made = prepare(l, t);
    l->nready++;
    return l->nready == BUILD_BATCH ? send_ready(l) : 0;
}

/* A record rejected goes after the letters waiting before it. */
static void reject_rec(cb_letters *l, const cb_record *rec, const char *field, const char *why)
{
    if (l->nready > 0)
        send_ready(l);
    cb_filter_reject(l->f, rec, field, why);
}

/* The digest of (digest value, address), made at its first record;
 * addresses (and a digest by address) ignore case. */
static struct group *group_for(cb_letters *l, const char *digest, const char *rcpt)
{
    size_t kl = strlen(digest) + strlen(rcpt) + 2, at;
    char *key = malloc(kl);
    if (key == NULL)
        return NULL;
    snprintf(key, kl, "%s\x1f%s", digest, rcpt);
    for (char *p = key; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    struct group *g = NULL;
    if (l->ngroups == l->gcap) {
        size_t cap = l->gcap ? l->gcap * 2 : 64;
        if ((g = realloc(l->groups, cap * sizeof *g)) == NULL)
            goto out;
        l->groups = g;
        l->gcap = cap;
    }
    int added = cb_keymap_add(&l->group_of, key, l->ngroups, &at);
    g = added < 0 ? NULL : &l->groups[added ? l->ngroups : at];
    if (added == 1) {
        l->ngroups++;
        memset(g, 0, sizeof *g);
        if ((g->recipient = strdup(rcpt)) == NULL)
            g = NULL;
    }
out:
    free(key);
    return g;
}

static int group_add(struct group *g, const cb_record *rec, const char *event)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        cb_record **r = realloc(g->recs, cap * sizeof *r);
        if (r == NULL)
            return -1;
        g->recs = r;
        char **e = realloc(g->events, cap * sizeof *e);
        if (e == NULL)
            return -1;
        g->events = e;
        g->cap = cap;
    }
    cb_record *copy = cb_record_new();
    if (copy == NULL || cb_record_copy(copy, rec) < 0) {
        cb_record_free(copy);
        return -1;
    }
    copy->line = rec->line;
    g->recs[g->n] = copy;
    g->events[g->n] = event ? strdup(event) : NULL;
    g->n++;
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t k = strspn(s, " \t");
    memmove(s, s + k, n - k + 1);
}

/* The record's checks: 0 when it may go (rcpt filled in), 1 when it was
 * rejected. */
static int check_record(cb_letters *l, const cb_record *rec, char rcpt[320])
{
    snprintf(rcpt, 320, "%s", cb_record_get(rec, l->col_to));
    trim(rcpt);
    const char *tocol = l->hdr->names[l->col_to], *why, *bad;
    char msg[PATH_MAX + 64];
    if (rcpt[0] == '\0')
        return reject_rec(l, rec, tocol, "no e-mail address to send the notice to"), 1;
    if (!cb_mail_address_ok(rcpt)) {
        snprintf(msg, sizeof msg, "'%.320s' is not a valid e-mail address", cb_record_get(rec, l->col_to));
        return reject_rec(l, rec, tocol, msg), 1;
    }
    if ((bad = cb_template_check_record(l->o->tpl, rec, &why)) != NULL) {
        snprintf(msg, sizeof msg, "column %s %s", bad, why);
        return reject_rec(l, rec, bad, msg), 1;
    }
    const char *p = l->col_attach >= 0 ? cb_record_get(rec, l->col_attach) : "";
    if (*p && access(p, R_OK) != 0) {
        snprintf(msg, sizeof msg, "cannot read the certificate file %.*s: %s", PATH_MAX, p, strerror(errno));
        return reject_rec(l, rec, l->hdr->names[l->col_attach], msg), 1;
    }
    return 0;
}

/* The notice a record carries: "template:key[:threshold]" ("" without a
 * key). 0, 1 when rejected, 2 when no threshold is crossed yet. */
static int event_of(cb_letters *l, const cb_record *rec, char event[512])
{
    event[0] = '\0';
    if (l->o->nth > 0) {
        const char *d = cb_record_get(rec, l->col_days);
        char *end;
        errno = 0;
        long days = strtol(d, &end, 10);
        if (*d == '\0' || *end != '\0' || errno)
            return reject_rec(l, rec, "days_left", "days_left is not a whole number of days"), 1;
        int th = cb_notify_threshold(l->o->th, l->o->nth, days);
        if (th < 0)
            return 2;
        snprintf(event, 512, "%s:%s:%d", l->o->tpl_name, cb_record_get(rec, l->col_key), th);
    } else if (l->col_key >= 0) {
        snprintf(event, 512, "%s:%s", l->o->tpl_name, cb_record_get(rec, l->col_key));
    }
    return 0;
}

int cb_letters_take(cb_letters *l, const cb_record *rec)
{
    char rcpt[320], event[512];
    if (start(l) < 0)
        return -1;
    if (check_record(l, rec, rcpt) != 0)
        return 0;
    int rc = event_of(l, rec, event);
    if (rc == 1)
        return 0;
    if (rc == 2 || (l->ledger != NULL && cb_notify_ledger_has(l->ledger, rcpt, event))) {
        cb_filter_drop(l->f);
        return 0;
    }
    char *ev = l->ledger ? event : NULL;
    if (l->col_digest < 0)
        return send_one(l, rcpt, &rec, &ev, 1, 1);
    struct group *g = group_for(l, cb_record_get(rec, l->col_digest), rcpt);
    if (g == NULL || group_add(g, rec, ev) < 0)
        return oom(l);
    return 0;
}

int cb_letters_finish(cb_letters *l)
{
    if (start(l) < 0)
        return -1;
    for (size_t i = 0; i < l->ngroups; i++) {
        struct group *g = &l->groups[i];
        if (send_one(l, g->recipient, (const cb_record *const *)g->recs, g->events, g->n, 0) < 0)
            return -1;
    }
    if (send_ready(l) < 0)
        return -1;
    return deliver_held(l);
}
