/* What every program does around its loop: count records in, out, rejected
 * (and filtered, for the steps that select), show progress on a terminal
 * during long runs, and print the contract's summary line at the end:
 * `prog: 1234 in, 1200 out, 34 rejected (2.1 s)`.
 * This and the rejects channel are the only lib/ code that writes, and only
 * to the stream the program hands over. */
#ifndef CB_RUN_H
#define CB_RUN_H

#include <stdio.h>
#include <time.h>

typedef struct cb_run {
    const char *prog;
    FILE *diag;
    int quiet;
    int progress;           /* diag is a terminal */
    unsigned long in, out, rejected, filtered;
    struct timespec t0;
    double last_progress;
    unsigned tick;
} cb_run;

void cb_run_start(cb_run *run, const char *prog, FILE *diag, int quiet);
double cb_run_elapsed(const cb_run *run);
/* Cheap to call once per record. */
void cb_run_tick(cb_run *run);
/* The summary line (unless quiet); "N filtered" is shown only for steps
 * that select records. -1 when it could not be written (the caller exits 74:
 * an operator or a pipeline relies on that line), else 0. */
int cb_run_summary(cb_run *run);
/* `prog: message` on diag. */
void cb_warn(const cb_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
