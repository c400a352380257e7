/* Unit tests for lib/pki/reqpending.c: the pending requests are the rows
 * of the proposal lists the ledger names whose request that list proposed,
 * until the night after their delivery; a list named but gone is state
 * lost (66). The expected rows are written by hand. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "filter.h"
#include "reqledger.h"
#include "reqpending.h"
#include "tap.h"
#include "tmpfiles.h"

static int pending(const char *night, char **diag)
{
    static cb_filter f;
    size_t len;
    FILE *d = open_memstream(diag, &len);
    cb_filter_init(&f, "requests", d);
    f.output = tmp_path("out.csv");
    cb_reqpending_run(&f, tmp_path("state/requests.csv"), night);
    int rc = cb_filter_finish(&f);
    fclose(d);
    return rc;
}

static void event(const char *night, const char *what, const char *rid, const char *detail)
{
    cb_err err = {0};
    cb_reqledger *l = cb_reqledger_open(tmp_path("state/requests.csv"), 1, &err);
    cb_reqevent ev = {.night = night, .event = what, .request_id = rid, .old_serial = "", .detail = detail};
    cb_reqledger_append(l, &ev, &err);
    cb_reqledger_close(l, &err);
}

int main(void)
{
    if (tmp_start("reqpending") < 0)
        return 1;
    char *diag = NULL;
    mkdir(tmp_path("state"), 0755);
    mkdir(tmp_path("state/runs"), 0755);
    is_int(pending("2026-12-01", &diag), EX_OK, "a ledger with nothing proposed");
    ok(strncmp(tmp_content(tmp_path("out.csv")), "request_id,form,full_name,", 26) == 0 &&
       strchr(tmp_content(tmp_path("out.csv")), '\n')[1] == '\0', "gives the header of Forms 03/04 alone");
    free(diag);

    tmp_put("state/runs/p1.csv", "request_id,old_serial,source_file,source_line\nR1,0A,a.csv,2\nR2,0B,a.csv,3\n");
    event("2026-12-01", "proposed", "R1", "runs/p1.csv");
    event("2026-12-01", "proposed", "R2", "runs/p1.csv");
    event("2026-12-03", "delivered", "R2", "out/R2.pem");
    char *cert = cb_reqledger_name_of(tmp_path("state/requests.csv"), tmp_path("state/runs/p1.csv"));
    is_str(cert ? cert : "(null)", "runs/p1.csv", "the ledger keeps a list's name relative to its directory");
    free(cert);

    is_int(pending("2026-12-03", &diag), EX_OK, "pending on the night of a delivery");
    is_str(tmp_content(tmp_path("out.csv")),
           "request_id,old_serial,source_file,source_line\nR1,0A,a.csv,2\nR2,0B,a.csv,3\n",
           "still lists the request delivered that night (a re-run finds it again)");
    free(diag);
    is_int(pending("2026-12-04", &diag), EX_OK, "the night after");
    is_str(tmp_content(tmp_path("out.csv")), "request_id,old_serial,source_file,source_line\nR1,0A,a.csv,2\n",
           "lists only the request still waiting");
    ok(strstr(diag, "requests: 1 in, 1 out, 0 rejected") != NULL, "and counts it");
    free(diag);

    event("2026-12-04", "proposed", "R5", "runs/gone.csv");
    is_int(pending("2026-12-04", &diag), EX_NOINPUT, "a proposal list named but gone: exit 66");
    is_str(tmp_content(tmp_path("out.csv")), "request_id,old_serial,source_file,source_line\nR1,0A,a.csv,2\n",
           "and the output keeps what it had");
    free(diag);
    if (tmp_finish() < 0)
        return 1;
    return done_testing();
}
