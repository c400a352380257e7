/* Unit tests for lib/pki/reqevents.c: record writes one event per request
 * and detail, once, keeps only the records --where selects and appends a
 * key per request and reason; returned records renewed and delivered and
 * passes the delivered rows on with the agency's columns; a damaged
 * record stops either step. The expected rows are written by hand. */
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "reqevents.h"
#include "tap.h"
#include "tmpfiles.h"

static int run_step(const cb_filter_step *step, void *ctx, cb_reqledger **l, const char *in, char **diag)
{
    static cb_filter f;
    size_t len;
    cb_err err = {0};
    FILE *d = open_memstream(diag, &len);
    cb_filter_init(&f, "requests", d);
    f.output = tmp_path("out.csv");
    f.damaged_stops = 1;
    char *files[] = {(char *)in};
    if ((*l = cb_reqledger_open(tmp_path("requests.csv"), 1, &err)) != NULL)
        cb_filter_run(&f, files, 1, NULL, step, ctx);
    cb_reqledger_close(*l, &err);
    *l = NULL;
    int rc = cb_filter_finish(&f);
    fclose(d);
    return rc;
}

static void test_record(void)
{
    char *diag = NULL;
    tmp_put("in.csv", "request_id,old_serial,status\nR1,0A,delivered\nR2,0B,missing\nR3,0C,delivered\n");
    cb_reqrecord k = {.s.night = "2026-12-01", .event = "delivered", .where_col = "status", .where_value = "delivered",
                      .detail = "x.pem"};
    is_int(run_step(&cb_reqrecord_step, &k, &k.s.l, tmp_path("in.csv"), &diag), EX_OK, "record exits 0");
    is_str(tmp_content(tmp_path("out.csv")), "request_id,old_serial,status\nR1,0A,delivered\nR3,0C,delivered\n",
           "--where keeps the matching records");
    ok(strstr(diag, "3 in, 2 out, 0 rejected, 1 filtered") != NULL, "the other is filtered");
    is_int(tmp_count(tmp_content(tmp_path("requests.csv")), ",delivered,"), 2, "an event for each record kept");
    cb_reqrecord_clear(&k);
    free(diag);

    cb_reqrecord r = {.s.night = "2026-12-01", .event = "rejected", .detail_col = "status", .key_col = "letter_key"};
    run_step(&cb_reqrecord_step, &r, &r.s.l, tmp_path("in.csv"), &diag);
    char key[64];
    cb_reqrecord_key("R2", "missing", key, sizeof key);
    ok(strncmp(key, "R2/", 3) == 0 && strlen(key) == 11, "the key is the request id and 8 hex digits");
    ok(strstr(tmp_content(tmp_path("out.csv")), key) != NULL, "and is appended to each record");
    cb_reqrecord_clear(&r);
    free(diag);
    run_step(&cb_reqrecord_step, &r, &r.s.l, tmp_path("in.csv"), &diag);
    is_int(tmp_count(tmp_content(tmp_path("requests.csv")), ",rejected,"), 3, "recording again adds nothing");
    cb_reqrecord_clear(&r);
    free(diag);

    tmp_put("bad.csv", "request_id,status\nR1,a\nR2,\"b\n");
    is_int(run_step(&cb_reqrecord_step, &r, &r.s.l, tmp_path("bad.csv"), &diag), EX_DATAERR,
           "a damaged record stops the step: exit 65");
    ok(strstr(diag, "bad.csv:3: ") != NULL, "with its line");
    cb_reqrecord_clear(&r);
    free(diag);

    tmp_put("empty.csv", "");
    is_int(run_step(&cb_reqrecord_step, &r, &r.s.l, tmp_path("empty.csv"), &diag), EX_OK, "an input with no bytes");
    is_str(tmp_content(tmp_path("out.csv")), "", "is zero records and no header");
    cb_reqrecord_clear(&r);
    free(diag);
}

static void test_returned(void)
{
    char *diag = NULL;
    tmp_put("pending.csv", "request_id,agency_email,agency_name\nR1,vp@x.gov.vn,Văn phòng\n");
    tmp_put("manifest.csv", "request_id,old_serial,serial,status,path\nR1,0A,1A,delivered,out/R1.pem\n"
                            "R2,0B,1B,no_request,\n");
    cb_reqreturned t = {.s.night = "2026-12-05"};
    cb_err err = {0};
    is_int(cb_reqreturned_load_pending(&t, tmp_path("pending.csv"), &err), 0, "the pending requests are read");
    is_int(run_step(&cb_reqreturned_step, &t, &t.s.l, tmp_path("manifest.csv"), &diag), EX_OK, "returned exits 0");
    is_str(tmp_content(tmp_path("out.csv")),
           "request_id,old_serial,serial,status,path,agency_email,agency_name\n"
           "R1,0A,1A,delivered,out/R1.pem,vp@x.gov.vn,Văn phòng\n",
           "the delivered row passes on with the agency's columns");
    const char *led = tmp_content(tmp_path("requests.csv"));
    is_int(tmp_count(led, ",renewed,"), 2, "each certificate back is renewed");
    is_int(tmp_count(led, ",delivered,R1,0A,out/R1.pem"), 1, "the delivered one is delivered");
    ok(strstr(diag, "2 in, 1 out, 0 rejected, 1 filtered") != NULL, "the other is filtered");
    cb_reqreturned_clear(&t);
    free(diag);
}

int main(void)
{
    if (tmp_start("reqevents") < 0)
        return 1;
    test_record();
    test_returned();
    if (tmp_finish() < 0)
        return 1;
    return done_testing();
}
