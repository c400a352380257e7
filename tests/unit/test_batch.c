/* Unit tests for lib/pki/batch.c: the checks that need the whole run and the
 * write order of a batch (journal, key files, PIN rows), without a CA. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
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
    char dir[] = "/tmp/test_batch.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char pins[300], existing[300], jpath[320];
    snprintf(pins, sizeof pins, "%s/pins.csv", dir);
    snprintf(existing, sizeof existing, "%s/R-3.p12", dir);
    snprintf(jpath, sizeof jpath, "%s.journal", pins);
    FILE *fp = fopen(existing, "w");
    fputs("an old key", fp);
    fclose(fp);

    cb_header *h = cb_header_new();
    cb_header_add(h, "request_id");
    cb_header_add(h, "csr_pem");
    cb_issue_cols cols;
    cb_issue_cols_find(&cols, h);
    cb_batch_cfg cfg = {CB_ISSUE_NEW, NULL, &cols, NULL, dir, pins, "2026-01-01T00:00:00+07:00"};
    cb_err err = {0};
    cb_batch *b = cb_batch_new(&cfg, &err);
    ok(b != NULL, "a run is prepared");
    is_str(cb_batch_journal_path(b), jpath, "without a ledger the journal is named after the PIN file");

    const char *rows[][2] = {{" R-1 ", ""}, {"R-2", "-----BEGIN CERTIFICATE REQUEST-----"}, {"R-3", ""},
                             {"R-1", ""}, {"R/1", ""}};
    enum { N = 5 };
    cb_issue_job jobs[N];
    char *key_files[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        jobs[i].rec = cb_record_new();
        jobs[i].rec->line = i + 2;
        cb_record_set_str(jobs[i].rec, 0, rows[i][0]);
        cb_record_set_str(jobs[i].rec, 1, rows[i][1]);
        key_files[i] = calloc(1, PATH_MAX);
        ok(cb_batch_check(b, &jobs[i], key_files[i], &err) == 0, "request %d is checked", i + 1);
    }
    char want[320];
    snprintf(want, sizeof want, "%s/R-1.p12", dir);
    is_str(key_files[0], want, "a generated key goes to DIR/ID.p12 (blanks around the id ignored)");
    is_int(jobs[0].status, CB_JOB_TODO, "and the request is left to run");
    is_str(key_files[1], "", "a request with a CSR gets no key file");
    is_int(jobs[2].status, CB_JOB_REJECT, "a request whose key file exists is rejected");
    ok(strstr(jobs[2].reason, "never overwritten") != NULL, "because key files are never overwritten");
    is_int(jobs[3].status, CB_JOB_REJECT, "a request id met twice is rejected");
    ok(strstr(jobs[3].reason, "first is at line 2") != NULL, "naming the line of the first");
    is_int(jobs[4].status, CB_JOB_TODO, "R/1 is another request");
    snprintf(want, sizeof want, "%s/R_1.p12", dir);
    is_str(key_files[4], want, "whose file name is made safe");

    /* R-1 finished with a key: staged, then written; its PIN at the end. */
    static unsigned char p12[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    jobs[0].status = CB_JOB_OK;
    jobs[0].p12 = OPENSSL_malloc(sizeof p12);
    memcpy(jobs[0].p12, p12, sizeof p12);
    jobs[0].p12_len = sizeof p12;
    snprintf(jobs[0].pin, sizeof jobs[0].pin, "ABCDEFGHJKMN");
    snprintf(jobs[0].serial, sizeof jobs[0].serial, "0A0B");
    jobs[1].status = CB_JOB_OK;   /* the CSR's: no key */
    ok(cb_batch_commit(b, jobs, key_files, 2, &err) == 0, "the batch is committed");
    struct stat st;
    ok(stat(key_files[0], &st) == 0 && st.st_size == sizeof p12 && (st.st_mode & 0777) == 0600,
       "the key file is written, mode 0600");
    ok(access(jpath, F_OK) == 0, "the journal holds the key until the run finishes");
    ok(access(pins, F_OK) != 0, "the PIN file waits for the end of the run");
    ok(cb_batch_finish(b, &err) == 0, "the run finishes");
    ok(access(jpath, F_OK) != 0, "the journal is gone");
    snprintf(want, sizeof want, "request_id,file,pin\nR-1,%s/R-1.p12,ABCDEFGHJKMN\n", dir);
    is_str(slurp(pins), want, "the PIN file has the key's row");

    for (int i = 0; i < N; i++) {
        cb_issue_job_clear(&jobs[i]);
        cb_record_free(jobs[i].rec);
        free(key_files[i]);
    }
    cb_batch_free(b);
    cb_header_free(h);

    /* Renewals: one old serial once in a run. */
    cb_header *rh = cb_header_new();
    cb_header_add(rh, "request_id");
    cb_header_add(rh, "old_serial");
    cb_issue_cols_find(&cols, rh);
    cb_batch_cfg rcfg = {CB_ISSUE_RENEW, NULL, &cols, NULL, NULL, NULL, "2026-01-01T00:00:00+07:00"};
    b = cb_batch_new(&rcfg, &err);
    cb_issue_job r1 = {0}, r2 = {0};
    char kf[PATH_MAX];
    r1.rec = cb_record_new();
    r2.rec = cb_record_new();
    r1.rec->line = 2;
    r2.rec->line = 3;
    cb_record_set_str(r1.rec, 0, "G-1");
    cb_record_set_str(r1.rec, 1, "0A:1B");
    cb_record_set_str(r2.rec, 0, "G-2");
    cb_record_set_str(r2.rec, 1, "0a1b");
    ok(cb_batch_check(b, &r1, kf, &err) == 0 && r1.status == CB_JOB_TODO, "a renewal is left to run");
    ok(cb_batch_check(b, &r2, kf, &err) == 0 && r2.status == CB_JOB_REJECT,
       "the same old certificate again, spelt otherwise, is rejected");
    ok(strstr(r2.reason, "asked for twice") != NULL, "as asked for twice in the batch");
    cb_record_free(r1.rec);
    cb_record_free(r2.rec);
    cb_batch_free(b);
    cb_header_free(rh);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return done_testing();
}
