/* report: the morning page of a night's outputs.
 *
 * Reads a night's CSV files — the certificate inventory, the valid and the
 * rejected requests, the proposal list, the province's request ledger and
 * notify's logs — from a runs/DATE directory (--run) or named one by one,
 * and writes one self-contained HTML page in Vietnamese (lib/report.c says
 * what it counts), and with --mail-records the records notify mails the
 * page with (templates/report.txt). */
#include <getopt.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "date.h"
#include "report.h"
#include "run.h"

static const char *prog = "report";

static void usage(FILE *fp)
{
    fputs("usage: report [--run DIR] [--certs FILE] [--valid FILE] [--rejects FILE]\n"
          "              [--proposal FILE] [--requests-ledger FILE] [--notices FILE]...\n"
          "              [--as-of DATE] [--mail-to ADDR[,ADDR...]] [--mail-records FILE]\n"
          "              [--lang en|vi] [-o FILE] [-q]\n"
          "       report --help | --version\n"
          "\n"
          "Writes the office's morning page (HTML, self-contained, in Vietnamese): the\n"
          "certificates by status, the holders to chase, last night's rejected forms,\n"
          "a 26-week expiry forecast by agency, a table per agency, the reasons.\n"
          "\n"
          "  --run DIR              a night's directory (runs/DATE): all-certs.csv,\n"
          "                         valid-requests.csv, form-rejects.csv, proposal.csv,\n"
          "                         *-notices.csv, and STATE/requests.csv when DIR is\n"
          "                         STATE/runs/DATE; files missing there (but\n"
          "                         all-certs.csv) are left out\n"
          "  --certs FILE           scan-expiry --all output (the inventory)\n"
          "  --valid FILE           validate-form output: the night's valid requests\n"
          "  --rejects FILE         validate-form --rejects output: the rejected ones\n"
          "  --proposal FILE        aggregate-by-agency --detail output: the proposal list\n"
          "  --requests-ledger FILE the province's request ledger (state/requests.csv)\n"
          "  --notices FILE         notify's log of the notices sent (may be repeated)\n"
          "  --as-of DATE           the report's day, YYYY-MM-DD or DD/MM/YYYY\n"
          "                         (default: today in UTC+07:00)\n"
          "  --mail-to ADDR,...     the office's addresses for --mail-records (\"\": none)\n"
          "  --mail-records FILE    write there (atomically; - for stdout) one CSV row per\n"
          "                         --mail-to address: email, report_date, report_file,\n"
          "                         summary and the counts, for notify --template report\n"
          "                         --attach-file PAGE\n"
          "  --lang en|vi           language of the messages (the page is Vietnamese)\n"
          "  -o FILE                write the page to FILE (atomically) instead of stdout\n"
          "  -q                     no summary line\n",
          fp);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* DIR/name when that file exists (or always, when required). */
static char *in_run(const char *dir, const char *name, int required)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p == NULL)
        return NULL;
    snprintf(p, n, "%s/%s", dir, name);
    if (!required && !exists(p)) {
        free(p);
        return NULL;
    }
    return p;
}

typedef struct opts {
    cb_report_inputs in;
    const char *run, *as_of, *output, *mail_records;
    char *mail_to_buf;
    const char *mail_to[16];
    size_t nmail_to;
    const char *notices[64];
    size_t nnotices;
    int quiet, vi;
    cb_lang lang;
    char *owned[8];
    glob_t g;
    int globbed;
} opts;

static const char *fill(opts *o, const char *given, const char *name, int required, int slot)
{
    if (given != NULL || o->run == NULL)
        return given;
    return o->owned[slot] = in_run(o->run, name, required);
}

/* The province's ledger of a night's directory: STATE/requests.csv when
 * DIR is STATE/runs/DATE (the layout of the pipelines), else none. */
static char *ledger_of_run(const char *dir)
{
    char *real = realpath(dir, NULL);
    if (real == NULL)
        return NULL;
    char *slash = strrchr(real, '/');
    if (slash != NULL && slash != real) {
        *slash = '\0';
        char *parent = strrchr(real, '/');
        if (parent != NULL && strcmp(parent + 1, "runs") == 0) {
            *parent = '\0';
            char *p = in_run(*real ? real : "/", "requests.csv", 0);
            free(real);
            return p;
        }
    }
    free(real);
    return NULL;
}

/* --run fills in what was not named; explicit options win. */
static void from_run(opts *o)
{
    o->in.certs = fill(o, o->in.certs, "all-certs.csv", 1, 0);
    o->in.valid = fill(o, o->in.valid, "valid-requests.csv", 0, 1);
    o->in.rejects = fill(o, o->in.rejects, "form-rejects.csv", 0, 2);
    o->in.proposal = fill(o, o->in.proposal, "proposal.csv", 0, 3);
    if (o->in.requests_ledger == NULL && o->run != NULL)
        o->in.requests_ledger = o->owned[4] = ledger_of_run(o->run);
    o->in.run_dir = o->run;
    if (o->run != NULL && o->nnotices == 0) {
        char *pat = in_run(o->run, "*-notices.csv", 1);
        if (pat != NULL && glob(pat, 0, NULL, &o->g) == 0) {
            o->globbed = 1;
            for (size_t i = 0; i < o->g.gl_pathc && o->nnotices < 64; i++)
                o->notices[o->nnotices++] = o->g.gl_pathv[i];
        }
        free(pat);
    }
    o->in.notices = o->notices;
    o->in.nnotices = o->nnotices;
}

/* --mail-to a,b,c: the addresses, spaces around them dropped. */
static int split_addresses(opts *o, const char *list)
{
    free(o->mail_to_buf);
    o->nmail_to = 0;
    if ((o->mail_to_buf = strdup(list)) == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    for (char *save = NULL, *a = strtok_r(o->mail_to_buf, ", ", &save); a != NULL;
         a = strtok_r(NULL, ", ", &save)) {
        if (o->nmail_to == 16) {
            fprintf(stderr, "%s: --mail-to: at most 16 addresses\n", prog);
            return -1;
        }
        o->mail_to[o->nmail_to++] = a;
    }
    return 0;
}

static int parse(opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        {"run", required_argument, NULL, 'R'},      {"certs", required_argument, NULL, 'c'},
        {"valid", required_argument, NULL, 'v'},    {"rejects", required_argument, NULL, 'r'},
        {"proposal", required_argument, NULL, 'p'}, {"requests-ledger", required_argument, NULL, 'L'},
        {"notices", required_argument, NULL, 'n'},  {"as-of", required_argument, NULL, 'a'},
        {"mail-to", required_argument, NULL, 'm'},  {"mail-records", required_argument, NULL, 'M'},
        {"lang", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},   {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'R': o->run = optarg; break;
        case 'c': o->in.certs = optarg; break;
        case 'v': o->in.valid = optarg; break;
        case 'r': o->in.rejects = optarg; break;
        case 'p': o->in.proposal = optarg; break;
        case 'L': o->in.requests_ledger = optarg; break;
        case 'n':
            if (o->nnotices == 64) {
                fprintf(stderr, "%s: --notices: at most 64 files\n", prog);
                return EX_USAGE;
            }
            o->notices[o->nnotices++] = optarg;
            break;
        case 'a': o->as_of = optarg; break;
        case 'm':
            if (split_addresses(o, optarg) < 0)
                return EX_USAGE;
            break;
        case 'M': o->mail_records = optarg; break;
        case 'l':
            if (cb_lang_parse(optarg, &o->lang) < 0) {
                fprintf(stderr, "%s: --lang: '%s' is neither en nor vi\n", prog, optarg);
                return EX_USAGE;
            }
            o->vi = o->lang == CB_LANG_VI;
            break;
        case 'o': o->output = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); return -1;
        case 'V': printf("%s certbatch %s\n", prog, CB_VERSION); return -1;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, o->vi ? "%s: không nhận tệp ngoài tùy chọn: %s\n"
                              : "%s: no file arguments (use --run or --certs): %s\n",
                prog, argv[optind]);
        return EX_USAGE;
    }
    if (o->mail_records != NULL && strcmp(o->mail_records, "-") == 0 &&
        (o->output == NULL || strcmp(o->output, "-") == 0)) {
        fprintf(stderr, o->vi ? "%s: --mail-records - cần -o FILE cho trang\n"
                              : "%s: --mail-records - needs -o FILE for the page\n", prog);
        return EX_USAGE;
    }
    from_run(o);
    if (o->in.certs == NULL) {
        fprintf(stderr, o->vi ? "%s: cần --run DIR hoặc --certs FILE\n"
                              : "%s: --run DIR or --certs FILE is needed\n", prog);
        usage(stderr);
        return EX_USAGE;
    }
    return 0;
}

static int write_out(const cb_report *r, const opts *o, const char *path, int records, cb_err *err)
{
    cb_output out;
    if (cb_output_open(&out, path, 0644, err) < 0)
        return -1;
    int rc = records ? cb_report_write_mail_records(r, out.fp, o->mail_to, o->nmail_to, o->output, err)
                     : cb_report_write_html(r, out.fp, err);
    if (rc < 0) {
        cb_output_abort(&out);
        return -1;
    }
    return cb_output_close(&out, err);
}

static int run(opts *o)
{
    cb_err err = {0};
    cb_run run;
    cb_run_start(&run, prog, stderr, o->quiet);
    cb_date today;
    if (cb_today(o->as_of, &today, &err) < 0) {
        fprintf(stderr, "%s: --as-of: %s\n", prog, err.msg);
        return EX_USAGE;
    }
    cb_report *r = cb_report_new(today, o->lang, &err);
    int rc = EX_OK;
    if (r == NULL || cb_report_load(r, &o->in, &err) < 0 ||
        write_out(r, o, o->output, 0, &err) < 0 ||
        (o->mail_records && write_out(r, o, o->mail_records, 1, &err) < 0)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        rc = err.code ? err.code : EX_SOFTWARE;
    }
    if (r != NULL) {
        for (size_t i = 0; i < cb_report_nproblems(r); i++) {
            const cb_report_problem *p = cb_report_problem_at(r, i);
            fprintf(stderr, "%s: %s:%ld: %s\n", prog, p->file, p->line, p->reason);
        }
        cb_report_counts(r, &run.in, &run.out, &run.rejected);
    }
    cb_run_summary(&run);
    cb_report_free(r);
    return rc;
}

int main(int argc, char **argv)
{
    cb_guard_std_fds();
    opts o;
    memset(&o, 0, sizeof o);
    int rc = parse(&o, argc, argv);
    if (rc == 0)
        rc = run(&o);
    else if (rc < 0)
        rc = EX_OK;
    for (int i = 0; i < 8; i++)
        free(o.owned[i]);
    if (o.globbed)
        globfree(&o.g);
    free(o.mail_to_buf);
    return rc;
}
