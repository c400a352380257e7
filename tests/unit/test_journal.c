/* Unit tests for lib/pki/journal.c (the batch journal, PIN files), the
 * ledger's certificate store and cb_atomic_sweep: what a re-run after a
 * crash relies on. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "journal.h"
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

static void touch(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

int main(void)
{
    char dir[] = "/tmp/test_journal.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char lpath[256], jpath[300], key1[256], key2[256], pins[256], p[512];
    snprintf(lpath, sizeof lpath, "%s/ledger.csv", dir);
    snprintf(key1, sizeof key1, "%s/R-1.p12", dir);
    snprintf(key2, sizeof key2, "%s/R-2.p12", dir);
    snprintf(pins, sizeof pins, "%s/pins.csv", dir);
    cb_err err = {0};

    char *jp = cb_journal_path(lpath);
    is_str(jp, strcat(strcpy(jpath, lpath), ".journal"), "the journal is named after the ledger");
    free(jp);

    cb_ledger *l = cb_ledger_open(lpath, &err);
    ok(l != NULL, "a ledger opens");
    cb_journal *j = cb_journal_create(jpath, &err);
    ok(j != NULL, "a journal is created");
    struct stat st;
    ok(stat(jpath, &st) == 0 && (st.st_mode & 0777) == 0600, "the journal is mode 0600");
    ok(cb_journal_create(jpath, &err) == NULL && err.code == EX_CANTCREAT, "a second journal is refused");
    const unsigned char p12a[] = {0x30, 0x03, 0x02, 0x01, 0x01}, p12b[] = {0x30, 0x01, 0x00};
    cb_journal_entry e1 = {"R-1", "0A0B", key1, pins, "PIN1PIN1PIN1", p12a, sizeof p12a};
    cb_journal_entry e2 = {"R-2", "0C0D", key2, pins, "PIN2PIN2PIN2", p12b, sizeof p12b};
    ok(cb_journal_add(j, &e1, &err) == 0 && cb_journal_add(j, &e2, &err) == 0 && cb_journal_sync(j, &err) == 0,
       "two keys staged and synced");
    cb_journal_close(j);

    /* Only R-1 is committed: the crash came before R-2's ledger line. */
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    cb_ledger_entry le = {"R-1", "issue", "", "0A0B", "CN=A", "2029-01-01T00:00:00+07:00",
                          "AB", "2026-01-01T00:00:00+07:00", pem, sizeof pem - 1};
    ok(cb_ledger_append(l, &le, &err) == 0 && cb_ledger_sync(l, &err) == 0, "R-1 is committed");
    ok(cb_ledger_committed(l, "R-1", "0A0B"), "the ledger says R-1 is committed");
    ok(!cb_ledger_committed(l, "R-2", "0C0D"), "and R-2 is not");
    snprintf(p, sizeof p, "%s.certs.pem", lpath);
    is_str(slurp(p), pem, "the certificate is in the ledger's store");

    touch(pins, "request_id,file,pin\nR-0,old.p12,OLDPINOLDPIN\n");
    cb_journal_report rep;
    ok(cb_journal_finish(jpath, l, &rep, &err) == 0, "the journal is finished");
    is_int(rep.entries, 2, "it held two entries");
    is_int(rep.keys, 1, "one key file was written");
    is_int(rep.pins, 1, "one PIN row was added");
    is_int(rep.rolled_back, 1, "the uncommitted key was rolled back");
    ok(access(jpath, F_OK) != 0, "the finished journal is gone");
    ok(stat(key1, &st) == 0 && st.st_size == sizeof p12a && (st.st_mode & 0777) == 0600,
       "the committed key's PKCS#12 is written, mode 0600");
    ok(access(key2, F_OK) != 0, "the rolled-back key has no file");
    char want[512];
    snprintf(want, sizeof want, "request_id,file,pin\nR-0,old.p12,OLDPINOLDPIN\nR-1,%s,PIN1PIN1PIN1\n", key1);
    is_str(slurp(pins), want, "the PIN row is added and the earlier row kept");
    ok(stat(pins, &st) == 0 && (st.st_mode & 0777) == 0600, "the PIN file is mode 0600");
    ok(cb_journal_finish(jpath, l, &rep, &err) == 0 && rep.entries == 0, "no journal: nothing to finish");

    const char *rows[3] = {"R-1", "other", "NEWPIN"};
    size_t added = 9;
    ok(cb_pins_merge(pins, rows, 1, &added, &err) == 0 && added == 0, "a PIN row already there is not added");
    is_str(slurp(pins), want, "nor replaced");

    touch(jpath, "request_id,ser");
    ok(cb_journal_finish(jpath, l, &rep, &err) == 0 && access(jpath, F_OK) != 0,
       "a journal killed while its header was written is removed");
    cb_ledger_close(l, &err);

    /* Stale temporaries: a dead process's go, a live one's stay. */
    char stale[300], live[300], other[300];
    snprintf(stale, sizeof stale, "%s/.out.pem.tmp.%d.0", dir, 999999999);
    snprintf(live, sizeof live, "%s/.out.pem.tmp.%ld.0", dir, (long)getpid());
    snprintf(other, sizeof other, "%s/.out.pem.tmp.x.0", dir);
    touch(stale, "x");
    touch(live, "x");
    touch(other, "x");
    snprintf(p, sizeof p, "%s/out.pem", dir);
    is_int(cb_atomic_sweep_path(p, &err), 1, "one stale temporary is swept");
    ok(access(stale, F_OK) != 0, "the dead process's temporary is gone");
    ok(access(live, F_OK) == 0, "a live process's temporary stays");
    ok(access(other, F_OK) == 0, "a file that only looks like one stays");

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return done_testing();
}
