/* track: one row per request saying where it stands in procedure 1.010847
 * (or a renewal): its step, when it got there, the due date of the step
 * and of the whole procedure, and whether it is overdue at --as-of; from
 * the request records, the issuance ledger, the effective-time requests
 * and the publication ledger. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "cb_err.h"
#include "csvio.h"
#include "date.h"
#include "record.h"
#include "rejects.h"
#include "run.h"
#include "track.h"

#define PROG "track"
#define MAX_LIST 64

static const char *const added[] = {"step", "step_at", "step_due", "procedure_due", "overdue",
                                    "late", "serial", "effective_at"};
enum { NADDED = sizeof added / sizeof added[0] };

static void usage(FILE *fp)
{
    fputs("usage: track --ledger FILE [--published FILE] [--effective FILE] [--holidays FILE]\n"
          "             [--as-of DATE] [--open] [--rejects FILE] [--strict] [--lang en|vi]\n"
          "             [-o FILE] [-q] [REQUESTS...]\n"
          "       track --help | --version\n"
          "\n"
          "Reads request records (validate-form's output: request_id, request_type or\n"
          "form, received_date) and writes each with where it stands: step (received,\n"
          "issued, effective_requested, published), step_at, step_due (when the Cục must\n"
          "have done the next step; empty when it waits for the agency), procedure_due\n"
          "(4 working days for a new certificate, 3 for a renewal), overdue and late\n"
          "(yes/no), serial and effective_at.\n"
          "\n"
          "  --ledger FILE      sign-batch's issuance ledger\n"
          "  --published FILE   the publication ledger (default: LEDGER-published.csv)\n"
          "  --effective FILE   effective-time requests not published yet; repeatable\n"
          "  --holidays FILE    holidays file (date,kind,name) for the working-day calendar\n"
          "  --as-of DATE       today, for overdue (default: today in UTC+07:00)\n"
          "  --open             only the requests not finished (the others are filtered)\n"
          "  --rejects FILE     write requests that cannot be placed there as CSV\n"
          "  --strict           exit 65 if any request was rejected\n"
          "  --lang en|vi       language of the reasons (default en)\n"
          "  -o FILE            write to FILE (atomically) instead of stdout\n"
          "  -q                 no summary line\n",
          fp);
}

static void die(int code, const char *msg)
{
    fprintf(stderr, PROG ": %s\n", msg);
    exit(code);
}

/* request_type from the column, else from the form (FORMS.md). */
static const char *type_of(const cb_record *rec, int type_col, int form_col)
{
    const char *t = type_col >= 0 ? cb_record_get(rec, type_col) : "";
    const char *f = form_col >= 0 ? cb_record_get(rec, form_col) : "";
    if (*t)
        return t;
    if (strcmp(f, "01") == 0 || strcmp(f, "02") == 0)
        return "issue";
    if (strcmp(f, "03") == 0 || strcmp(f, "04") == 0)
        return "renew";
    return "";
}

static int fill(cb_record *rec, const int col[NADDED], const cb_track_row *r)
{
    const char *v[NADDED] = {r->step,         r->step_at,    r->step_due, r->procedure_due,
                             r->overdue ? "yes" : "no", r->late ? "yes" : "no", r->serial,
                             r->effective_at};
    for (int k = 0; k < NADDED; k++)
        if (cb_record_set_str(rec, col[k], v[k]) < 0)
            return -1;
    return 0;
}

typedef struct io {
    cb_csv_reader *rd;
    cb_header *oh;
    cb_record *rec;
    cb_output out;
    cb_csv_writer w;
    cb_rejects rj;
    int col[NADDED], rid, type, form, received;
} io;

static int open_io(io *x, char **files, int nfiles, const char *output, const char *rejects, cb_err *err)
{
    if ((x->rd = cb_csv_reader_open(files, nfiles, 0, err)) == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(x->rd);
    x->rid = cb_header_find(h, "request_id");
    x->type = cb_header_find(h, "request_type");
    x->form = cb_header_find(h, "form");
    x->received = cb_header_find(h, "received_date");
    if (x->rid < 0 || x->received < 0 || (x->type < 0 && x->form < 0))
        return cb_err_set(err, EX_DATAERR, "%s:1: the requests need request_id, received_date and "
                          "request_type or form", cb_csv_reader_name(x->rd));
    if ((x->oh = cb_header_copy(h)) == NULL || (x->rec = cb_record_new()) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (int k = 0; k < NADDED; k++)
        if ((x->col[k] = cb_header_ensure(x->oh, added[k])) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    if (cb_output_open(&x->out, output, 0644, err) < 0)
        return -1;
    if (cb_rejects_open(&x->rj, PROG, rejects, stderr, err) < 0) {
        cb_output_abort(&x->out);
        return -1;
    }
    cb_csv_writer_init(&x->w, x->out.fp);
    if (cb_rejects_set_header(&x->rj, h) < 0 || cb_csv_write_header(&x->w, x->oh) < 0)
        return cb_err_set(err, EX_IOERR, "cannot write the output");
    return 0;
}

static int run_loop(cb_track *t, io *x, cb_run *run, int open_only)
{
    cb_err err = {0};
    int st;
    while ((st = cb_csv_reader_next(x->rd, x->rec, &err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            return err.code ? err.code : EX_IOERR;
        }
        run->in++;
        cb_run_tick(run);
        const char *name = cb_csv_reader_name(x->rd);
        cb_track_row row;
        if (st == CB_CSV_MALFORMED ||
            cb_track_request(t, cb_record_get(x->rec, x->rid), type_of(x->rec, x->type, x->form),
                             cb_record_get(x->rec, x->received), &row, &err) < 0) {
            run->rejected++;
            if (cb_rejects_add(&x->rj, x->rec, name, x->rec->line, NULL, err.msg) < 0)
                return EX_IOERR;
            continue;
        }
        int finished = strcmp(row.step, "published") == 0 ||
                       (strcmp(row.step, "issued") == 0 && strcmp(type_of(x->rec, x->type, x->form), "renew") == 0);
        if (open_only && finished) {
            run->filtered++;
            continue;
        }
        run->out++;
        if (fill(x->rec, x->col, &row) < 0 || cb_csv_write_record(&x->w, x->rec, x->oh->n) < 0)
            return EX_IOERR;
    }
    return EX_OK;
}

int main(int argc, char **argv)
{
    cb_track_opts to = {0};
    const char *as_of = NULL, *output = NULL, *rejects = NULL;
    char *effective[MAX_LIST];
    int neff = 0, strict = 0, quiet = 0, open_only = 0, c;
    enum { O_LEDGER = 256, O_PUB, O_EFF, O_HOL, O_ASOF, O_OPEN, O_REJ, O_STRICT, O_LANG, O_HELP, O_VERSION };
    static const struct option opts[] = {
        {"ledger", required_argument, NULL, O_LEDGER}, {"published", required_argument, NULL, O_PUB},
        {"effective", required_argument, NULL, O_EFF}, {"holidays", required_argument, NULL, O_HOL},
        {"as-of", required_argument, NULL, O_ASOF},    {"open", no_argument, NULL, O_OPEN},
        {"rejects", required_argument, NULL, O_REJ},   {"strict", no_argument, NULL, O_STRICT},
        {"lang", required_argument, NULL, O_LANG},     {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},     {NULL, 0, NULL, 0},
    };
    while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
        switch (c) {
        case O_LEDGER: to.ledger = optarg; break;
        case O_PUB: to.published = optarg; break;
        case O_EFF:
            if (neff == MAX_LIST)
                die(EX_USAGE, "too many --effective options");
            effective[neff++] = optarg;
            break;
        case O_HOL: to.holidays = optarg; break;
        case O_ASOF: as_of = optarg; break;
        case O_OPEN: open_only = 1; break;
        case O_REJ: rejects = optarg; break;
        case O_STRICT: strict = 1; break;
        case O_LANG:
            if (strcmp(optarg, "vi") != 0 && strcmp(optarg, "en") != 0)
                die(EX_USAGE, "--lang: neither en nor vi");
            to.lang_vi = strcmp(optarg, "vi") == 0;
            break;
        case 'o': output = optarg; break;
        case 'q': quiet = 1; break;
        case O_HELP: usage(stdout); return EX_OK;
        case O_VERSION: printf(PROG " certbatch " CB_VERSION "\n"); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (to.ledger == NULL) {
        fprintf(stderr, PROG ": --ledger FILE is required\n");
        usage(stderr);
        return EX_USAGE;
    }
    cb_err err = {0};
    if (cb_today(as_of, &to.today, &err) < 0)
        die(EX_USAGE, err.msg);
    cb_run run;
    cb_run_start(&run, PROG, stderr, quiet);
    cb_track *t = cb_track_open(&to, &err);
    if (t == NULL)
        die(err.code, err.msg);
    if (neff && cb_track_load_effective(t, effective, neff, &err) < 0)
        die(err.code, err.msg);
    io x = {0};
    if (open_io(&x, argv + optind, argc - optind, output, rejects, &err) < 0)
        die(err.code, err.msg);
    int rc = run_loop(t, &x, &run, open_only);
    if (rc == EX_OK) {
        if (cb_output_close(&x.out, &err) < 0 || cb_rejects_close(&x.rj, &err) < 0) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            rc = err.code;
        }
    } else {
        cb_output_abort(&x.out);
        cb_rejects_abort(&x.rj);
    }
    cb_run_summary(&run);
    if (rc == EX_OK && strict && run.rejected)
        rc = EX_DATAERR;
    cb_record_free(x.rec);
    cb_header_free(x.oh);
    cb_csv_reader_close(x.rd);
    cb_track_free(t);
    return rc;
}
