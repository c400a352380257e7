/* Unit tests for lib/pki/ledger.c: append, reload, torn last line, lock, and
 * the string map. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"
#include "tap.h"

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *fp = fopen(path, "r");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp)
        fclose(fp);
    buf[n] = '\0';
    return buf;
}

int main(void)
{
    char dir[] = "/tmp/test_ledger.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/ledger.csv", dir);
    cb_err err = {0};

    cb_ledger *l = cb_ledger_open(path, &err);
    ok(l != NULL, "a new ledger is created");
    is_str(slurp(path), "request_id,request_type,old_serial,serial,subject,not_after,sha256,issued_at\n",
           "a new ledger starts with its header");
    cb_ledger_entry e1 = {"R-1", "issue", "", "0A0B", "C=VN, CN=Nguyễn Văn A", "2029-01-01T00:00:00+07:00",
                          "AB", "2026-01-01T00:00:00+07:00", NULL, 0};
    cb_ledger_entry e2 = {"R-2", "renew", "00C0FFEE", "1D1E", "C=VN, CN=B, \"Q\"", "2030-01-01T00:00:00+07:00",
                          "CD", "2026-01-01T00:00:00+07:00", NULL, 0};
    ok(cb_ledger_append(l, &e1, &err) == 0 && cb_ledger_append(l, &e2, &err) == 0, "two lines appended");
    is_str(cb_ledger_find_request(l, "R-1"), "0A0B", "an appended request is found at once");
    ok(cb_ledger_open(path, &err) == NULL && err.code == EX_TEMPFAIL,
       "a second run cannot open a ledger in use");
    ok(cb_ledger_close(l, &err) == 0, "the ledger closes");

    l = cb_ledger_open(path, &err);
    ok(l != NULL, "the ledger opens again");
    is_int(cb_ledger_count(l), 2, "it holds two lines");
    is_str(cb_ledger_find_request(l, "R-2"), "1D1E", "a request is found by id after a reload");
    ok(cb_ledger_find_request(l, "R-3") == NULL, "an unknown request is not found");
    is_str(cb_ledger_find_renewal_of(l, "C0:FF:EE"), "R-2", "the renewal of an old serial is found, any spelling");
    ok(cb_ledger_is_renewed(l, "001D1E"), "a serial made by a renewal is known");
    ok(!cb_ledger_is_renewed(l, "0A0B"), "a serial made by an issue is not a renewal");
    cb_ledger_close(l, &err);

    /* A crash in the middle of a line. */
    int fd = open(path, O_WRONLY | O_APPEND);
    ok(fd >= 0 && write(fd, "R-9,issue,,FF", 13) == 13, "a torn line is left at the end");
    close(fd);
    l = cb_ledger_open(path, &err);
    ok(l != NULL, "a ledger with a torn last line opens");
    is_int(cb_ledger_count(l), 2, "the torn line is not counted");
    ok(cb_ledger_find_request(l, "R-9") == NULL, "the torn request is not taken as issued");
    cb_ledger_close(l, &err);
    ok(strstr(slurp(path), "R-9") == NULL, "the torn line is removed from the file");

    snprintf(path, sizeof path, "%s/bad.csv", dir);
    FILE *fp = fopen(path, "w");
    fputs("a,b\n1,2\n", fp);
    fclose(fp);
    ok(cb_ledger_open(path, &err) == NULL && err.code == EX_DATAERR, "a CSV that is not a ledger is refused");
    ok(strstr(err.msg, "no column request_id") != NULL, "the message names the missing column");

    cb_strmap *m = cb_strmap_new();
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key%d", i);
        cb_strmap_put(m, k, k);
    }
    ok(cb_strmap_put(m, "key7", "other") == 0, "putting an existing key succeeds");
    is_str(cb_strmap_get(m, "key7"), "key7", "the first value of a key stays");
    is_str(cb_strmap_get(m, "key4999"), "key4999", "a map of 5000 keys finds the last");
    ok(cb_strmap_get(m, "key5000") == NULL, "and not one never put");
    cb_strmap_free(m);

    unlink(path);
    snprintf(path, sizeof path, "%s/ledger.csv", dir);
    unlink(path);
    rmdir(dir);
    return done_testing();
}
