/* Unit tests for lib/pki/reqintake.c: the night's form files are read
 * each on its own under the union of their columns, each request is
 * recorded received once, a request proposed on an earlier night is
 * filtered with the reason and a re-run of that night passes it on, and a
 * file that is not CSV is one reject. The expected rows are written by
 * hand. */
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "reqintake.h"
#include "reqledger.h"
#include "tap.h"
#include "tmpfiles.h"

/* One intake run of the night into out.csv, rejects.csv, filtered.csv. */
static int intake(const char *night, char **files, int n, char **diag)
{
    static cb_filter f;
    size_t len;
    FILE *d = open_memstream(diag, &len);
    cb_filter_init(&f, "requests", d);
    f.output = tmp_path("out.csv");
    f.rejects_path = tmp_path("rejects.csv");
    cb_reqintake_opts o = {.ledger = tmp_path("requests.csv"), .night = night,
                           .filtered = tmp_path("filtered.csv"), .read_list = tmp_path("read.csv"), .diag = d};
    cb_reqintake_run(&f, &o, files, n);
    int rc = cb_filter_finish(&f);
    fclose(d);
    return rc;
}

int main(void)
{
    if (tmp_start("reqintake") < 0)
        return 1;
    char *diag = NULL;
    tmp_put("b.csv", "request_id,old_serial,full_name\nR2,0B,Bình\n");
    tmp_put("a.csv", "request_id,old_serial,email\nR1,0A,a@x.gov.vn\n");
    tmp_put("bad.csv", "request_id,old_serial\nR3,\"0C\n");
    char *files[] = {tmp_path("b.csv"), tmp_path("a.csv"), tmp_path("bad.csv")};
    is_int(intake("2026-12-01", files, 3, &diag), EX_OK, "a night's intake exits 0");
    is_str(tmp_content(tmp_path("out.csv")),
           "request_id,old_serial,email,full_name,source_file,source_line\n"
           "R1,0A,a@x.gov.vn,,a.csv,2\nR2,0B,,Bình,b.csv,2\n",
           "the files in the order of their names, under the union of their columns");
    ok(strstr(tmp_content(tmp_path("rejects.csv")), "bad.csv") != NULL, "the damaged file's record is rejected");
    ok(strstr(diag, "requests: 3 in, 2 out, 1 rejected") != NULL, "in = out + rejected");
    is_int(tmp_count(tmp_content(tmp_path("requests.csv")), ",received,"), 2, "two requests recorded received");
    ok(strstr(tmp_content(tmp_path("read.csv")), "a.csv") && strstr(tmp_content(tmp_path("read.csv")), "b.csv"),
       "the read list names the files read");
    free(diag);

    cb_err err = {0};
    cb_reqledger *l = cb_reqledger_open(tmp_path("requests.csv"), 1, &err);
    cb_reqevent ev = {.night = "2026-12-01", .event = "proposed", .request_id = "R1", .old_serial = "0A",
                      .detail = "runs/2026-12-01/proposal.csv"};
    cb_reqledger_append(l, &ev, &err);
    cb_reqledger_close(l, &err);

    char *two[] = {tmp_path("a.csv"), tmp_path("b.csv")};
    is_int(intake("2026-12-01", two, 2, &diag), EX_OK, "the night re-run");
    ok(strstr(tmp_content(tmp_path("out.csv")), "R1,0A") != NULL, "passes on what that night proposed");
    is_int(tmp_count(tmp_content(tmp_path("requests.csv")), ",received,"), 2, "and records nothing twice");
    free(diag);

    tmp_put("c.csv", "request_id,old_serial\nR9,0a\n");
    char *next[] = {tmp_path("a.csv"), tmp_path("c.csv")};
    is_int(intake("2026-12-02", next, 2, &diag), EX_OK, "the next night");
    is_str(tmp_content(tmp_path("out.csv")), "request_id,old_serial,email,source_file,source_line\n",
           "proposes neither the request again nor another renewing the same certificate");
    ok(strstr(tmp_content(tmp_path("filtered.csv")), "request R1 was already proposed on 2026-12-01") != NULL,
       "the same request: filtered with the night it was proposed");
    ok(strstr(tmp_content(tmp_path("filtered.csv")),
              "certificate 0a was already proposed for renewal on 2026-12-01 (request R1)") != NULL,
       "another request for the same certificate: filtered, naming the first");
    ok(strstr(diag, "2 in, 0 out, 0 rejected, 2 filtered") != NULL, "in = out + rejected + filtered");
    is_int(tmp_count(tmp_content(tmp_path("requests.csv")), ",filtered,"), 2, "both recorded filtered");
    free(diag);

    tmp_put("empty.csv", "");
    char *none[] = {tmp_path("empty.csv")};
    is_int(intake("2026-12-03", none, 1, &diag), EX_OK, "a night with an empty form file");
    ok(strncmp(tmp_content(tmp_path("out.csv")), "request_id,form,full_name,", 26) == 0,
       "writes the header of Forms 03/04");
    free(diag);
    if (tmp_finish() < 0)
        return 1;
    return done_testing();
}
