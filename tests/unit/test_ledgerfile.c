/* Unit tests for lib/ledgerfile.c: a ledger file is read by column name in
 * the order asked for, an optional column may be absent, a missing one or
 * a damaged line is a data error naming the file and line, and the row
 * callback can stop the read. The expected rows are written by hand. */
#include <stdio.h>
#include <string.h>

#include "ledgerfile.h"
#include "tap.h"
#include "tmpfiles.h"

typedef struct seen {
    char text[512];
    int rows, stop_at;
} seen;

static int row(void *ctx, const char *const *f, long line, cb_err *err)
{
    seen *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%ld:%s|%s|%s;", line, f[0], f[1], f[2]);
    if (++s->rows == s->stop_at)
        return cb_err_set(err, EX_DATAERR, "stopped at line %ld", line);
    return 0;
}

static const char *const cols[] = {"serial", "subject", "request_id"};

int main(void)
{
    if (tmp_start("ledgerfile") < 0)
        return 1;
    cb_err err = {0};
    seen s = {0};
    tmp_put("a.csv", "request_id,x,serial,subject\nR1,-,0A,\"Nguyễn, A\"\nR2,-,0B,B\n");
    is_int(cb_ledger_file_read(tmp_path("a.csv"), "ledger", cols, 3, 0, 0, row, &s, &err), 0, "a ledger is read");
    is_str(s.text, "2:0A|Nguyễn, A|R1;3:0B|B|R2;", "each row's fields by name, in the order asked for, with its line");

    memset(&s, 0, sizeof s);
    tmp_put("b.csv", "request_id,serial\nR1,0A\n");
    is_int(cb_ledger_file_read(tmp_path("b.csv"), "ledger", cols, 3, 1ul << 1, 0, row, &s, &err), 0,
           "an optional column may be absent");
    is_str(s.text, "2:0A||R1;", "and reads as empty");

    memset(&s, 0, sizeof s);
    ok(cb_ledger_file_read(tmp_path("b.csv"), "request ledger", cols, 3, 0, 0, row, &s, &err) < 0 &&
       err.code == EX_DATAERR && strstr(err.msg, "b.csv:1: not a request ledger: no column subject"),
       "a required column missing: FILE:1: not a WHAT: no column C");

    memset(&s, 0, sizeof s);
    tmp_put("c.csv", "request_id,serial,subject\nR1,0A,A\nR2,\"0B,B\n");
    ok(cb_ledger_file_read(tmp_path("c.csv"), "ledger", cols, 3, 0, 0, row, &s, &err) < 0 &&
       err.code == EX_DATAERR && strstr(err.msg, "c.csv:3: damaged ledger line") != NULL,
       "a damaged line is a data error with its line");

    memset(&s, 0, sizeof s);
    s.stop_at = 1;
    ok(cb_ledger_file_read(tmp_path("a.csv"), "ledger", cols, 3, 0, 0, row, &s, &err) < 0 && s.rows == 1 &&
       strcmp(err.msg, "stopped at line 2") == 0, "the row callback stops the read with its own error");

    ok(strstr(tmp_content(tmp_path("a.csv")), "R2,-,0B,B") != NULL, "and the file is left as it was");
    ok(cb_ledger_file_read(tmp_path("missing.csv"), "ledger", cols, 3, 0, 0, row, &s, &err) < 0,
       "a missing file is an error");
    ok(cb_ledger_file_read(tmp_path("missing.csv"), "ledger", cols, 3, 0, CB_LEDGER_EMPTY_OK, row, &s,
                           &err) < 0 && err.code == EX_NOINPUT,
       "a missing file is an error even where an empty one is none (66)");

    memset(&s, 0, sizeof s);
    tmp_put("empty.csv", "");
    tmp_put("bom.csv", "\xEF\xBB\xBF");
    ok(cb_ledger_file_read(tmp_path("empty.csv"), "ledger", cols, 3, 0, 0, row, &s, &err) < 0 &&
       strstr(err.msg, "empty.csv:1: not a ledger: no column serial") != NULL,
       "to a writer, an empty file has none of the columns");
    is_int(cb_ledger_file_read(tmp_path("empty.csv"), "ledger", cols, 3, 0, CB_LEDGER_EMPTY_OK, row, &s, &err),
           0, "with CB_LEDGER_EMPTY_OK an empty file is read");
    is_int(cb_ledger_file_read(tmp_path("bom.csv"), "ledger", cols, 3, 0, CB_LEDGER_EMPTY_OK, row, &s, &err),
           0, "and so is one of only a BOM");
    is_int(s.rows, 0, "as no rows");
    ok(cb_ledger_file_read(tmp_path("c.csv"), "ledger", cols, 3, 0, CB_LEDGER_EMPTY_OK, row, &s, &err) < 0 &&
       strstr(err.msg, "c.csv:3: damaged ledger line") != NULL, "a damaged line is still an error");
    if (tmp_finish() < 0)
        return 1;
    return done_testing();
}
