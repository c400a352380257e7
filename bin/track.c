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
#include "csvio.h"
#include "date.h"
#include "filter.h"
#include "record.h"
#include "track.h"

#define PROG "track"
#define MAX_LIST 64

static const char *const added[] = {"step", "step_at", "step_due", "procedure_due", "overdue",
                                    "late", "serial", "effective_at"};
enum { NADDED = sizeof added / sizeof added[0] };
/* --due's columns, then --mail-to's */
static const char *const due_added[] = {"due_text", "due_on", "step_text", "mail_to", "digest_date"};
enum { NDUE = 3, NDUE_ALL = sizeof due_added / sizeof due_added[0] };

static void usage(FILE *fp)
{
    fputs("usage: track --ledger FILE [--published FILE] [--effective FILE] [--holidays FILE]\n"
          "             [--as-of DATE] [--open | --due] [--mail-to ADDR] [--rejects FILE] [--strict]\n"
          "             [--lang en|vi] [-o FILE] [-q] [REQUESTS...]\n"
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
          "  --due              only the requests late (overdue) or due today, the late ones\n"
          "                     first, with due_text (late / due today), due_on (the date\n"
          "                     at stake) and step_text (the step in a sentence, --lang)\n"
          "  --mail-to ADDR     add mail_to (ADDR) and digest_date (today) to each row: the\n"
          "                     records of the operators' daily letter (notify --to mail_to\n"
          "                     --digest-by digest_date); \"\": no letter, every row filtered\n"
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
    int open_only, due_only, lang_vi;
    const char *mail_to;       /* --mail-to, or NULL */
    int dcol[NDUE_ALL];
    char today[11];
    cb_record **held;          /* --due: the rows due today, written after the late ones */
    size_t nheld, capheld;
} step_state;

static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    step_state *s = ctx;
    s->rid = cb_header_find(in, "request_id");
    s->type = cb_header_find(in, "request_type");
    s->form = cb_header_find(in, "form");
    s->received = cb_header_find(in, "received_date");
    /* an input with no bytes is zero requests, with no columns to check;
     * the driver names the input and line of a header that lacks them */
    if (!cb_csv_reader_empty(f->reader) && (s->rid < 0 || s->received < 0 || (s->type < 0 && s->form < 0)))
        return cb_err_set(err, EX_DATAERR, "the requests need request_id, received_date and request_type or form");
    if ((s->oh = cb_header_copy(in)) == NULL || (s->out = cb_record_new()) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (int k = 0; k < NADDED; k++)
        if ((s->col[k] = cb_header_ensure(s->oh, added[k])) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    for (int k = 0; k < NDUE_ALL; k++) {
        int want = k < NDUE ? s->due_only : s->mail_to != NULL;
        if (want && (s->dcol[k] = cb_header_ensure(s->oh, due_added[k])) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return cb_filter_set_header(f, s->oh) < 0 ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

/* --due's columns of the row in s->out. */
static int set_due(step_state *s, const cb_track_row *r, int renew, cb_track_due due, cb_date due_on)
{
    char on[11];
    cb_date_format(due_on, on);
    int vi = s->lang_vi;
    const char *v[NDUE] = {cb_track_due_text(due, vi), on, cb_track_step_text(r, renew, vi)};
    for (int k = 0; k < NDUE; k++)
        if (cb_record_set_str(s->out, s->dcol[k], v[k]) < 0)
            return -1;
    return 0;
}

/* A row due today waits until the late ones are out. */
static int hold(step_state *s, cb_err *err)
{
    if (s->nheld == s->capheld) {
        size_t cap = s->capheld ? s->capheld * 2 : 16;
        cb_record **p = realloc(s->held, cap * sizeof *p);
        if (p == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        s->held = p;
        s->capheld = cap;
    }
    cb_record *copy = cb_record_new();
    if (copy == NULL || cb_record_copy(copy, s->out) < 0) {
        cb_record_free(copy);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    copy->line = s->out->line;
    s->held[s->nheld++] = copy;
    return 0;
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
    cb_date due_on = 0;
    cb_track_due due = s->due_only ? cb_track_due_of(s->t, &r, &due_on) : CB_TRACK_NOT_DUE;
    if ((s->open_only && r.finished) || (s->due_only && due == CB_TRACK_NOT_DUE) ||
        (s->mail_to && *s->mail_to == '\0')) {
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
    if (s->due_only && set_due(s, &r, strcmp(type, "renew") == 0, due, due_on) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (s->mail_to && (cb_record_set_str(s->out, s->dcol[3], s->mail_to) < 0 ||
                       cb_record_set_str(s->out, s->dcol[4], s->today) < 0))
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (due == CB_TRACK_DUE_TODAY)
        return hold(s, err);
    cb_filter_emit(f, s->out);
    return 0;
}

static int end(void *ctx, cb_filter *f, cb_err *err)
{
    (void)err;
    step_state *s = ctx;
    for (size_t i = 0; i < s->nheld; i++)
        cb_filter_emit(f, s->held[i]);
    return 0;
}

int main(int argc, char **argv)
{
    cb_track_opts to = {0};
    const char *as_of = NULL;
    char *effective[MAX_LIST];
    int neff = 0, c;
    step_state st = {0};
    enum { O_LEDGER = 256, O_PUB, O_EFF, O_HOL, O_ASOF, O_OPEN, O_DUE, O_MAILTO, O_HELP, O_VERSION };
    static const struct option opts[] = {
        {"ledger", required_argument, NULL, O_LEDGER}, {"published", required_argument, NULL, O_PUB},
        {"effective", required_argument, NULL, O_EFF}, {"holidays", required_argument, NULL, O_HOL},
        {"as-of", required_argument, NULL, O_ASOF},    {"open", no_argument, NULL, O_OPEN},
        {"due", no_argument, NULL, O_DUE},             {"mail-to", required_argument, NULL, O_MAILTO},
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
        case O_DUE: st.due_only = 1; break;
        case O_MAILTO: st.mail_to = optarg; break;
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
    to.lang_vi = st.lang_vi = f.lang == CB_LANG_VI;
    cb_err err = {0};
    if (cb_today(as_of, &to.today, &err) < 0) {
        cb_filter_note(&f, "%s", err.msg);
        return EX_USAGE;
    }
    cb_date_format(to.today, st.today);
    if ((st.t = cb_track_open(&to, &err)) == NULL ||
        (neff && cb_track_load_effective(st.t, effective, neff, &err) < 0)) {
        cb_track_free(st.t);
        return cb_filter_fail(&f, &err);
    }
    static const cb_filter_step step = {begin, process, end};
    cb_filter_run(&f, argv + optind, argc - optind, NULL, &step, &st);
    for (size_t i = 0; i < st.nheld; i++)
        cb_record_free(st.held[i]);
    free(st.held);
    cb_record_free(st.out);
    cb_header_free(st.oh);
    cb_track_free(st.t);
    return cb_filter_finish(&f);
}
