/* validate-form: check request forms the way the law reads.
 *
 * Reads CSV request forms (Form 01/02 new certificate, Form 03/04 renewal;
 * canonical column names or the Vietnamese labels), writes the valid rows
 * with canonical column names and the computed columns (request_type,
 * subject_type, received_date, due_date, agency_key), and rejects each bad
 * row with every reason found. The rules are in lib/forms.c (FORMS.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "date.h"
#include "filter.h"
#include "forms.h"

static const char *prog = "validate-form";

static void usage(FILE *fp)
{
    fputs("usage: validate-form [--as-of DATE] [--certs FILE] [--ledger FILE]\n"
          "                     [--agencies FILE | --agencies-if-present FILE]\n"
          "                     [--allow-unknown-agency]\n"
          "                     [--holidays FILE] [--official-domains LIST]\n"
          "                     [--delimiter C] [--sheet NAME] [--rejects FILE] [--strict]\n"
          "                     [--lang en|vi] [--excel-csv] [-o FILE] [-q] [FILE...]\n"
          "       validate-form --help | --version\n"
          "\n"
          "Checks CSV request forms, or Excel workbooks, (01/02 new certificate, 03/04 renewal) against\n"
          "FORMS.md; writes the valid rows with request_type, subject_type,\n"
          "received_date, due_date and agency_key, and rejects the others.\n"
          "\n"
          "  --as-of DATE          today, YYYY-MM-DD or DD/MM/YYYY (default: today in UTC+07:00)\n"
          "  --certs FILE          scan-expiry output: renewals must name a known,\n"
          "                        unrevoked certificate of the same person\n"
          "  --ledger FILE         sign-batch's issuance ledger: a certificate renewed\n"
          "                        before, or itself a renewal, is rejected\n"
          "  --agencies FILE       the agency registry (agency_code,name,aliases,email,province,\n"
          "                        parent_code): each row's agency is found by code or name,\n"
          "                        agency_key is its code, agency_name and agency_email are added\n"
          "  --agencies-if-present FILE  the same when FILE exists (for unattended pipelines)\n"
          "  --allow-unknown-agency  an agency not in the registry passes, keyed by its name\n"
          "                        (default: rejected)\n"
          "  --holidays FILE       holidays file (date,kind,name) for the years it covers,\n"
          "                        over the built-in 2025-2026 schedules (empty: built-in only)\n"
          "  --official-domains LIST  e-mail domains accepted, comma-separated (default gov.vn)\n"
          "  --delimiter C         ',', ';' or tab (default: found from each file's header line)\n"
          "  --sheet NAME          of a workbook (.xlsx) input, the sheet to read (default: the first)\n"
          "  --rejects FILE        write rejected rows there as CSV (default: one line each on stderr)\n"
          "  --strict              exit 65 if any row was rejected\n"
          "  --lang en|vi          language of the reasons (default en)\n"
          "  -o FILE               write the valid rows to FILE (atomically) instead of stdout;\n"
          "                        FILE.xlsx (also for --rejects): an Excel workbook, Vietnamese labels\n"
          "  --excel-csv           CSV for Excel: UTF-8 BOM, Vietnamese labels, CRLF\n"
          "  -q                    no summary line\n",
          fp);
}

/* The step: each row checked against the forms' rules. */
typedef struct validate {
    cb_forms *forms;
    cb_record *out;
    cb_forms_verdict verdict;
} validate;

static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    validate *v = ctx;
    if (cb_forms_bind(v->forms, in, err) < 0)
        return -1;
    for (size_t i = 0; cb_forms_warning(v->forms, i); i++)
        cb_filter_note(f, "%s:%ld: %s", cb_filter_input(f), cb_csv_reader_header_line(f->reader),
                       cb_forms_warning(v->forms, i));
    if (cb_filter_set_header(f, cb_forms_out_header(v->forms)) < 0 ||
        cb_filter_set_reject_header(f, cb_forms_reject_header(v->forms)) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

static int process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    validate *v = ctx;
    int ok = cb_forms_check(v->forms, rec, cb_filter_input(f), v->out, &v->verdict, err);
    if (ok < 0)
        return -1;
    if (ok)
        cb_filter_emit(f, v->out);
    else
        cb_filter_reject(f, rec, v->verdict.field, v->verdict.reason);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"as-of", required_argument, NULL, 'a'},
        {"certs", required_argument, NULL, 'c'},
        {"ledger", required_argument, NULL, 'L'},
        {"holidays", required_argument, NULL, 'H'},
        {"official-domains", required_argument, NULL, 'D'},
        {"agencies", required_argument, NULL, 'A'},
        {"agencies-if-present", required_argument, NULL, 'P'},
        {"allow-unknown-agency", no_argument, NULL, 'U'},
        CB_FILTER_OPTIONS,
        CB_FILTER_INPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static cb_filter f;
    cb_filter_init(&f, prog, stderr);
    const char *as_of = NULL, *certs = NULL, *ledger = NULL, *holidays = NULL, *domains = "gov.vn",
               *agencies = NULL;
    int allow_unknown = 0, c;
    f.out_sheet = "Hồ sơ hợp lệ";
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        int mine = cb_filter_option(&f, c, optarg);
        if (mine == CB_FILTER_OPT_BAD)
            return EX_USAGE;
        if (mine == CB_FILTER_OPT_TAKEN)
            continue;
        switch (c) {
        case 'a': as_of = optarg; break;
        case 'c': certs = optarg; break;
        case 'L': ledger = optarg; break;
        case 'H': holidays = optarg; break;
        case 'D': domains = optarg; break;
        case 'A': agencies = optarg; break;
        case 'P': agencies = access(optarg, F_OK) == 0 ? optarg : NULL; break;
        case 'U': allow_unknown = 1; break;
        case 'h': usage(stdout); return EX_OK;
        case 'V': printf("%s certbatch %s\n", prog, CB_VERSION); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }

    cb_err err = {0};
    cb_forms_opts fo = {.official_domains = domains, .lang = f.lang, .allow_unknown_agency = allow_unknown};
    if (cb_today(as_of, &fo.today, &err) < 0) {
        cb_filter_note(&f, "--as-of: %s", err.msg);
        return EX_USAGE;
    }
    validate v = {0};
    cb_calendar *cal = cb_calendar_new();
    cb_agency_registry *reg = NULL;
    if (cal == NULL || cb_calendar_load_default(cal, &err) < 0 ||
        (holidays != NULL && *holidays && cb_calendar_load_file(cal, holidays, &err) < 0)) {
        cb_filter_fail(&f, &err);
        goto done;
    }
    fo.cal = cal;
    if (agencies != NULL && (fo.agencies = reg = cb_agency_registry_load(agencies, fo.lang, &err)) == NULL) {
        char why[sizeof err.msg];
        snprintf(why, sizeof why, "%s", err.msg);
        cb_err_set(&err, err.code, "--agencies: %.1000s", why);
        cb_filter_fail(&f, &err);
        goto done;
    }
    if ((v.forms = cb_forms_new(&fo, &err)) == NULL ||
        (certs != NULL && cb_forms_load_certs(v.forms, certs, &err) < 0) ||
        (ledger != NULL && cb_forms_load_ledger(v.forms, ledger, &err) < 0)) {
        cb_filter_fail(&f, &err);
        goto done;
    }
    if ((v.out = cb_record_new()) == NULL) {
        cb_filter_fail(&f, &(cb_err){EX_OSERR, "out of memory"});
        goto done;
    }
    static const cb_filter_step step = {begin, process, NULL};
    cb_filter_run(&f, argv + optind, argc - optind, cb_forms_canonical, &step, &v);
done:
    cb_record_free(v.out);
    cb_forms_free(v.forms);
    cb_calendar_free(cal);
    cb_agency_registry_free(reg);
    return cb_filter_finish(&f);
}
