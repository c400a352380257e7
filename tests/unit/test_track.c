/* Unit tests for lib/pki/track.c and the publication ledger lookups of
 * lib/pki/publish.c, on ledgers written here by hand; due dates computed by
 * hand (working days, the day of receipt not counted). */
#include "publish.h"
#include "track.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

int main(void)
{
    char *p = cb_publication_ledger_path("/srv/cb/issued-ledger.csv");
    is_str(p, "/srv/cb/issued-ledger-published.csv", "the publication ledger sits beside the ledger");
    free(p);
    p = cb_publication_ledger_path("/srv/cb.d/ledger");
    is_str(p, "/srv/cb.d/ledger-published", "a ledger without an extension");
    free(p);

    char dir[] = "/tmp/test_track.XXXXXX";
    ok(mkdtemp(dir) != NULL, "a scratch directory");
    char ledger[256], pubs[256];
    snprintf(ledger, sizeof ledger, "%s/ledger.csv", dir);
    snprintf(pubs, sizeof pubs, "%s/ledger-published.csv", dir);
    write_file(ledger, "request_id,request_type,old_serial,serial,subject,not_after,sha256,issued_at\n"
                       "A,issue,,0A,CN=A,2029-01-01T00:00:00+07:00,,2026-02-11T10:00:00+07:00\n"
                       "B,issue,,0B,CN=B,2029-01-01T00:00:00+07:00,,2026-02-19T10:00:00+07:00\n"
                       "R,renew,01,0C,CN=R,2029-01-01T00:00:00+07:00,,2026-02-11T10:00:00+07:00\n");
    write_file(pubs, "serial,request_id,agency,agency_code,handed_over_date,received_date,due_date,"
                     "effective_at,published_at,late,certificate\n"
                     "0A,A,X,,2026-02-12,2026-02-13,2026-02-23,2026-02-24T09:00:00+07:00,"
                     "2026-02-24T09:00:00+07:00,yes,\n");
    cb_err err = {0};
    cb_date today;
    cb_date_parse("2026-02-24", &today);
    cb_track_opts o = {.ledger = ledger, .today = today};
    cb_track *t = cb_track_open(&o, &err);
    ok(t != NULL, "the tracker opens: %s", err.msg);
    cb_track_row r;
    is_int(cb_track_request(t, "A", "issue", "2026-02-10", &r, &err), 0, "A is placed");
    is_str(r.step, "published", "A is published");
    is_str(r.step_at, "2026-02-24T09:00:00+07:00", "at its effective_at");
    is_str(r.procedure_due, "2026-02-23", "received Tue 10/2/2026, due 4 working days later: Mon 23/2 (Tết 14-22/2)");
    ok(r.late && !r.overdue, "published a day late, not overdue now that it is done");
    is_int(cb_track_request(t, "B", "issue", "2026-02-10", &r, &err), 0, "B is placed");
    is_str(r.step, "issued", "B is issued");
    ok(r.late, "issued 19/2 after its due date 13/2: late");
    ok(r.overdue, "and overdue on 24/2 (the procedure was due 23/2)");
    is_str(r.step_due, "", "the Cục owes nothing while the agency has the device");
    is_int(cb_track_request(t, "R", "renew", "2026-02-10", &r, &err), 0, "R is placed");
    ok(strcmp(r.step, "issued") == 0 && !r.overdue && !r.late, "a renewal issued in time is done");
    is_str(r.procedure_due, "2026-02-13", "its 3 working days end Fri 13/2/2026");
    is_int(cb_track_request(t, "N", "issue", "13/02/2026", &r, &err), 0, "N is placed");
    is_str(r.step_due, "2026-02-25", "received Fri 13/2, issue due 3 working days later: Wed 25/2");
    ok(!r.overdue, "not overdue on 24/2");
    is_int(cb_track_request(t, "X", "revoke", "2026-02-10", &r, &err), -1, "a revocation is not tracked");
    is_str(r.field, "request_type", "the column at fault");
    is_int(cb_track_request(t, "X", "issue", "hôm qua", &r, &err), -1, "no date of receipt");
    is_str(r.field, "received_date", "the column at fault");
    cb_track_free(t);

    cb_pub_opts po = {.ledger = ledger, .read_only = 1};
    cb_publisher *pub = cb_publisher_open(&po, &err);
    ok(pub != NULL, "a read-only publisher");
    int64_t at;
    cb_instant_parse("2026-02-24T08:59:59+07:00", &at);
    is_int(cb_publisher_effective(pub, "0a", at), 0, "A is not effective a second before its publication");
    is_int(cb_publisher_effective(pub, "0A", at + 1), 1, "and effective from it");
    is_int(cb_publisher_effective(pub, "0B", at + 1), 0, "B, issued, never published: not effective");
    is_int(cb_publisher_effective(pub, "FF", at), -1, "a serial the ledger does not know");
    cb_publisher_free(pub);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ok(system(cmd) == 0, "clean up");
    return done_testing();
}
