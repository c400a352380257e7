/* validate-form: check request forms the way the law reads.
 *
 * Reads CSV request forms (Form 01/02 new certificate, Form 03/04 renewal;
 * canonical column names or the Vietnamese labels), writes the valid rows
 * with canonical column names and the computed columns (request_type,
 * subject_type, received_date, due_date, agency_key), and rejects each bad
 * row with every reason found. The rules are in lib/forms.c (FORMS.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "calendar.h"
#include "csvio.h"
#include "date.h"
#include "forms.h"
#include "rejects.h"
#include "run.h"

static const char *prog = "validate-form";

static void usage(FILE *fp)
{
    fputs("usage: validate-form [--as-of DATE] [--certs FILE] [--ledger FILE]\n"
          "                     [--holidays FILE] [--official-domains LIST]\n"
          "                     [--rejects FILE] [--strict] [--lang en|vi]\n"
          "                     [-o FILE] [-q] [FILE...]\n"
          "       validate-form --help | --version\n"
          "\n"
          "Checks CSV request forms (01/02 new certificate, 03/04 renewal) against\n"
          "FORMS.md; writes the valid rows with request_type, subject_type,\n"
          "received_date, due_date and agency_key, and rejects the others.\n"
          "\n"
          "  --as-of DATE          today, YYYY-MM-DD or DD/MM/YYYY (default: today in UTC+07:00)\n"
          "  --certs FILE          scan-expiry output: renewals must name a known,\n"
          "                        unrevoked certificate of the same person\n"
          "  --ledger FILE         sign-batch's issuance ledger: a certificate renewed\n"
          "                        before, or itself a renewal, is rejected\n"
          "  --holidays FILE       holidays file (date,kind,name) for the years it covers,\n"
          "                        (empty: the built-in schedules only)\n"
          "                        over the built-in 2025-2026 schedules\n"
          "  --official-domains LIST  e-mail domains accepted, comma-separated (default gov.vn)\n"
          "  --rejects FILE        write rejected rows there as CSV (default: one line each on stderr)\n"
          "  --strict              exit 65 if any row was rejected\n"
          "  --lang en|vi          language of the reasons (default en)\n"
          "  -o FILE               write the valid rows to FILE (atomically) instead of stdout\n"
          "  -q                    no summary line\n",
          fp);
}

static int fail(const cb_err *err)
{
    fprintf(stderr, "%s: %s\n", prog, err->msg);
    return err->code ? err->code : EX_SOFTWARE;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"as-of", required_argument, NULL, 'a'},
        {"certs", required_argument, NULL, 'c'},
        {"ledger", required_argument, NULL, 'L'},
        {"holidays", required_argument, NULL, 'H'},
        {"official-domains", required_argument, NULL, 'D'},
        {"rejects", required_argument, NULL, 'r'},
        {"strict", no_argument, NULL, 'S'},
        {"lang", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *as_of = NULL, *certs = NULL, *ledger = NULL, *holidays = NULL, *rejects = NULL,
               *output = NULL, *domains = "gov.vn";
    int strict = 0, quiet = 0, c;
    cb_forms_lang lang = CB_LANG_EN;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'a': as_of = optarg; break;
        case 'c': certs = optarg; break;
        case 'L': ledger = optarg; break;
        case 'H': holidays = optarg; break;
        case 'D': domains = optarg; break;
        case 'r': rejects = optarg; break;
        case 'S': strict = 1; break;
        case 'l':
            if (strcmp(optarg, "en") == 0)
                lang = CB_LANG_EN;
            else if (strcmp(optarg, "vi") == 0)
                lang = CB_LANG_VI;
            else {
                fprintf(stderr, "%s: --lang: '%s' is neither en nor vi\n", prog, optarg);
                return EX_USAGE;
            }
            break;
        case 'o': output = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return EX_OK;
        case 'V': printf("%s certbatch %s\n", prog, CB_VERSION); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }

    cb_err err = {0};
    cb_run run;
    cb_run_start(&run, prog, stderr, quiet);
    cb_forms_opts fo = {.official_domains = domains, .lang = lang};
    if (cb_today(as_of, &fo.today, &err) < 0) {
        fprintf(stderr, "%s: --as-of: %s\n", prog, err.msg);
        return EX_USAGE;
    }
    int rc = EX_OK, st;
    cb_calendar *cal = NULL;
    cb_forms *forms = NULL;
    cb_csv_reader *rd = NULL;
    cb_record *in = NULL, *rec = NULL;
    cb_forms_verdict *v = NULL;
    cb_output out;
    cb_rejects rj;
    if ((cal = cb_calendar_new()) == NULL || cb_calendar_load_default(cal, &err) < 0 ||
        (holidays != NULL && *holidays && cb_calendar_load_file(cal, holidays, &err) < 0)) {
        rc = fail(&err);
        goto done;
    }
    fo.cal = cal;
    if ((forms = cb_forms_new(&fo, &err)) == NULL ||
        (certs != NULL && cb_forms_load_certs(forms, certs, &err) < 0) ||
        (ledger != NULL && cb_forms_load_ledger(forms, ledger, &err) < 0) ||
        (rd = cb_csv_reader_open_canon(argv + optind, argc - optind, 0, cb_forms_canonical, &err)) == NULL) {
        rc = fail(&err);
        goto done;
    }
    if (cb_forms_bind(forms, cb_csv_reader_header(rd), &err) < 0) {
        fprintf(stderr, "%s: %s:1: %s\n", prog, cb_csv_reader_name(rd), err.msg);
        rc = err.code;
        goto done;
    }
    if (cb_output_open(&out, output, 0644, &err) < 0) {
        rc = fail(&err);
        goto done;
    }
    if (cb_rejects_open(&rj, prog, rejects, stderr, &err) < 0) {
        cb_output_abort(&out);
        rc = fail(&err);
        goto done;
    }
    static char obuf[1 << 16];
    if (!out.is_file)
        setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    const cb_header *oh = cb_forms_out_header(forms);
    cb_csv_writer w;
    cb_csv_writer_init(&w, out.fp);
    int write_failed = cb_rejects_set_header(&rj, cb_forms_reject_header(forms)) < 0 ||
                       cb_csv_write_header(&w, oh) < 0;

    in = cb_record_new();
    rec = cb_record_new();
    v = malloc(sizeof *v);
    if (in == NULL || rec == NULL || v == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        cb_output_abort(&out);
        cb_rejects_abort(&rj);
        rc = EX_OSERR;
        goto done;
    }
    while (!write_failed && (st = cb_csv_reader_next(rd, in, &err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            rc = cb_exit_worst(rc, err.code ? err.code : EX_IOERR);
            break;
        }
        run.in++;
        cb_run_tick(&run);
        const char *name = cb_csv_reader_name(rd);
        if (st == CB_CSV_MALFORMED) {
            run.rejected++;
            if (cb_rejects_add(&rj, in, name, in->line, NULL, err.msg) < 0)
                write_failed = 1;
            continue;
        }
        int ok = cb_forms_check(forms, in, name, rec, v, &err);
        if (ok < 0) {
            fprintf(stderr, "%s: %s:%ld: %s\n", prog, name, in->line, err.msg);
            rc = cb_exit_worst(rc, err.code);
            run.rejected++;
            cb_rejects_add(&rj, in, name, in->line, NULL, "internal error");
            break;
        }
        if (ok) {
            run.out++;
            if (cb_csv_write_record(&w, rec, oh->n) < 0)
                write_failed = 1;
        } else {
            run.rejected++;
            if (cb_rejects_add(&rj, in, name, in->line, v->field, v->reason) < 0)
                write_failed = 1;
        }
    }
    if (write_failed) {
        fprintf(stderr, "%s: cannot write: %s\n", prog, strerror(errno));
        cb_output_abort(&out);
        cb_rejects_abort(&rj);
        rc = cb_exit_worst(rc, EX_IOERR);
    } else {
        if (cb_output_close(&out, &err) < 0) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            rc = cb_exit_worst(rc, err.code);
        }
        if (cb_rejects_close(&rj, &err) < 0) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            rc = cb_exit_worst(rc, err.code);
        }
    }
    if (strict && run.rejected > 0)
        rc = cb_exit_worst(rc, EX_DATAERR);
    cb_run_summary(&run);
done:
    free(v);
    cb_record_free(in);
    cb_record_free(rec);
    cb_csv_reader_close(rd);
    cb_forms_free(forms);
    cb_calendar_free(cal);
    return rc;
}
