/* Unit tests for lib/pki/reqledger.c: events appended and found again, a
 * proposal found by request id and by the certificate it renews (any
 * spelling of the serial), a torn last line, the lock, a reader beside a
 * missing ledger. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reqledger.h"
#include "tap.h"

static void append_raw(const char *path, const char *text)
{
    FILE *fp = fopen(path, "a");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

int main(void)
{
    char dir[] = "/tmp/test_reqledger.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char path[256], none[256];
    snprintf(path, sizeof path, "%s/requests.csv", dir);
    snprintf(none, sizeof none, "%s/absent.csv", dir);
    cb_err err = {0};

    cb_reqledger *r = cb_reqledger_open(none, 0, &err);
    ok(r != NULL && cb_reqledger_count(r) == 0, "a ledger not yet made reads as empty");
    ok(access(none, F_OK) != 0, "reading does not create it");
    cb_reqledger_close(r, &err);

    cb_reqledger *l = cb_reqledger_open(path, 1, &err);
    ok(l != NULL, "a new ledger is created for writing");
    cb_reqevent rec = {.night = "2026-12-01", .event = "received", .request_id = "LD-1",
                       .old_serial = "0a:0b", .detail = "forms-a.csv"};
    cb_reqevent prop = {.night = "2026-12-01", .event = "proposed", .request_id = "LD-1",
                        .old_serial = "0a:0b", .detail = "runs/2026-12-01/proposal.csv"};
    ok(cb_reqledger_append(l, &rec, &err) == 0 && cb_reqledger_append(l, &prop, &err) == 0,
       "two events appended");
    cb_reqevent bad = {.night = "2026-12-01", .event = "approved", .request_id = "LD-1"};
    ok(cb_reqledger_append(l, &bad, &err) < 0, "an unknown event is refused");
    ok(cb_reqledger_open(path, 1, &err) == NULL && err.code == EX_TEMPFAIL,
       "a second writer cannot open a ledger in use");
    ok(cb_reqledger_close(l, &err) == 0, "the ledger closes");

    l = cb_reqledger_open(path, 0, &err);
    ok(l != NULL && cb_reqledger_count(l) == 2, "it reads back two events");
    const cb_reqevent *p = cb_reqledger_proposal(l, "LD-1", NULL);
    ok(p != NULL && !strcmp(p->night, "2026-12-01"), "the proposal is found by request id");
    p = cb_reqledger_proposal(l, "LD-9", "0A0B");
    ok(p != NULL && !strcmp(p->request_id, "LD-1"),
       "another request renewing the same certificate finds that proposal (serial spelled otherwise)");
    ok(cb_reqledger_proposal(l, "LD-9", "0C") == NULL, "a request never proposed is not found");
    ok(cb_reqledger_find(l, "received", "LD-1", "forms-a.csv") != NULL, "an event is found with its detail");
    ok(cb_reqledger_find(l, "received", "LD-1", "forms-b.csv") == NULL, "not with another detail");
    ok(cb_reqledger_find(l, "delivered", "LD-1", NULL) == NULL, "an event not recorded is not found");
    cb_reqledger_close(l, &err);

    append_raw(path, "2026-12-02T01:00:00+07:00,2026-12-02,proposed,LD-2,0D,runs/2026-12-02/pro");
    l = cb_reqledger_open(path, 0, &err);
    ok(l != NULL && cb_reqledger_count(l) == 2 && cb_reqledger_proposal(l, "LD-2", NULL) == NULL,
       "a reader ignores a last line cut short by a crash");
    cb_reqledger_close(l, &err);
    l = cb_reqledger_open(path, 1, &err);
    ok(l != NULL && cb_reqledger_count(l) == 2, "a writer cuts it");
    cb_reqevent del = {.night = "2026-12-05", .event = "delivered", .request_id = "LD-1",
                       .detail = "delivered/x.pem", .recorded_at = "2026-12-05T01:00:00+07:00"};
    ok(cb_reqledger_append(l, &del, &err) == 0 && cb_reqledger_close(l, &err) == 0,
       "and appends after it");
    FILE *fp = fopen(path, "r");
    char all[2048] = "";
    size_t n = fp ? fread(all, 1, sizeof all - 1, fp) : 0;
    all[n] = '\0';
    if (fp)
        fclose(fp);
    ok(strstr(all, "LD-2") == NULL &&
           strstr(all, "\n2026-12-05T01:00:00+07:00,2026-12-05,delivered,LD-1,,delivered/x.pem\n") != NULL,
       "the file holds whole lines only");

    append_raw(path, "x,2026-12-06,approved,LD-3,,\n");
    l = cb_reqledger_open(path, 0, &err);
    ok(l == NULL && err.code == EX_DATAERR && strstr(err.msg, ":5:") != NULL,
       "a line with an unknown event is a damaged ledger, with its line");

    unlink(path);
    rmdir(dir);
    return done_testing();
}
