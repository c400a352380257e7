/* notify: turns records from any certbatch step (scan-expiry's certificates,
 * validate-form's rejects, split-updates' manifest, sign-batch's issued
 * requests) into e-mail from a letter template — one message per record or
 * one digest per recipient — delivered to an mbox, a Maildir, sendmail or
 * an SMTP server, with a ledger so each notice is sent once. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "cb_err.h"
#include "csvio.h"
#include "date.h"
#include "mail.h"
#include "notify_ledger.h"
#include "rejects.h"
#include "run.h"
#include "template.h"

#ifndef CB_DATADIR
#define CB_DATADIR "/usr/local/share/certbatch"
#endif

#define PROG "notify"
#define MAX_VARS 32
#define MAX_THRESHOLDS 16

/* --deliver: the transport as one word, so that a pipeline switches from a
 * Maildir to SMTP by one variable. */
static int deliver_parse(const char *spec, cb_mailer_opts *mo)
{
    if (!strncmp(spec, "maildir:", 8) && spec[8]) {
        mo->kind = CB_MAIL_MAILDIR;
        mo->maildir = spec + 8;
    } else if (!strcmp(spec, "mbox")) {
        mo->kind = CB_MAIL_MBOX;
    } else if (!strcmp(spec, "sendmail") || (!strncmp(spec, "sendmail:", 9) && spec[9])) {
        mo->kind = CB_MAIL_SENDMAIL;
        mo->sendmail = spec[8] ? spec + 9 : NULL;
    } else if (!strncmp(spec, "smtp://", 7) || !strncmp(spec, "smtps://", 8)) {
        mo->kind = CB_MAIL_SMTP;
        mo->smtp_url = spec;
    } else {
        return -1;
    }
    return 0;
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: notify --template NAME|FILE [--to COLUMN] [--from ADDR] [--digest-by COLUMN]\n"
            "              [--mbox | --maildir DIR | --sendmail[=CMD] |\n"
            "               --smtp URL [--smtp-login FILE] [--smtp-tls] [--retries N] [--retry-delay S] |\n"
            "               --deliver maildir:DIR|mbox|sendmail[:CMD]|smtp://HOST[:PORT]|smtps://...]\n"
            "              [--ledger FILE [--thresholds 60,30,7] [--key COLUMN]] [--attach COLUMN]\n"
            "              [--attach-file FILE]\n"
            "              [--set NAME=VALUE]... [--as-of DATE] [--rejects FILE] [--log FILE]\n"
            "              [-o FILE] [--dry-run] [--strict] [-q] [FILE...]\n"
            "       notify --help | --version\n"
            "Shipped templates: expiring, expired, rejected, renewal-ready, issued-ready,\n"
            "collect-device, report, operators-digest.\n");
}

struct group {
    char *key;
    char *recipient;
    cb_record **recs;
    char **events;
    size_t n, cap;
};

struct ctx {
    cb_run run;
    cb_rejects rj;
    cb_template *tpl;
    const char *tpl_name;
    const cb_header *hdr;
    const char *input_name;
    int col_to, col_digest, col_attach, col_key, col_days;
    const char *to_name_col;
    char *from_name, *from_addr;
    const char *var_names[MAX_VARS], *var_values[MAX_VARS];
    size_t nvars;
    int th[MAX_THRESHOLDS], nth;
    cb_date today;
    cb_notify_ledger *ledger;
    cb_mailer *mailer;
    int dry_run, retries, retry_delay;
    int server_down;
    char down_reason[1100];
    cb_mail_attachment file_att;   /* --attach-file, sent with every message */
    int have_file_att;
    int tempfail;
    FILE *log;
    cb_csv_writer logw;
    struct group *groups;
    size_t ngroups, gcap;
};

static int reject(struct ctx *c, const cb_record *rec, const char *field, const char *reason)
{
    c->run.rejected++;
    return cb_rejects_add(&c->rj, rec, c->input_name, rec ? rec->line : 0, field, reason);
}

static int log_message(struct ctx *c, const char *rcpt, const char *subject, const char *mid, size_t n,
                       const char *status, const char *detail)
{
    if (c->log == NULL)
        return 0;
    char num[24];
    snprintf(num, sizeof num, "%zu", n);
    const char *f[] = {rcpt, subject ? subject : "", mid ? mid : "", num, status, detail ? detail : ""};
    return cb_csv_write_fields(&c->logw, f, 6);
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

static void now_instant(char *buf)
{
    cb_instant_format((int64_t)time(NULL), buf);
}

/* Sends one message for recs[0..n) to rcpt. Returns 0 when the run goes on
 * (the records were sent or rejected), -1 for a failure that stops it. */
static int send_message(struct ctx *c, const char *rcpt, cb_record *const *recs, char *const *events,
                        size_t n, cb_err *err)
{
    const cb_record *const *r = (const cb_record *const *)recs;
    int rc = 0;
    char *subject = NULL, *to_name = NULL, *body = NULL, *msg = NULL, *mid = NULL;
    cb_mail_attachment *att = NULL;
    size_t natt = 0, len = 0;
    cb_err e = {0};

    if (c->server_down) {
        for (size_t i = 0; i < n; i++)
            reject(c, recs[i], NULL, c->down_reason);
        return log_message(c, rcpt, NULL, NULL, n, "failed", c->down_reason) < 0
                   ? cb_err_sys(err, EX_IOERR, "cannot write the log")
                   : 0;
    }
    subject = cb_template_render_str(c->tpl, CB_TPL_SUBJECT, r, n, c->var_values, c->today, err);
    to_name = cb_template_render_str(c->tpl, CB_TPL_TO_NAME, r, n, c->var_values, c->today, err);
    body = cb_template_render_str(c->tpl, CB_TPL_BODY, r, n, c->var_values, c->today, err);
    if (subject == NULL || to_name == NULL || body == NULL) {
        rc = -1;
        goto out;
    }
    if (c->col_attach >= 0 || c->have_file_att) {
        att = calloc(n + 1, sizeof *att);
        if (att == NULL) {
            rc = cb_err_set(err, EX_OSERR, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n && c->col_attach >= 0; i++) {
            const char *path = cb_record_get(recs[i], c->col_attach);
            if (*path == '\0')
                continue;
            size_t dl;
            unsigned char *der = read_cert_der(path, &dl, &e);
            if (der == NULL) {
                for (size_t k = 0; k < n; k++)
                    reject(c, recs[k], NULL, e.msg);
                goto out;
            }
            char *base = strdup(path), *b = basename(base), *dot = strrchr(b, '.');
            if (dot != NULL && dot != b)
                *dot = '\0';
            size_t fl = strlen(b) + 5;
            char *fname = malloc(fl);
            if (fname != NULL)
                snprintf(fname, fl, "%s.cer", b);
            free(base);
            att[natt++] = (cb_mail_attachment){fname ? fname : "certificate.cer", "application/pkix-cert", der, dl};
        }
        if (c->have_file_att)
            att[natt++] = c->file_att;
    }
    int64_t now = (int64_t)time(NULL);
    cb_mail_msg m = {c->from_name, c->from_addr, to_name, rcpt, subject, body, att, natt, now};
    if (cb_mail_build(&m, c->mailer ? cb_mailer_crlf(c->mailer) : 0, &msg, &len, &mid, &e) < 0) {
        if (e.code != EX_DATAERR) {
            *err = e;
            rc = -1;
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            reject(c, recs[i], c->hdr->names[c->col_to], e.msg);
        goto out;
    }
    char *hsubject = cb_mail_header_text(subject);
    if (c->dry_run) {
        c->run.out += n;
        if (log_message(c, rcpt, hsubject, mid, n, "dry-run", "") < 0)
            rc = cb_err_sys(err, EX_IOERR, "cannot write the log");
        free(hsubject);
        goto out;
    }
    int attempt = 0, sent;
    for (;;) {
        sent = cb_mailer_send(c->mailer, c->from_addr, rcpt, msg, len, &e);
        if (sent == 0 || e.code != EX_TEMPFAIL || attempt >= c->retries)
            break;
        attempt++;
        if (c->retry_delay > 0)
            sleep((unsigned)(c->retry_delay << (attempt - 1 < 4 ? attempt - 1 : 4)));
    }
    if (sent == 0) {
        char at[32];
        now_instant(at);
        for (size_t i = 0; i < n; i++)
            if (c->ledger != NULL && events[i] != NULL &&
                cb_notify_ledger_add(c->ledger, rcpt, events[i], at, err) < 0) {
                rc = -1;
                break;
            }
        c->run.out += n;
        if (rc == 0 && log_message(c, rcpt, hsubject, mid, n, "sent", "") < 0)
            rc = cb_err_sys(err, EX_IOERR, "cannot write the log");
    } else if (e.code == EX_NOUSER || e.code == EX_TEMPFAIL) {
        if (e.code == EX_TEMPFAIL) {
            /* Later messages would wait out the same retries; reject them at
             * once so the next run sends them all. */
            c->tempfail = 1;
            c->server_down = 1;
            snprintf(c->down_reason, sizeof c->down_reason, "not sent, the next run will retry: %s", e.msg);
        }
        const char *why = e.code == EX_TEMPFAIL ? c->down_reason : e.msg;
        for (size_t i = 0; i < n; i++)
            reject(c, recs[i], e.code == EX_NOUSER ? c->hdr->names[c->col_to] : NULL, why);
        if (log_message(c, rcpt, hsubject, mid, n, e.code == EX_NOUSER ? "refused" : "failed", e.msg) < 0)
            rc = cb_err_sys(err, EX_IOERR, "cannot write the log");
    } else {
        for (size_t i = 0; i < n; i++)
            reject(c, recs[i], NULL, e.msg);
        *err = e;
        rc = -1;
    }
    free(hsubject);
out:
    for (size_t i = 0; i < natt; i++) {
        if (c->have_file_att && att[i].data == c->file_att.data)
            continue;
        free((void *)att[i].data);
        if (strcmp(att[i].filename, "certificate.cer") != 0)
            free((void *)att[i].filename);
    }
    free(att);
    free(subject);
    free(to_name);
    free(body);
    free(msg);
    free(mid);
    return rc;
}

/* --attach-file: the file read once, its type told by its name. */
static int load_file_attachment(struct ctx *c, const char *path, cb_err *err)
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
    c->file_att = (cb_mail_attachment){base ? base + 1 : path, "application/octet-stream", data, len};
    for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i][0]) == 0)
            c->file_att.content_type = types[i][1];
    c->have_file_att = 1;
    return 0;
}

static struct group *group_for(struct ctx *c, const char *digest, const char *rcpt)
{
    size_t kl = strlen(digest) + strlen(rcpt) + 2;
    char *key = malloc(kl);
    if (key == NULL)
        return NULL;
    snprintf(key, kl, "%s%c%s", digest, '\x1f', rcpt);
    /* Addresses (and a digest by address) ignore case. */
    for (char *p = key; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    /* Groups are few (one per recipient); a linear search keeps it simple
     * and the output in order of first appearance. */
    for (size_t i = 0; i < c->ngroups; i++)
        if (strcmp(c->groups[i].key, key) == 0) {
            free(key);
            return &c->groups[i];
        }
    if (c->ngroups == c->gcap) {
        size_t cap = c->gcap ? c->gcap * 2 : 64;
        struct group *g = realloc(c->groups, cap * sizeof *g);
        if (g == NULL) {
            free(key);
            return NULL;
        }
        c->groups = g;
        c->gcap = cap;
    }
    struct group *g = &c->groups[c->ngroups++];
    memset(g, 0, sizeof *g);
    g->key = key;
    g->recipient = strdup(rcpt);
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

/* Processes one record: checks, threshold and ledger, then sends it or
 * adds it to its digest. */
static int process(struct ctx *c, cb_record *rec, cb_err *err)
{
    char rcpt[320];
    snprintf(rcpt, sizeof rcpt, "%s", cb_record_get(rec, c->col_to));
    trim(rcpt);
    const char *tocol = c->hdr->names[c->col_to];
    if (rcpt[0] == '\0')
        return reject(c, rec, tocol, "no e-mail address to send the notice to");
    if (!cb_mail_address_ok(rcpt)) {
        char why[400];
        snprintf(why, sizeof why, "'%s' is not a valid e-mail address", cb_record_get(rec, c->col_to));
        return reject(c, rec, tocol, why);
    }
    const char *why;
    const char *bad = cb_template_check_record(c->tpl, rec, &why);
    if (bad != NULL) {
        char msg[300];
        snprintf(msg, sizeof msg, "column %s %s", bad, why);
        return reject(c, rec, bad, msg);
    }
    if (c->col_attach >= 0) {
        const char *p = cb_record_get(rec, c->col_attach);
        if (*p && access(p, R_OK) != 0) {
            char msg[PATH_MAX + 64];
            snprintf(msg, sizeof msg, "cannot read the certificate file %s: %s", p, strerror(errno));
            return reject(c, rec, c->hdr->names[c->col_attach], msg);
        }
    }
    char event[512];
    event[0] = '\0';
    if (c->nth > 0) {
        const char *d = cb_record_get(rec, c->col_days);
        char *end;
        errno = 0;
        long days = strtol(d, &end, 10);
        if (*d == '\0' || *end != '\0' || errno)
            return reject(c, rec, "days_left", "days_left is not a whole number of days");
        int th = cb_notify_threshold(c->th, c->nth, days);
        if (th < 0) {
            c->run.filtered++;
            return 0;
        }
        snprintf(event, sizeof event, "%s:%s:%d", c->tpl_name, cb_record_get(rec, c->col_key), th);
    } else if (c->col_key >= 0) {
        snprintf(event, sizeof event, "%s:%s", c->tpl_name, cb_record_get(rec, c->col_key));
    }
    if (c->ledger != NULL && cb_notify_ledger_has(c->ledger, rcpt, event)) {
        c->run.filtered++;
        return 0;
    }
    if (c->col_digest < 0) {
        cb_record *one[] = {rec};
        char *ev[] = {c->ledger ? event : NULL};
        return send_message(c, rcpt, one, ev, 1, err);
    }
    struct group *g = group_for(c, cb_record_get(rec, c->col_digest), rcpt);
    if (g == NULL || g->recipient == NULL || group_add(g, rec, c->ledger ? event : NULL) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

/* Where a template NAME is: $CB_TEMPLATES, next to the program
 * (bin/../templates, so a checkout works; bin/../share/certbatch/templates,
 * so an install under any prefix works), then the data directory the
 * program was built for. */
static char *find_template(const char *name)
{
    if (strchr(name, '/') != NULL || access(name, R_OK) == 0)
        return strdup(name);
    char exe[PATH_MAX], path[PATH_MAX + 64];
    char *near[2] = {NULL, NULL};
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        const char *dir = dirname(exe);
        snprintf(path, sizeof path, "%s/../templates", dir);
        near[0] = strdup(path);
        snprintf(path, sizeof path, "%s/../share/certbatch/templates", dir);
        near[1] = strdup(path);
    }
    const char *dirs[4] = {getenv("CB_TEMPLATES"), near[0], near[1], CB_DATADIR "/templates"};
    char *found = NULL;
    for (int i = 0; i < 4 && found == NULL; i++) {
        if (dirs[i] == NULL || *dirs[i] == '\0')
            continue;
        snprintf(path, sizeof path, "%s/%s.txt", dirs[i], name);
        if (access(path, R_OK) == 0)
            found = strdup(path);
    }
    free(near[0]);
    free(near[1]);
    return found;
}

static int need_col(const cb_header *h, const char *name, const char *opt, cb_err *err)
{
    int i = cb_header_find(h, name);
    if (i < 0)
        cb_err_set(err, EX_DATAERR, "%s %s: the input has no column '%s'", opt, name, name);
    return i;
}

int main(int argc, char **argv)
{
    cb_guard_std_fds();
    enum { O_TEMPLATE = 256, O_TO, O_FROM, O_DIGEST, O_MBOX, O_MAILDIR, O_SENDMAIL, O_SMTP, O_DELIVER, O_LOGIN, O_TLS,
           O_LEDGER, O_THRESH, O_KEY, O_ATTACH, O_ATTACH_FILE, O_SET, O_ASOF, O_REJECTS, O_LOG, O_DRY, O_STRICT, O_RETRIES,
           O_DELAY, O_HELP, O_VERSION };
    static const struct option longopts[] = {
        {"template", required_argument, 0, O_TEMPLATE}, {"to", required_argument, 0, O_TO},
        {"from", required_argument, 0, O_FROM},         {"digest-by", required_argument, 0, O_DIGEST},
        {"mbox", no_argument, 0, O_MBOX},               {"maildir", required_argument, 0, O_MAILDIR},
        {"sendmail", optional_argument, 0, O_SENDMAIL}, {"smtp", required_argument, 0, O_SMTP},
        {"deliver", required_argument, 0, O_DELIVER},
        {"smtp-login", required_argument, 0, O_LOGIN},  {"smtp-tls", no_argument, 0, O_TLS},
        {"ledger", required_argument, 0, O_LEDGER},     {"thresholds", required_argument, 0, O_THRESH},
        {"key", required_argument, 0, O_KEY},           {"attach", required_argument, 0, O_ATTACH},
        {"attach-file", required_argument, 0, O_ATTACH_FILE},
        {"set", required_argument, 0, O_SET},           {"as-of", required_argument, 0, O_ASOF},
        {"rejects", required_argument, 0, O_REJECTS},   {"log", required_argument, 0, O_LOG},
        {"dry-run", no_argument, 0, O_DRY},             {"strict", no_argument, 0, O_STRICT},
        {"retries", required_argument, 0, O_RETRIES},   {"retry-delay", required_argument, 0, O_DELAY},
        {"help", no_argument, 0, O_HELP},               {"version", no_argument, 0, O_VERSION},
        {0, 0, 0, 0}};
    const char *template_arg = NULL, *to = "email", *from = NULL, *digest = NULL, *ledger_path = NULL,
               *thresholds = NULL, *key = NULL, *attach = NULL, *attach_file = NULL, *as_of = NULL, *rejects_path = NULL,
               *log_path = NULL, *out_path = NULL;
    cb_mailer_opts mo = {.kind = CB_MAIL_MBOX};
    int quiet = 0, strict = 0, ntransports = 0, opt;
    struct ctx c = {.col_digest = -1, .col_attach = -1, .col_key = -1, .col_days = -1, .retries = 2,
                    .retry_delay = 5};

    while ((opt = getopt_long(argc, argv, "o:q", longopts, NULL)) != -1) {
        switch (opt) {
        case O_TEMPLATE: template_arg = optarg; break;
        case O_TO: to = optarg; break;
        case O_FROM: from = optarg; break;
        case O_DIGEST: digest = optarg; break;
        case O_MBOX: mo.kind = CB_MAIL_MBOX; ntransports++; break;
        case O_MAILDIR: mo.kind = CB_MAIL_MAILDIR; mo.maildir = optarg; ntransports++; break;
        case O_SENDMAIL: mo.kind = CB_MAIL_SENDMAIL; mo.sendmail = optarg; ntransports++; break;
        case O_SMTP: mo.kind = CB_MAIL_SMTP; mo.smtp_url = optarg; ntransports++; break;
        case O_DELIVER:
            if (deliver_parse(optarg, &mo) < 0) {
                fprintf(stderr, "notify: --deliver: '%s' is none of maildir:DIR, mbox, sendmail[:CMD], smtp://..., smtps://...\n", optarg);
                return EX_USAGE;
            }
            ntransports++;
            break;
        case O_LOGIN: mo.login_file = optarg; break;
        case O_TLS: mo.require_tls = 1; break;
        case O_LEDGER: ledger_path = optarg; break;
        case O_THRESH: thresholds = optarg; break;
        case O_KEY: key = optarg; break;
        case O_ATTACH: attach = optarg; break;
        case O_ATTACH_FILE: attach_file = optarg; break;
        case O_SET: {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg || c.nvars == MAX_VARS) {
                fprintf(stderr, "notify: --set wants NAME=VALUE (at most %d)\n", MAX_VARS);
                return EX_USAGE;
            }
            *eq = '\0';
            c.var_names[c.nvars] = optarg;
            c.var_values[c.nvars++] = eq + 1;
            break;
        }
        case O_ASOF: as_of = optarg; break;
        case O_REJECTS: rejects_path = optarg; break;
        case O_LOG: log_path = optarg; break;
        case O_DRY: c.dry_run = 1; break;
        case O_STRICT: strict = 1; break;
        case O_RETRIES:
        case O_DELAY: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 0 || v > 100) {
                fprintf(stderr, "notify: --%s wants a number from 0 to 100\n", opt == O_RETRIES ? "retries" : "retry-delay");
                return EX_USAGE;
            }
            *(opt == O_RETRIES ? &c.retries : &c.retry_delay) = (int)v;
            break;
        }
        case 'o': out_path = optarg; break;
        case 'q': quiet = 1; break;
        case O_HELP: usage(stdout); return 0;
        case O_VERSION: printf("notify certbatch " CB_VERSION "\n"); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (template_arg == NULL || ntransports > 1 || (mo.login_file && mo.kind != CB_MAIL_SMTP) ||
        (thresholds && !ledger_path)) {
        fprintf(stderr, "notify: %s\n",
                template_arg == NULL ? "--template is required"
                : ntransports > 1    ? "choose one of --mbox, --maildir, --sendmail, --smtp"
                : thresholds         ? "--thresholds needs --ledger (it remembers what was sent)"
                                     : "--smtp-login goes with --smtp");
        usage(stderr);
        return EX_USAGE;
    }

    cb_err err = {0};
    int status = 0;
    if (cb_today(as_of, &c.today, &err) < 0) {
        fprintf(stderr, "notify: %s\n", err.msg);
        return err.code;
    }
    if (thresholds && (c.nth = cb_notify_parse_thresholds(thresholds, c.th, MAX_THRESHOLDS)) < 0) {
        fprintf(stderr, "notify: --thresholds wants days like 60,30,7\n");
        return EX_USAGE;
    }
    if (cb_mail_global_init(&err) < 0) {
        fprintf(stderr, "notify: %s\n", err.msg);
        return err.code;
    }
    if (from == NULL)
        from = getenv("CB_MAIL_FROM");
    if (cb_mail_parse_mailbox(from ? from : "certbatch@localhost.localdomain", &c.from_name, &c.from_addr, &err) < 0) {
        fprintf(stderr, "notify: --from: %s\n", err.msg);
        cb_mail_global_done();
        return EX_USAGE;
    }

    char *tpath = find_template(template_arg);
    cb_csv_reader *rd = NULL;
    cb_record *rec = NULL;
    cb_output out = {0};
    int out_open = 0, rj_open = 0, mbox_out = 0;
    cb_atomic logfile = {0};
    int logfile_open = 0;
    if (tpath == NULL) {
        status = cb_err_set(&err, EX_NOINPUT, "no template '%s' (looked in $CB_TEMPLATES, next to the program and in %s/templates)",
                            template_arg, CB_DATADIR);
        goto done;
    }
    if ((c.tpl = cb_template_load(tpath, &err)) == NULL)
        goto done;
    {
        char *b = strdup(tpath), *base = basename(b), *dot = strrchr(base, '.');
        if (dot && dot != base)
            *dot = '\0';
        c.tpl_name = strdup(base);
        free(b);
    }
    if ((rd = cb_csv_reader_open(argv + optind, argc - optind, 0, &err)) == NULL)
        goto done;
    c.hdr = cb_csv_reader_header(rd);
    /* An input with no bytes is zero records: no column to bind. */
    if (!cb_csv_reader_empty(rd) && (cb_template_bind(c.tpl, c.hdr, c.var_names, c.nvars, &err) < 0 ||
        (c.col_to = need_col(c.hdr, to, "--to", &err)) < 0 ||
        (digest && (c.col_digest = need_col(c.hdr, digest, "--digest-by", &err)) < 0) ||
        (attach && (c.col_attach = need_col(c.hdr, attach, "--attach", &err)) < 0) ||
        (key && (c.col_key = need_col(c.hdr, key, "--key", &err)) < 0) ||
        (c.nth && (c.col_days = need_col(c.hdr, "days_left", "--thresholds needs", &err)) < 0)))
        goto done;
    if (ledger_path && c.col_key < 0 && !cb_csv_reader_empty(rd)) {
        c.col_key = cb_header_find(c.hdr, "serial");
        if (c.col_key < 0)
            c.col_key = cb_header_find(c.hdr, "request_id");
        if (c.col_key < 0) {
            cb_err_set(&err, EX_USAGE, "--ledger: name the column that identifies a record with --key");
            goto done;
        }
    }
    if (ledger_path && (c.ledger = cb_notify_ledger_open(ledger_path, !c.dry_run, &err)) == NULL)
        goto done;
    if (attach_file && load_file_attachment(&c, attach_file, &err) < 0)
        goto done;

    mbox_out = mo.kind == CB_MAIL_MBOX && !c.dry_run;
    /* An mbox's letters are handed over when the file is: their rows wait
     * for it. */
    if (c.ledger && mbox_out)
        cb_notify_ledger_defer(c.ledger, 1);
    /* What a killed run left half-written beside the outputs goes. */
    if ((out_path && strcmp(out_path, "-") != 0 && cb_atomic_sweep_path(out_path, &err) < 0) ||
        (log_path && cb_atomic_sweep_path(log_path, &err) < 0))
        goto done;
    if ((mbox_out || !log_path) && cb_output_open(&out, out_path, 0644, &err) < 0)
        goto done;
    out_open = mbox_out || !log_path;
    if (log_path) {
        if (cb_atomic_open(&logfile, log_path, 0644, &err) < 0)
            goto done;
        logfile_open = 1;
        c.log = logfile.fp;
    } else if (!mbox_out) {
        c.log = out.fp;
    }
    if (c.log) {
        cb_csv_writer_init(&c.logw, c.log);
        static const char *const lh[] = {"recipient", "subject", "message_id", "records", "status", "detail"};
        cb_csv_write_fields(&c.logw, lh, 6);
    }
    mo.mbox = mbox_out ? out.fp : NULL;
    if (!c.dry_run && (c.mailer = cb_mailer_open(&mo, &err)) == NULL)
        goto done;
    if (cb_rejects_open(&c.rj, PROG, rejects_path, stderr, &err) < 0)
        goto done;
    rj_open = 1;
    cb_rejects_set_header(&c.rj, c.hdr);

    cb_run_start(&c.run, PROG, stderr, quiet);
    rec = cb_record_new();
    int rc;
    while ((rc = cb_csv_reader_next(rd, rec, &err)) != CB_CSV_EOF) {
        if (rc == CB_CSV_FATAL)
            goto done;
        c.input_name = cb_csv_reader_name(rd);
        c.run.in++;
        cb_run_tick(&c.run);
        if (rc == CB_CSV_MALFORMED) {
            reject(&c, rec, NULL, err.msg);
            continue;
        }
        if (process(&c, rec, &err) < 0)
            goto done;
    }
    for (size_t i = 0; i < c.ngroups; i++) {
        struct group *g = &c.groups[i];
        c.input_name = cb_csv_reader_name(rd);
        if (send_message(&c, g->recipient, g->recs, g->events, g->n, &err) < 0)
            goto done;
    }
    err.code = 0;

done:
    status = err.code;
    if (status != 0)
        fprintf(stderr, "notify: %s\n", err.msg);
    if (c.mailer && cb_mailer_close(c.mailer, &err) < 0)
        status = cb_exit_worst(status, err.code);
    if (logfile_open) {
        if (cb_atomic_commit(&logfile, 0, &err) < 0) {
            fprintf(stderr, "notify: %s\n", err.msg);
            status = cb_exit_worst(status, err.code);
        }
    }
    int handed_over = !mbox_out;
    if (out_open) {
        if (status == 0 || c.run.out > 0) {
            if (cb_output_close(&out, &err) < 0) {
                fprintf(stderr, "notify: %s\n", err.msg);
                status = cb_exit_worst(status, err.code);
            } else {
                handed_over = 1;
            }
        } else {
            cb_output_abort(&out);
        }
    }
    free((void *)c.file_att.data);
    /* What was handed over must not go again, whatever stopped the run. */
    if (c.ledger && handed_over && cb_notify_ledger_commit(c.ledger, &err) < 0) {
        fprintf(stderr, "notify: %s\n", err.msg);
        status = cb_exit_worst(status, err.code);
    }
    if (rj_open) {
        if (cb_rejects_close(&c.rj, &err) < 0) {
            fprintf(stderr, "notify: %s\n", err.msg);
            status = cb_exit_worst(status, err.code);
        }
        cb_run_summary(&c.run);
    }
    if (c.tempfail)
        status = cb_exit_worst(status, EX_TEMPFAIL);
    if (fflush(stderr) != 0 || ferror(stderr))
        status = cb_exit_worst(status, EX_IOERR);
    if (strict && c.run.rejected > 0)
        status = cb_exit_worst(status, EX_DATAERR);
    for (size_t i = 0; i < c.ngroups; i++) {
        for (size_t k = 0; k < c.groups[i].n; k++) {
            cb_record_free(c.groups[i].recs[k]);
            free(c.groups[i].events[k]);
        }
        free(c.groups[i].recs);
        free(c.groups[i].events);
        free(c.groups[i].key);
        free(c.groups[i].recipient);
    }
    free(c.groups);
    cb_record_free(rec);
    cb_csv_reader_close(rd);
    cb_notify_ledger_free(c.ledger);
    cb_template_free(c.tpl);
    free((char *)c.tpl_name);
    free(tpath);
    free(c.from_name);
    free(c.from_addr);
    cb_mail_global_done();
    return status;
}
