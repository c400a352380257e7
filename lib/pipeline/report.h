/* The morning report: what the office needs to see after a night, read from
 * the night's CSV outputs and written as one self-contained HTML page in
 * Vietnamese (and the records for the e-mail that carries it).
 *
 * Inputs, each optional but the certificates: the inventory (scan-expiry
 * --all), the valid requests (validate-form), the rejected ones (its
 * --rejects), the proposal list (aggregate-by-agency --detail), the
 * province's request ledger (state/requests.csv) and notify's logs of the
 * notices sent. Columns are found by name. What the page counts:
 *
 * - the certificates by status; "valid", "expiring" and "expired" are
 *   judged again from expiry_date at the report's day (days left =
 *   expiry_date - today, expired below 0), so a page made later from the
 *   same files says how things stand that day; revoked, untrusted and
 *   not_yet_valid are taken as scan-expiry wrote them;
 * - "to chase": valid certificates with 0..60 days left whose serial is
 *   the old_serial of no request on file (a valid request or a proposal
 *   row of the night, or a request of the ledger whose last event is not
 *   a rejection);
 * - the forecast: valid certificates per week of days left (week w holds
 *   days 7w..7w+6, w < 26), by agency, the 8 agencies with most of them
 *   and the rest together;
 * - per agency (key: agency_key where a record has it, else the agency
 *   name through cb_agency_key; a certificate's agency is its subject_o):
 *   valid certificates, those with <= 60 days, the night's requests
 *   received (valid + rejected), rejected, proposed, and the ledger's
 *   requests renewed and delivered (each once, for the agency of the
 *   certificate renewed when the ledger names none);
 * - the rejections grouped by the column at fault (reject_field).
 *
 * A record that cannot be used (unreadable CSV, a certificate without a
 * readable expiry_date, an unknown status) is a problem: kept with its
 * file and line for the program to report, and counted as rejected. */
#ifndef CB_REPORT_H
#define CB_REPORT_H

#include <stdio.h>

#include "cb_err.h"
#include "date.h"
#include "lang.h"

typedef struct cb_report_inputs {
    const char *certs;            /* required */
    const char *valid;
    const char *rejects;
    const char *proposal;
    const char *requests_ledger;
    const char *const *notices;   /* notify logs */
    size_t nnotices;
    const char *run_dir;          /* shown on the page only */
} cb_report_inputs;

typedef struct cb_report cb_report;

/* One record the report could not use. */
typedef struct cb_report_problem {
    const char *file;
    long line;
    const char *reason;
} cb_report_problem;

/* lang: of the problems' reasons. */
cb_report *cb_report_new(cb_date today, cb_lang lang, cb_err *err);
void cb_report_free(cb_report *r);

/* Reads every input named. A file named that does not exist is EX_NOINPUT;
 * a file without the columns the report needs, EX_DATAERR. */
int cb_report_load(cb_report *r, const cb_report_inputs *in, cb_err *err);

/* The page. */
int cb_report_write_html(const cb_report *r, FILE *fp, cb_err *err);
/* The records notify needs to mail the page (templates/report.txt): one CSV
 * row per address in to[0..nto), none when nto is 0, with email,
 * report_date, report_file (page), summary (a few lines of text: the
 * counts and the to-do list's size) and the counts one a column. */
int cb_report_write_mail_records(const cb_report *r, FILE *fp, const char *const *to, size_t nto,
                                 const char *page, cb_err *err);

/* Records read, used, and not usable (the summary line). */
void cb_report_counts(const cb_report *r, unsigned long *in, unsigned long *used,
                      unsigned long *problems);
size_t cb_report_nproblems(const cb_report *r);
const cb_report_problem *cb_report_problem_at(const cb_report *r, size_t i);

/* n the Vietnamese way: "1.234.567", "-12" (buf at least 32 bytes). */
void cb_report_format_count(long n, char *buf);

#endif
