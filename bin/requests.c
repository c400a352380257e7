/* requests: the province's request ledger (state/requests.csv), the steps
 * of the nightly job and of the return of updates that change a request's
 * state. The rules are in lib/: reqintake.c, reqevents.c, reqpending.c,
 * fileaway.c, over the request ledger (reqledger.c) and the filter driver.
 *
 *   intake     the night's form files, each read on its own (one bad file is
 *              that file's problem), as one CSV stream for validate-form; a
 *              request proposed on an earlier night is filtered with its
 *              reason; received/filtered recorded
 *   record     records an event (proposed, rejected, ...) for each record of
 *              a CSV, once, and passes the records on
 *   pending    the requests proposed and not yet delivered, rebuilt from the
 *              proposal lists the ledger names
 *   returned   split-updates' manifest: renewed and delivered recorded, the
 *              delivered rows passed on with the agency's columns
 *   file-away  moves the night's form files to forms/processed/DATE/ */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "fileaway.h"
#include "filter.h"
#include "reqevents.h"
#include "reqintake.h"
#include "reqledger.h"
#include "reqpending.h"

static const char *prog = "requests";

typedef struct opts {
    const char *cmd, *ledger, *as_of, *filtered, *event, *detail, *detail_col, *key_col, *where,
        *pending, *to, *list;
    char night[16];
    char **files;
    int nfiles;
} opts;

static void usage(FILE *fp)
{
    fputs("usage: requests intake   --ledger FILE [--as-of DATE] [--rejects FILE] [--filtered FILE]\n"
          "                         [--read-list FILE] [--lang en|vi] [-o FILE] [-q] [FORM.csv...]\n"
          "       requests record   --ledger FILE --event EVENT [--detail TEXT | --detail-column COL]\n"
          "                         [--where COL=VALUE] [--key-column NAME] [--as-of DATE]\n"
          "                         [-o FILE] [-q] [FILE...]\n"
          "       requests pending  --ledger FILE [--as-of DATE] [-o FILE] [-q]\n"
          "       requests returned --ledger FILE [--pending FILE] [--as-of DATE] [-o FILE] [-q] [MANIFEST]\n"
          "       requests file-away --to DIR [--list FILE] [-o FILE] [-q] [FILE...]\n"
          "       requests --help | --version\n"
          "\n"
          "  --ledger FILE        the request ledger (state/requests.csv)\n"
          "  --as-of DATE         the night, YYYY-MM-DD (default: today in UTC+07:00)\n"
          "  --rejects FILE       intake: rows of files that cannot be read, as CSV\n"
          "  --filtered FILE      intake: requests already proposed on an earlier night, as CSV\n"
          "  --read-list FILE     intake: the form files read, one row each (for file-away --list)\n"
          "  --lang en|vi         intake: language of the reasons (default en)\n"
          "  --event EVENT        record: received, filtered, rejected, proposed, renewed, delivered\n"
          "  --detail TEXT        record: the event's detail (e.g. the proposal list)\n"
          "  --detail-column COL  record: the detail is this column of each record\n"
          "  --where COL=VALUE    record: only records whose COL is VALUE (the others filtered)\n"
          "  --key-column NAME    record: append NAME = request_id/hash of the detail, a key\n"
          "                       for notify --ledger --key (one letter per request and reason)\n"
          "  --pending FILE       returned: the pending requests, for agency_email and agency_name\n"
          "  --to DIR             file-away: the directory the files move to\n"
          "  --list FILE          file-away: move the files named in FILE's column file too\n"
          "  -o FILE              write to FILE (atomically) instead of stdout\n"
          "  -q                   no summary line\n",
          fp);
}

/* The options; 0, -1 after --help or --version, or EX_USAGE. */
static int parse(cb_filter *f, int argc, char **argv, opts *o)
{
    enum { O_LEDGER = 256, O_ASOF, O_FILT, O_EVENT, O_DETAIL, O_DCOL, O_WHERE, O_KEY, O_PEND, O_TO,
           O_LIST, O_HELP, O_VERSION };
    static const struct option lo[] = {
        {"ledger", required_argument, 0, O_LEDGER},  {"as-of", required_argument, 0, O_ASOF},
        {"rejects", required_argument, 0, CB_FILTER_OPT_REJECTS},
        {"filtered", required_argument, 0, O_FILT},  {"lang", required_argument, 0, CB_FILTER_OPT_LANG},
        {"event", required_argument, 0, O_EVENT},    {"detail", required_argument, 0, O_DETAIL},
        {"detail-column", required_argument, 0, O_DCOL}, {"where", required_argument, 0, O_WHERE},
        {"key-column", required_argument, 0, O_KEY}, {"pending", required_argument, 0, O_PEND},
        {"to", required_argument, 0, O_TO},          {"read-list", required_argument, 0, O_LIST},
        {"list", required_argument, 0, O_LIST},      {"output", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},              {"help", no_argument, 0, O_HELP},
        {"version", no_argument, 0, O_VERSION},      {0, 0, 0, 0},
    };
    int c;
    while ((c = cb_filter_getopt(f, argc, argv, "o:q", lo)) != -1) {
        switch (c) {
        case CB_FILTER_GETOPT_BAD: return EX_USAGE;
        case O_LEDGER: o->ledger = optarg; break;
        case O_ASOF: o->as_of = optarg; break;
        case O_FILT: o->filtered = optarg; break;
        case O_EVENT: o->event = optarg; break;
        case O_DETAIL: o->detail = optarg; break;
        case O_DCOL: o->detail_col = optarg; break;
        case O_WHERE: o->where = optarg; break;
        case O_KEY: o->key_col = optarg; break;
        case O_PEND: o->pending = optarg; break;
        case O_TO: o->to = optarg; break;
        case O_LIST: o->list = optarg; break;
        case O_HELP: usage(stdout); return -1;
        case O_VERSION: printf("%s certbatch %s\n", prog, CB_VERSION); return -1;
        default: usage(stderr); return EX_USAGE;
        }
    }
    return 0;
}

/* What each subcommand needs, checked before anything is read. */
static const char *check_opts(const opts *o)
{
    int needs_ledger = strcmp(o->cmd, "file-away") != 0;
    if (needs_ledger && o->ledger == NULL)
        return "--ledger FILE is needed";
    if (!strcmp(o->cmd, "file-away") && o->to == NULL)
        return "file-away needs --to DIR";
    if (!strcmp(o->cmd, "record")) {
        if (o->event == NULL || !cb_reqledger_event_known(o->event))
            return "record needs --event received|filtered|rejected|proposed|renewed|delivered";
        if (o->detail && o->detail_col)
            return "--detail and --detail-column cannot be used together";
        if (o->where && (strchr(o->where, '=') == NULL || *o->where == '='))
            return "--where wants COL=VALUE";
    }
    if (o->list && strcmp(o->cmd, "intake") && strcmp(o->cmd, "file-away"))
        return "--read-list goes with intake, --list with file-away";
    if (!strcmp(o->cmd, "pending") && o->nfiles > 0)
        return "pending reads only the ledger";
    return NULL;
}

/* record and returned read the pipeline's own outputs: a damaged record
 * stops the step. */
static int cmd_record(cb_filter *f, const opts *o)
{
    cb_err err = {0};
    char *name = o->detail ? cb_reqledger_name_of(o->ledger, o->detail) : NULL;
    char *where = o->where ? strdup(o->where) : NULL;
    char *eq = where ? strchr(where, '=') : NULL;
    if (eq)
        *eq = '\0';
    cb_reqrecord k = {.s.night = o->night, .event = o->event, .detail = name ? name : o->detail,
                      .detail_col = o->detail_col, .where_col = where, .where_value = eq ? eq + 1 : NULL,
                      .key_col = o->key_col};
    f->damaged_stops = 1;
    if ((k.s.l = cb_reqledger_open(o->ledger, 1, &err)) == NULL)
        cb_filter_fail(f, &err);
    else
        cb_filter_run(f, o->files, o->nfiles, NULL, &cb_reqrecord_step, &k);
    cb_reqledger_close(k.s.l, &err);
    cb_reqrecord_clear(&k);
    free(where);
    free(name);
    return f->rc;
}

static int cmd_returned(cb_filter *f, const opts *o)
{
    cb_err err = {0};
    cb_reqreturned t = {.s.night = o->night};
    f->damaged_stops = 1;
    if ((o->pending && cb_reqreturned_load_pending(&t, o->pending, &err) < 0) ||
        (t.s.l = cb_reqledger_open(o->ledger, 1, &err)) == NULL)
        cb_filter_fail(f, &err);
    else
        cb_filter_run(f, o->files, o->nfiles, NULL, &cb_reqreturned_step, &t);
    cb_reqledger_close(t.s.l, &err);
    cb_reqreturned_clear(&t);
    return f->rc;
}

static int run_command(cb_filter *f, const opts *o)
{
    if (!strcmp(o->cmd, "intake")) {
        cb_reqintake_opts io = {.ledger = o->ledger, .night = o->night, .filtered = o->filtered,
                                .read_list = o->list, .diag = stderr};
        return cb_reqintake_run(f, &io, o->files, o->nfiles);
    }
    if (!strcmp(o->cmd, "record"))
        return cmd_record(f, o);
    if (!strcmp(o->cmd, "pending"))
        return cb_reqpending_run(f, o->ledger, o->night);
    if (!strcmp(o->cmd, "returned"))
        return cmd_returned(f, o);
    return cb_file_away(f, o->files, o->nfiles, o->list, o->to);
}

int main(int argc, char **argv)
{
    static cb_filter f;
    cb_filter_init(&f, prog, stderr);
    opts o = {0};
    int rc = parse(&f, argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? EX_OK : rc;
    if (optind >= argc) {
        usage(stderr);
        return EX_USAGE;
    }
    o.cmd = argv[optind];
    o.files = argv + optind + 1;
    o.nfiles = argc - optind - 1;
    static const char *const cmds[] = {"intake", "record", "pending", "returned", "file-away", NULL};
    int known = 0;
    for (size_t i = 0; cmds[i]; i++)
        known |= !strcmp(cmds[i], o.cmd);
    const char *why = known ? check_opts(&o) : "unknown subcommand";
    if (why != NULL) {
        cb_filter_note(&f, "%s%s%s", known ? "" : o.cmd, known ? "" : ": ", why);
        return EX_USAGE;
    }
    cb_err err = {0};
    cb_date today;
    if (cb_today(o.as_of, &today, &err) < 0) {
        cb_filter_note(&f, "--as-of: %s", err.msg);
        return EX_USAGE;
    }
    cb_date_format(today, o.night);
    if (strcmp(o.cmd, "intake") != 0)
        f.rejects_path = NULL;   /* only intake rejects; the others stop */
    run_command(&f, &o);
    return cb_filter_finish(&f);
}
