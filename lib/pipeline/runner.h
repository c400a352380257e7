/* Running a pipeline (pipeline.h): each stage's steps as processes joined by
 * pipes (fork/exec, never a shell), the stage failing when any step fails
 * (pipefail), each step's stderr captured into a JSON Lines run log under
 * the step's name and its summary line parsed for the counts, tee files and
 * outputs written atomically and committed only when the stage succeeded, a
 * parallel stage spread with GNU parallel, an interrupted run stopping its
 * children and leaving no half-written file. Also the --dry-run script and
 * the lock that keeps two runs of one pipeline apart. No signal handler
 * lives here: the program installs it and hands over the flag and the
 * self-pipe it writes to. */
#ifndef CB_RUNNER_H
#define CB_RUNNER_H

#include <signal.h>
#include <stdio.h>

#include "cb_err.h"
#include "pipeline.h"

/* What one step did, for the log and the closing table. */
typedef struct cb_step_result {
    const char *stage;      /* names borrowed from the pipeline */
    const char *step;
    int ran;
    int status;             /* exit status; 128+N when killed by signal N */
    double seconds;
    long in, out, rejected, filtered;   /* -1: no summary line seen */
    char last_err[256];     /* the step's last stderr line, for a failure */
    int blame;              /* enum cb_blame, for a failed stage's steps */
} cb_step_result;

/* Who failed a stage: the first step in pipe order that failed of its own
 * accord is the cause; a step after it that failed lost its input (cut
 * short); a step before it killed by SIGPIPE lost its reader. */
enum cb_blame { CB_BLAME_NONE, CB_BLAME_CAUSE, CB_BLAME_INPUT_CUT, CB_BLAME_OUTPUT_CLOSED };

typedef struct cb_runner {
    const cb_pipeline *p;
    FILE *diag;
    int log_fd;             /* JSON Lines, opened O_APPEND; -1: no log */
    int wake_fd;            /* read end of the signal self-pipe; -1: none */
    volatile sig_atomic_t *stop;   /* set to the signal number to stop */
    int echo;               /* copy the steps' stderr to diag as it comes */
    char run_id[48];
    char *workdir;          /* intermediate stage outputs */
    cb_step_result *results;
    size_t nresults;
    int stopped_by;         /* the signal that stopped the run, or 0 */
    long cause;             /* result index of the run's first failure's cause, or -1 */
    int log_errno;          /* why a log line could not be written, or 0 */
} cb_runner;

int cb_runner_init(cb_runner *r, const cb_pipeline *p, FILE *diag, cb_err *err);
/* Runs every stage. Returns the run's exit status: 0 when every stage
 * succeeded, else the status of the first failed stage's cause (its first
 * step in pipe order that failed of its own accord, see cb_blame), or
 * 128+N when stopped by signal N; -1 with err set when the run could not be
 * carried out (err->code). */
int cb_runner_run(cb_runner *r, cb_err *err);
/* The cause of the run's first failure as one line, `stage S: step P
 * exited N: LAST STDERR LINE`; 0 when no step is to blame (the run
 * succeeded, or a stage could not start), with buf empty. */
int cb_runner_cause(const cb_runner *r, char *buf, size_t n);
/* The closing table: one line per step with its status, counts and time. */
void cb_runner_table(const cb_runner *r, FILE *out);
void cb_runner_free(cb_runner *r);

/* The equivalent bash script: what would run, with the input globs
 * expanded now. Running it gives the same outputs as the run (without the
 * log, the lock and the atomic commits). */
int cb_runner_dry_run(const cb_pipeline *p, FILE *out, cb_err *err);

/* Takes an exclusive lock (flock) on path, creating it, without waiting:
 * EX_TEMPFAIL when another run holds it. The holder's pid is written in the
 * file for the message the next one prints. Returns the descriptor. */
int cb_lock_take(const char *path, cb_err *err);


/* Parses a contract summary line `prog: N in, N out, N rejected[, N
 * filtered] (T s)`; counts gets in, out, rejected, filtered (0 when absent).
 * prog may be NULL to accept any program name.
 * Returns 1 when line is one, 0 otherwise. */
int cb_parse_summary(const char *line, const char *prog, long counts[4]);

#endif
