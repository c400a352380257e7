/* Unit tests for lib/core/run.c and lib/core/cb_err.c: the contract's summary line,
 * warnings, no progress output off a terminal, and error values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cb_err.h"
#include "run.h"
#include "tap.h"

/* 1 when s is `prefix` + "D.D s)\n" with digits D. */
static int summary_like(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) != 0)
        return 0;
    s += n;
    char *end;
    strtod(s, &end);
    return end != s && end[-2] == '.' && strcmp(end, " s)\n") == 0;
}

int main(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *diag = open_memstream(&out, &len);
    cb_run run;
    cb_run_start(&run, "scan-expiry", diag, 0);
    is_int(run.progress, 0, "no progress lines when diagnostics do not go to a terminal");
    for (int i = 0; i < 100000; i++) {
        run.in++;
        if (i % 4 == 0)
            run.rejected++;
        else
            run.out++;
        cb_run_tick(&run);
    }
    fflush(diag);
    is_int(len, 0, "ticking writes nothing off a terminal");
    cb_run_summary(&run);
    fclose(diag);
    ok(summary_like(out, "scan-expiry: 100000 in, 75000 out, 25000 rejected ("),
       "the summary line: prog: N in, N out, N rejected (T s)");
    ok(cb_run_elapsed(&run) >= 0, "elapsed time is not negative");
    free(out);

    diag = open_memstream(&out, &len);
    cb_run_start(&run, "scan-expiry", diag, 0);
    run.in = 10;
    run.out = 6;
    run.filtered = 4;
    cb_run_summary(&run);
    fclose(diag);
    ok(summary_like(out, "scan-expiry: 10 in, 6 out, 0 rejected, 4 filtered ("),
       "a step that selects also says how many it filtered");
    free(out);

    diag = open_memstream(&out, &len);
    cb_run_start(&run, "scan-expiry", diag, 1);
    run.in = 1;
    cb_run_summary(&run);
    fclose(diag);
    is_int(len, 0, "-q silences the summary line");
    free(out);

    diag = open_memstream(&out, &len);
    cb_run_start(&run, "scan-expiry", diag, 1);
    cb_warn(&run, "%s: skipping a PRIVATE KEY block", "keys.pem");
    fclose(diag);
    is_str(out, "scan-expiry: keys.pem: skipping a PRIVATE KEY block\n", "a warning is prog: message");
    free(out);

    cb_err err = {0};
    is_int(cb_err_set(&err, EX_DATAERR, "line %d: bad", 3), -1, "cb_err_set returns -1");
    is_int(err.code, EX_DATAERR, "and sets the code");
    is_str(err.msg, "line 3: bad", "and the message");
    errno = ENOENT;
    is_int(cb_err_sys(&err, EX_NOINPUT, "%s", "forms.csv"), -1, "cb_err_sys returns -1");
    is_str(err.msg, "forms.csv: No such file or directory", "and appends the system's reason");
    is_int(errno, ENOENT, "keeping errno");
    is_int(cb_err_set(NULL, EX_DATAERR, "x"), -1, "a NULL cb_err is allowed");
    char big[2000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cb_err_sys(&err, EX_IOERR, "%s", big);
    is_int(strlen(err.msg), sizeof err.msg - 1, "a message too long is cut, not overflowed");
    is_int(cb_exit_worst(EX_OK, EX_DATAERR), EX_DATAERR, "anything beats EX_OK");
    is_int(cb_exit_worst(EX_DATAERR, EX_OK), EX_DATAERR, "in either order");
    is_int(cb_exit_worst(EX_DATAERR, EX_IOERR), EX_IOERR, "an I/O error (74) beats a data error (65)");
    is_int(cb_exit_worst(EX_SOFTWARE, EX_DATAERR), EX_SOFTWARE, "an internal error (70) beats a data error");
    is_int(cb_exit_worst(EX_OK, EX_OK), EX_OK, "two EX_OK are EX_OK");
    return done_testing();
}
