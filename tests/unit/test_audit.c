/* Unit tests for lib/pki/audit.c: a log written, checked, and tampered with. */
#include "audit.h"
#include "tap.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static X509 *self_signed(EVP_PKEY *k)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"Audit CA", -1, -1, 0);
    X509_set_issuer_name(x, n);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    ASN1_TIME_set_string(X509_getm_notBefore(x), "20200101000000Z");
    ASN1_TIME_set_string(X509_getm_notAfter(x), "20491231235959Z");
    X509_set_pubkey(x, k);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    X509_sign(x, k, EVP_sha256());
    return x;
}

static void rewrite(const char *from, const char *to, int drop_line, long flip_at)
{
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    char line[8192];
    int n = 0;
    long pos = 0;
    while (in && out && fgets(line, sizeof line, in)) {
        n++;
        size_t len = strlen(line);
        if (flip_at >= pos && flip_at < pos + (long)len)
            line[flip_at - pos] ^= 1;
        pos += (long)len;
        if (n != drop_line)
            fputs(line, out);
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

int main(void)
{
    char dir[] = "/tmp/test_audit.XXXXXX";
    ok(mkdtemp(dir) != NULL, "a scratch directory");
    char log[256], ca[256], bad1[256], bad2[256];
    snprintf(log, sizeof log, "%s/audit.csv", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(bad1, sizeof bad1, "%s/bad1.csv", dir);
    snprintf(bad2, sizeof bad2, "%s/bad2.csv", dir);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = self_signed(k);
    FILE *fp = fopen(ca, "w");
    PEM_write_X509(fp, x);
    fclose(fp);

    cb_err err = {0};
    cb_audit *a = cb_audit_open(log, "tester", &err);
    ok(a != NULL, "a new log opens");
    cb_audit *b = cb_audit_open(log, "other", &err);
    ok(b == NULL && err.code == EX_TEMPFAIL, "a second writer is refused (75): %s", err.msg);
    is_int(cb_audit_add(a, "issue", "CB-01", "1A2B", "AB", "CN=A\nB", "line\r\nbreaks", &err), 0, "a line");
    is_int(cb_audit_add(a, "issue", "CB-02", "1A2C", "CD", "CN=\"C\", D", NULL, &err), 0, "a line with quotes and commas");
    is_int(cb_audit_close(a, x, k, &err), 0, "closed with a checkpoint");
    a = cb_audit_open(log, "tester", &err);
    ok(a != NULL, "reopened");
    is_int(cb_audit_close(a, x, k, &err), 0, "closed again without adding: no checkpoint");

    cb_audit_report rep;
    is_int(cb_audit_verify(log, ca, &rep, &err), 0, "the log verifies");
    is_int((int)rep.lines, 4, "header, two lines, one checkpoint");
    is_int((int)rep.checkpoints, 1, "one checkpoint");
    is_int((int)rep.unsigned_tail, 0, "nothing after it");

    rewrite(log, bad1, 0, 120);
    is_int(cb_audit_verify(bad1, ca, &rep, &err), 1, "a flipped bit fails");
    ok(rep.bad_line == 2 && strstr(rep.what, "line 2 was changed"), "line 2 named: %s", rep.what);
    rewrite(log, bad2, 2, -1);
    is_int(cb_audit_verify(bad2, ca, &rep, &err), 1, "a dropped line fails");
    ok(rep.bad_line == 2 && strstr(rep.what, "removed"), "line 2 removed: %s", rep.what);
    rewrite(log, bad2, 4, -1);
    is_int(cb_audit_verify(bad2, ca, &rep, &err), 0, "without its last checkpoint the chain still holds");
    is_int((int)rep.unsigned_tail, 2, "but two lines are not signed");

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ok(system(cmd) == 0, "clean up");
    X509_free(x);
    EVP_PKEY_free(k);
    return done_testing();
}
