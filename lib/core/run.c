/* Counters, progress and summary line: see run.h. */
#include "run.h"

#include <stdarg.h>
#include <unistd.h>

void cb_run_start(cb_run *run, const char *prog, FILE *diag, int quiet)
{
    *run = (cb_run){.prog = prog, .diag = diag, .quiet = quiet};
    run->progress = !quiet && isatty(fileno(diag));
    clock_gettime(CLOCK_MONOTONIC, &run->t0);
}

double cb_run_elapsed(const cb_run *run)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - run->t0.tv_sec) + (double)(t.tv_nsec - run->t0.tv_nsec) / 1e9;
}

void cb_run_tick(cb_run *run)
{
    if (!run->progress || (++run->tick & 0x3FFF) != 0)
        return;
    double e = cb_run_elapsed(run);
    if (e - run->last_progress < 1.0)
        return;
    run->last_progress = e;
    fprintf(run->diag, "\r%s: %lu in, %lu out, %lu rejected (%.0f s)...", run->prog, run->in,
            run->out, run->rejected, e);
    fflush(run->diag);
}

int cb_run_summary(cb_run *run)
{
    if (run->quiet)
        return 0;
    if (run->last_progress > 0)
        fputs("\r\033[K", run->diag);
    if (run->filtered)
        fprintf(run->diag, "%s: %lu in, %lu out, %lu rejected, %lu filtered (%.1f s)\n", run->prog,
                run->in, run->out, run->rejected, run->filtered, cb_run_elapsed(run));
    else
        fprintf(run->diag, "%s: %lu in, %lu out, %lu rejected (%.1f s)\n", run->prog, run->in,
                run->out, run->rejected, cb_run_elapsed(run));
    return fflush(run->diag) == 0 && !ferror(run->diag) ? 0 : -1;
}

void cb_warn(const cb_run *run, const char *fmt, ...)
{
    va_list ap;
    fprintf(run->diag, "%s: ", run->prog);
    va_start(ap, fmt);
    vfprintf(run->diag, fmt, ap);
    va_end(ap);
    fputc('\n', run->diag);
}
