/* The filter driver: what every program does around its step, written once.
 *
 * A program is options, a `process(record)` and an `end()` (the Miller
 * mapper shape of STYLE.md). The driver owns the rest of the contract
 * (DESIGN.md, "Program conventions"): the common options `-o FILE`
 * (atomic), `--rejects FILE`, `--strict`, `-q` and `--lang`; the read loop
 * over the CSV reader; the output's CSV writer; the rejects channel; the
 * counters, progress and the summary line `prog: N in, N out, N rejected
 * (T s)`; one error idiom, `prog: FILE:LINE: message` (or `prog: message`
 * where no input line is at fault); and the exit code, the gravest problem
 * met (cb_exit_worst), EX_DATAERR under --strict when anything was rejected,
 * never 0 after a lost record or a failed write.
 *
 * Like run.c and rejects.c, this writes only to the diagnostics stream the
 * program hands over (stderr in every program) and never exits: main ends
 * with `return cb_filter_finish(&f);`.
 *
 * Using it from a program that reads CSV:
 *
 *     static const struct option opts[] = {
 *         {"as-of", required_argument, NULL, 'a'},
 *         CB_FILTER_OPTIONS,                       // -o, --rejects, ...
 *         {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
 *     };
 *     static cb_filter f;                          // static: see below
 *     cb_filter_init(&f, "prog", stderr);
 *     while ((c = getopt_long(argc, argv, "o:qh" , opts, NULL)) != -1) {
 *         switch (cb_filter_option(&f, c, optarg)) {
 *         case CB_FILTER_OPT_TAKEN: continue;      // one of the driver's
 *         case CB_FILTER_OPT_BAD: return EX_USAGE; // the driver said why
 *         }
 *         switch (c) { ...the program's own options... }
 *     }
 *     ...load what the step needs; on failure: return cb_filter_fail(&f, &err);
 *     static const cb_filter_step step = {begin, process, end};
 *     cb_filter_run(&f, argv + optind, argc - optind, NULL, &step, &state);
 *     ...free the step's state...
 *     return cb_filter_finish(&f);
 *
 * with, in the program:
 *
 *     begin(ctx, f, in_header, err)  binds columns by name, calls
 *                                    cb_filter_set_header for the output
 *     process(ctx, f, rec, err)      cb_filter_emit, cb_filter_reject or
 *                                    cb_filter_drop, once or more per record
 *     end(ctx, f, err)               grouping steps write what they held
 *
 * each returning 0, or -1 with err set, which stops the run: the message
 * is reported (with the record's FILE:LINE from process), the outputs are
 * abandoned (the named files keep their old contents) and the exit code is
 * err's. A malformed CSV record is rejected by the driver and never reaches
 * process. A program whose input is not CSV (split-updates reads PEM)
 * reads it itself and uses the rest: cb_filter_open_outputs, cb_filter_in,
 * cb_filter_emit, cb_filter_reject_at, cb_filter_finish.
 *
 * Two kinds of problem: cb_filter_fail reports one and counts it in the
 * exit code while the run goes on (an agency file of --split-dir that
 * cannot be created); cb_filter_stop, or a step returning -1, stops the
 * run and abandons the outputs. A step that writes its own format at the
 * end (a summary) writes on cb_filter_output and counts with
 * cb_filter_count_out; a step that selects counts with cb_filter_drop, so
 * in = out + rejected + filtered always holds in the summary line.
 *
 * stdout, when it is the output, gets a 64 KiB buffer held in the
 * cb_filter, so the cb_filter must outlive every write to stdout: declare it
 * static in main. */
#ifndef CB_FILTER_H
#define CB_FILTER_H

#include <getopt.h>
#include <stdio.h>

#include "atomic.h"
#include "cb_err.h"
#include "csvio.h"
#include "lang.h"
#include "record.h"
#include "rejects.h"
#include "run.h"
#include "sheetout.h"

/* The long options the driver parses (with the short -o and -q, which the
 * program's getopt string must list as "o:q"). A program lists these in its
 * option table; one that should not take --lang lists CB_FILTER_OPTIONS_NO_LANG. */
enum {
    CB_FILTER_OPT_REJECTS = 0x4000, CB_FILTER_OPT_STRICT, CB_FILTER_OPT_LANG, CB_FILTER_OPT_EXCEL_CSV,
    CB_FILTER_OPT_DELIMITER, CB_FILTER_OPT_SHEET
};
#define CB_FILTER_OPTIONS_NO_LANG                                   \
    {"output", required_argument, NULL, 'o'},                       \
    {"quiet", no_argument, NULL, 'q'},                              \
    {"rejects", required_argument, NULL, CB_FILTER_OPT_REJECTS},    \
    {"strict", no_argument, NULL, CB_FILTER_OPT_STRICT},            \
    {"excel-csv", no_argument, NULL, CB_FILTER_OPT_EXCEL_CSV}
#define CB_FILTER_OPTIONS CB_FILTER_OPTIONS_NO_LANG, \
    {"lang", required_argument, NULL, CB_FILTER_OPT_LANG}
/* And for the programs that read CSV through cb_filter_run: --delimiter
 * C (',', ';', tab; default found from each file's header line) and
 * --sheet NAME (of a workbook input; default the first). */
#define CB_FILTER_INPUT_OPTIONS                                     \
    {"delimiter", required_argument, NULL, CB_FILTER_OPT_DELIMITER}, \
    {"sheet", required_argument, NULL, CB_FILTER_OPT_SHEET}

/* What cb_filter_option made of an option. */
enum { CB_FILTER_OPT_NOT_MINE = 0, CB_FILTER_OPT_TAKEN = 1, CB_FILTER_OPT_BAD = -1 };
/* What cb_filter_getopt returns after a bad value of a driver's option. */
#define CB_FILTER_GETOPT_BAD (-2)

typedef struct cb_filter cb_filter;

/* A program's step. Any of the three may be NULL. */
typedef struct cb_filter_step {
    int (*begin)(void *ctx, cb_filter *f, const cb_header *in, cb_err *err);
    int (*process)(void *ctx, cb_filter *f, cb_record *rec, cb_err *err);
    int (*end)(void *ctx, cb_filter *f, cb_err *err);
} cb_filter_step;

struct cb_filter {
    /* the common options, as parsed (a program may read them) */
    const char *output;          /* -o, NULL for stdout */
    const char *rejects_path;    /* --rejects, NULL for diagnostics */
    int strict, quiet;
    cb_lang lang;
    int excel_csv;               /* --excel-csv: BOM, Vietnamese labels, CRLF */
    cb_csv_opts csv;             /* --delimiter, --sheet */
    const char *out_sheet;       /* the sheet's name when -o FILE.xlsx (a program may set it) */
    int keep_outputs;            /* commit the outputs even when the run stops: what they
                                  * hold is done and recorded elsewhere (sign-batch's
                                  * certificates are in its ledger), and losing it would
                                  * hide it (an output that had a write error is still
                                  * abandoned); cb_filter_keep_outputs sets it */
    int damaged_stops;           /* a malformed record stops the run (EX_DATAERR) instead of
                                    being rejected: for inputs that are our own outputs */

    /* the run; a program reads the counters, the driver keeps them */
    cb_run run;
    int rc;                      /* gravest exit code so far */
    unsigned long shortfall;     /* what fails --strict besides rejects */

    /* private to the driver */
    FILE *diag;
    cb_csv_reader *reader;
    const char *input;           /* name of the input being read */
    cb_sheet_out out;            /* CSV, CSV for Excel, or a workbook (-o FILE.xlsx) */
    cb_rejects rejects;
    cb_header *out_header;
    int outputs_open, failed, write_failed;
    char obuf[1 << 16];
};

/* Starts the clock; diagnostics go to diag. */
void cb_filter_init(cb_filter *f, const char *prog, FILE *diag);
/* Parses one of the driver's options (c and optarg as getopt_long gave
 * them): CB_FILTER_OPT_TAKEN, CB_FILTER_OPT_NOT_MINE, or CB_FILTER_OPT_BAD
 * after reporting why (the program then exits EX_USAGE). */
int cb_filter_option(cb_filter *f, int c, const char *arg);
/* getopt_long that takes the driver's options in passing: the next option
 * that is the program's (as getopt_long returns it), -1 after the last,
 * or CB_FILTER_GETOPT_BAD once the driver reported a bad value (the
 * program then exits EX_USAGE). */
int cb_filter_getopt(cb_filter *f, int argc, char **argv, const char *shortopts,
                     const struct option *longopts);
/* A repeatable option's value appended to list[0..max): 0, or -1 after
 * `prog: too many NAME options` (the program then exits EX_USAGE). */
int cb_filter_list_add(cb_filter *f, const char **list, int *n, int max, const char *name,
                       const char *value);

/* The one error idiom. `prog: message`, the problem counts towards the
 * exit code; returns the current exit code, so setup code can
 * `return cb_filter_fail(&f, &err);`. A zero err->code counts as
 * EX_SOFTWARE. */
int cb_filter_fail(cb_filter *f, const cb_err *err);
/* `prog: FILE:LINE: message`. */
int cb_filter_fail_at(cb_filter *f, const char *input, long line, const cb_err *err);
/* A problem that stops the run: reported as `prog: FILE:LINE: message`
 * (input NULL: `prog: message`), and the outputs will be abandoned.
 * Returns the exit code. */
int cb_filter_stop(cb_filter *f, const char *input, long line, const cb_err *err);
/* A problem already told another way (a reject says why) that counts
 * towards the exit code. */
void cb_filter_count_problem(cb_filter *f, int code);
/* `prog: message` that changes nothing else (a note, a warning). */
void cb_filter_note(cb_filter *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads files[0..nfiles) (none: stdin) as one CSV stream (canon as for
 * cb_csv_reader_open_canon, NULL for none), calls step->begin with the
 * header, opens the outputs, and step->process for each record, then
 * step->end. Returns the exit code so far; cb_filter_finish ends the run.
 * Before the outputs are opened, a failure creates no file. */
int cb_filter_run(cb_filter *f, char *const *files, int nfiles, cb_csv_canon_fn canon,
                  const cb_filter_step *step, void *ctx);

/* For begin: the output's columns (copied). Without it the output has
 * no header row written by the driver (a program writing its own format
 * uses cb_filter_output). */
int cb_filter_set_header(cb_filter *f, const cb_header *out);
/* The columns of rejected records (copied; default: the input's). */
int cb_filter_set_reject_header(cb_filter *f, const cb_header *h);

/* Opens -o and --rejects and writes the output's header (cb_filter_run
 * does this after begin). Returns 0 or -1, reported. */
int cb_filter_open_outputs(cb_filter *f);
/* The output stream, for programs that write more than records
 * (NULL before the outputs are open, and for a workbook). */
FILE *cb_filter_output(cb_filter *f);
/* The output as tables (cb_sheet_begin for another sheet of a workbook,
 * or the header of a program writing its own format); NULL before the
 * outputs are open. */
cb_sheet_out *cb_filter_sheet(cb_filter *f);
/* The input being read ("stdin" for standard input) and its reader
 * (NULL outside cb_filter_run). */
const char *cb_filter_input(const cb_filter *f);

/* One record read (for programs reading their own input). */
void cb_filter_in(cb_filter *f);
/* Writes rec (the output header's columns, or all its fields without
 * one) without counting it: a line of a manifest that also lists rejects.
 * 0, or -1 after a write error (reported once; the run is failing). */
int cb_filter_write(cb_filter *f, const cb_record *rec);
/* Writes rec and counts it out. 0, or -1
 * after a write error (reported once; the run is failing). */
int cb_filter_emit(cb_filter *f, const cb_record *rec);
/* Counts a record out that the program wrote itself. */
void cb_filter_count_out(cb_filter *f);
/* Writes a record already formatted as the output's CSV line (a step that
 * formats on other threads) and counts it out; 0, or -1 after a write
 * error (reported once). Only where cb_filter_output is not NULL. */
int cb_filter_emit_line(cb_filter *f, const char *line, size_t len);
/* 1 once the run is failing (stopped, or a write failed): a program
 * reading its own input stops reading. */
int cb_filter_failed(const cb_filter *f);
/* Rejects rec, from the input being read, at rec->line; field may be
 * NULL. 0, or -1 after a write error. */
int cb_filter_reject(cb_filter *f, const cb_record *rec, const char *field, const char *reason);
/* The same with the input and line given (rec may be NULL). */
int cb_filter_reject_at(cb_filter *f, const cb_record *rec, const char *input, long line,
                        const char *field, const char *reason);
/* A record the step selected out (counted as filtered). */
void cb_filter_drop(cb_filter *f);
/* A write to the output failed: reported once as `prog: cannot write: ...`
 * (errno), exit EX_IOERR, outputs abandoned. Returns -1. */
int cb_filter_write_error(cb_filter *f);

/* The outputs are not to be committed: a problem the program reported
 * (cb_filter_fail) left them incomplete. */
void cb_filter_abandon(cb_filter *f);
/* The outputs record what was done and cannot be undone (letters
 * delivered): they are committed even when the run stopped. */
void cb_filter_keep_outputs(cb_filter *f);
/* The exit code is at least code, with nothing printed: a problem the
 * rejects already tell (a mail server down: EX_TEMPFAIL). */
void cb_filter_exit_at_least(cb_filter *f, int code);

/* Commits the outputs (or abandons them if the run failed), applies
 * --strict, prints the summary line (once the outputs were open: a run
 * stopped before has nothing to sum up) and returns the exit code. */
int cb_filter_finish(cb_filter *f);

#endif
