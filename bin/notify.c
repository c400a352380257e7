/* notify: turns records from any certbatch step (scan-expiry's certificates,
 * validate-form's rejects, split-updates' manifest, sign-batch's issued
 * requests) into e-mail from a letter template — one message per record or
 * one digest per recipient — delivered to an mbox, a Maildir, sendmail or
 * an SMTP server, with a ledger so each notice is sent once. The letters
 * are made, sent and recorded in lib/letters.c; the CSV log of what was
 * sent is the output (-o), unless the output is the mbox itself. */
#include <getopt.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "letters.h"

#ifndef CB_DATADIR
#define CB_DATADIR "/usr/local/share/certbatch"
#endif

#define MAX_VARS 32
#define MAX_THRESHOLDS 16

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

/* The step: the letters (lib/letters.c) made of each record. */
static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    (void)f;
    return cb_letters_open(ctx, in, err);
}

static int process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    (void)f, (void)err;
    cb_letters_take(ctx, rec);   /* a failure is reported, and stops the run */
    return 0;
}

static int end(void *ctx, cb_filter *f, cb_err *err)
{
    (void)f, (void)err;
    cb_letters_finish(ctx);
    return 0;
}

/* What the command line says, beside the driver's options and the
 * letters' own. */
typedef struct args {
    const char *tpl, *from, *ledger, *thresholds, *as_of, *out;
    const char *var_names[MAX_VARS], *var_values[MAX_VARS];
    int ntransports, mail_init;
    int th[MAX_THRESHOLDS];
    char tpl_name[256];
} args;

static int number(const char *opt, const char *arg, int *v)
{
    char *e;
    long x = strtol(arg, &e, 10);
    if (*arg == '\0' || *e || x < 0 || x > 100) {
        fprintf(stderr, "notify: --%s wants a number from 0 to 100\n", opt);
        return EX_USAGE;
    }
    *v = (int)x;
    return 0;
}

/* One of notify's own options: 0, or EX_USAGE after saying why. */
static int option(cb_letters_opts *lo, args *a, int opt, char *arg)
{
    cb_mailer_opts *mo = &lo->mailer;
    char *eq;
    switch (opt) {
    case 't': a->tpl = arg; return 0;
    case 'T': lo->to = arg; return 0;
    case 'F': a->from = arg; return 0;
    case 'g': lo->digest_by = arg; return 0;
    case 'M': mo->kind = CB_MAIL_MBOX; return a->ntransports++, 0;
    case 'm': mo->kind = CB_MAIL_MAILDIR; mo->maildir = arg; return a->ntransports++, 0;
    case 's': mo->kind = CB_MAIL_SENDMAIL; mo->sendmail = arg; return a->ntransports++, 0;
    case 'S': mo->kind = CB_MAIL_SMTP; mo->smtp_url = arg; return a->ntransports++, 0;
    case 'd':
        if (cb_mailer_opts_parse(arg, mo) == 0)
            return a->ntransports++, 0;
        fprintf(stderr, "notify: --deliver: '%s' is none of maildir:DIR, mbox, sendmail[:CMD], smtp://..., smtps://...\n", arg);
        return EX_USAGE;
    case 'l': mo->login_file = arg; return 0;
    case 'x': mo->require_tls = 1; return 0;
    case 'L': a->ledger = arg; return 0;
    case 'h': a->thresholds = arg; return 0;
    case 'K': lo->key = arg; return 0;
    case 'A': lo->attach = arg; return 0;
    case 'f': lo->attach_file = arg; return 0;
    case 'v':
        if ((eq = strchr(arg, '=')) == NULL || eq == arg || lo->nvars == MAX_VARS) {
            fprintf(stderr, "notify: --set wants NAME=VALUE (at most %d)\n", MAX_VARS);
            return EX_USAGE;
        }
        *eq = '\0';
        a->var_names[lo->nvars] = arg;
        a->var_values[lo->nvars++] = eq + 1;
        return 0;
    case 'a': a->as_of = arg; return 0;
    case 'G': lo->log_path = arg; return 0;
    case 'n': lo->dry_run = 1; return 0;
    case 'r': return number("retries", arg, &lo->retries);
    case 'w': return number("retry-delay", arg, &lo->retry_delay);
    case 'o': a->out = arg; return 0;
    default: usage(stderr); return EX_USAGE;
    }
}

static const char *usage_problem(const args *a, const cb_mailer_opts *mo)
{
    return a->tpl == NULL                                ? "--template is required"
           : a->ntransports > 1                          ? "choose one of --mbox, --maildir, --sendmail, --smtp"
           : a->thresholds && !a->ledger                 ? "--thresholds needs --ledger (it remembers what was sent)"
           : mo->login_file && mo->kind != CB_MAIL_SMTP  ? "--smtp-login goes with --smtp"
                                                         : NULL;
}

/* Today, the thresholds, the sender, the template, the ledger and
 before the input is read. 0, or -1 with err set. */
static int setup(cb_letters_opts *lo, args *a, cb_err *err)
{
    lo->var_names = a->var_names;
    lo->var_values = a->var_values;
    lo->th = a->th;
    if (cb_today(a->as_of, &lo->today, err) < 0)
        return -1;
    if (a->thresholds && (lo->nth = cb_notify_parse_thresholds(a->thresholds, a->th, MAX_THRESHOLDS)) < 0)
        return cb_err_set(err, EX_USAGE, "--thresholds wants days like 60,30,7");
    if (lo->mailer.kind == CB_MAIL_MAILDIR) {
        /* A Maildir's batch holds its letters' files open (1024, where the
         * soft limit is often 1024 in all). */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048 && rl.rlim_max > rl.rlim_cur) {
            rl.rlim_cur = rl.rlim_max < 2048 ? rl.rlim_max : 2048;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        const char *named = getenv("CB_MAILDIR_NAMED_TMP");
        lo->mailer.maildir_named_tmp = named != NULL && *named != '\0';
    }
    if (cb_mail_global_init(err) < 0)
        return -1;
    a->mail_init = 1;
    const char *from = a->from ? a->from : getenv("CB_MAIL_FROM");
    char *fname, *faddr;
    if (cb_mail_parse_mailbox(from ? from : "certbatch@localhost.localdomain", &fname, &faddr, err) < 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return cb_err_set(err, EX_USAGE, "--from: %.1000s", why);
    }
    lo->from_name = fname;
    lo->from_addr = faddr;
    if ((lo->tpl = cb_template_open(a->tpl, CB_DATADIR, a->tpl_name, sizeof a->tpl_name, err)) == NULL)
        return -1;
    lo->tpl_name = a->tpl_name;
    if (a->ledger && (lo->ledger = cb_notify_ledger_open(a->ledger, !lo->dry_run, err)) == NULL)
        return -1;
    /* What a killed run left half-written beside the outputs goes. */
    if ((a->out && strcmp(a->out, "-") != 0 && cb_atomic_sweep_path(a->out, err) < 0) ||
        (lo->log_path && cb_atomic_sweep_path(lo->log_path, err) < 0))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"template", required_argument, 0, 't'},    {"to", required_argument, 0, 'T'},
        {"from", required_argument, 0, 'F'},        {"digest-by", required_argument, 0, 'g'},
        {"mbox", no_argument, 0, 'M'},              {"maildir", required_argument, 0, 'm'},
        {"sendmail", optional_argument, 0, 's'},    {"smtp", required_argument, 0, 'S'},
        {"deliver", required_argument, 0, 'd'},     {"smtp-login", required_argument, 0, 'l'},
        {"smtp-tls", no_argument, 0, 'x'},          {"ledger", required_argument, 0, 'L'},
        {"thresholds", required_argument, 0, 'h'},  {"key", required_argument, 0, 'K'},
        {"attach", required_argument, 0, 'A'},      {"attach-file", required_argument, 0, 'f'},
        {"set", required_argument, 0, 'v'},         {"as-of", required_argument, 0, 'a'},
        {"log", required_argument, 0, 'G'},         {"dry-run", no_argument, 0, 'n'},
        {"retries", required_argument, 0, 'r'},     {"retry-delay", required_argument, 0, 'w'},
        {"rejects", required_argument, 0, CB_FILTER_OPT_REJECTS},
        {"strict", no_argument, 0, CB_FILTER_OPT_STRICT},
        {"help", no_argument, 0, 'H'},              {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    static cb_filter f;
    static cb_letters_opts lo = {.to = "email", .retries = 2, .retry_delay = 5, .mailer = {.kind = CB_MAIL_MBOX}};
    static args a;
    cb_letters *letters = NULL;
    int opt;
    cb_guard_std_fds();
    cb_filter_init(&f, "notify", stderr);
    while ((opt = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
        if (opt == 'H' || opt == 'V') {
            opt == 'H' ? usage(stdout) : (void)printf("notify certbatch " CB_VERSION "\n");
            return 0;
        }
        if (opt != 'o' && cb_filter_option(&f, opt, optarg) == CB_FILTER_OPT_TAKEN)
            continue;
        if (option(&lo, &a, opt, optarg) != 0)
            return EX_USAGE;
    }
    const char *why = usage_problem(&a, &lo.mailer);
    if (why != NULL) {
        fprintf(stderr, "notify: %s\n", why);
        usage(stderr);
        return EX_USAGE;
    }
    cb_err err = {0};
    if (setup(&lo, &a, &err) < 0 || (letters = cb_letters_new(&lo, &f, &err)) == NULL) {
        cb_filter_fail(&f, &err);
    } else {
        /* -o is the mbox, else the log unless --log names a file. */
        if (cb_letters_mbox_out(&lo))
            lo.mbox_path = a.out;
        else if (!lo.log_path && a.out)
            cb_filter_option(&f, 'o', a.out);
        static const cb_filter_step step = {begin, process, end};
        cb_filter_run(&f, argv + optind, argc - optind, NULL, &step, letters);
        cb_letters_close(letters);
    }
    int rc = cb_filter_finish(&f);
    cb_letters_free(letters);
    cb_notify_ledger_free(lo.ledger);
    cb_template_free(lo.tpl);
    free((char *)lo.from_name);
    free((char *)lo.from_addr);
    if (a.mail_init)
        cb_mail_global_done();
    return rc;
}
