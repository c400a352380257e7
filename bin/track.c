/* track: one row per request saying where it stands in procedure 1.010847
 * (or a renewal): its step, when it got there, the due date of the step
 * and of the whole procedure, and whether it is overdue at --as-of; from
 * the request records, the issuance ledger, the effective-time requests
 * and the publication ledger. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_err.h"
#include "date.h"
#include "filter.h"
#include "record.h"
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
          "                     (FILE.xlsx, also for --rejects: an Excel workbook)\n"
          "  --excel-csv        CSV for Excel: UTF-8 BOM, Vietnamese labels, CRLF\n"
          "  -q                 no summary line\n",
          fp);
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

/* The step's state: the tracker and the columns. */
typedef struct step_state {
    cb_track *t;
    cb_header *oh;
    cb_record *out;
    int col[NADDED], rid, type, form, received;
    int open_only;
} step_state;

static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    step_state *s = ctx;
    s->rid = cb_header_find(in, "request_id");
    s->type = cb_header_find(in, "request_type");
    s->form = cb_header_find(in, "form");
    s->received = cb_header_find(in, "received_date");
    if (s->rid < 0 || s->received < 0 || (s->type < 0 && s->form < 0))
        return cb_err_set(err, EX_DATAERR, "%s:1: the requests need request_id, received_date and "
                          "request_type or form", cb_filter_input(f));
    if ((s->oh = cb_header_copy(in)) == NULL || (s->out = cb_record_new()) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (int k = 0; k < NADDED; k++)
        if ((s->col[k] = cb_header_ensure(s->oh, added[k])) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    return cb_filter_set_header(f, s->oh) < 0 ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

static int process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    step_state *s = ctx;
    const char *type = type_of(rec, s->type, s->form);
    cb_track_row r;
    cb_err why = {0};
    if (cb_track_request(s->t, cb_record_get(rec, s->rid), type, cb_record_get(rec, s->received), &r,
                         &why) < 0) {
        cb_filter_reject(f, rec, r.field, why.msg);
        return 0;
    }
    int finished = strcmp(r.step, "published") == 0 || (strcmp(r.step, "issued") == 0 && strcmp(type, "renew") == 0);
    if (s->open_only && finished) {
        cb_filter_drop(f);
        return 0;
    }
    const char *v[NADDED] = {r.step,          r.step_at,  r.step_due, r.procedure_due,
                             r.overdue ? "yes" : "no", r.late ? "yes" : "no", r.serial,
                             r.effective_at};
    if (cb_record_copy(s->out, rec) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (int k = 0; k < NADDED; k++)
        if (cb_record_set_str(s->out, s->col[k], v[k]) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    cb_filter_emit(f, s->out);
    return 0;
}

int main(int argc, char **argv)
{
    cb_track_opts to = {0};
    const char *as_of = NULL;
    char *effective[MAX_LIST];
    int neff = 0, c;
    step_state st = {0};
    enum { O_LEDGER = 256, O_PUB, O_EFF, O_HOL, O_ASOF, O_OPEN, O_HELP, O_VERSION };
    static const struct option opts[] = {
        {"ledger", required_argument, NULL, O_LEDGER}, {"published", required_argument, NULL, O_PUB},
        {"effective", required_argument, NULL, O_EFF}, {"holidays", required_argument, NULL, O_HOL},
        {"as-of", required_argument, NULL, O_ASOF},    {"open", no_argument, NULL, O_OPEN},
        CB_FILTER_OPTIONS,
        {"help", no_argument, NULL, O_HELP},           {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    static cb_filter f;
    cb_filter_init(&f, PROG, stderr);
    while ((c = cb_filter_getopt(&f, argc, argv, "o:q", opts)) != -1) {
        switch (c) {
        case CB_FILTER_GETOPT_BAD: return EX_USAGE;
        case O_LEDGER: to.ledger = optarg; break;
        case O_PUB: to.published = optarg; break;
        case O_EFF:
            if (cb_filter_list_add(&f, (const char **)effective, &neff, MAX_LIST, "--effective", optarg) < 0)
                return EX_USAGE;
            break;
        case O_HOL: to.holidays = optarg; break;
        case O_ASOF: as_of = optarg; break;
        case O_OPEN: st.open_only = 1; break;
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
    to.lang_vi = f.lang == CB_LANG_VI;
    cb_err err = {0};
    if (cb_today(as_of, &to.today, &err) < 0) {
        cb_filter_note(&f, "%s", err.msg);
        return EX_USAGE;
    }
    if ((st.t = cb_track_open(&to, &err)) == NULL ||
        (neff && cb_track_load_effective(st.t, effective, neff, &err) < 0)) {
        cb_track_free(st.t);
        return cb_filter_fail(&f, &err);
    }
    static const cb_filter_step step = {begin, process, NULL};
    cb_filter_run(&f, argv + optind, argc - optind, NULL, &step, &st);
    cb_record_free(st.out);
    cb_header_free(st.oh);
    cb_track_free(st.t);
    return cb_filter_finish(&f);
}
