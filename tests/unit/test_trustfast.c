/* Unit tests for lib/trustfast on the sample PKI (samples/out, or
 * $CB_SAMPLES): every subscriber certificate judged by a worker with the
 * short check and by one with the full check only gives the same verdict
 * and problem, and the short check decided all but the first certificate
 * of the issuing CA and the revoked ones (samples/out/revoked.txt lists
 * them). What the verdicts should be is tests/cli/104, 105 and 107's
 * business (openssl verify). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certread.h"
#include "date.h"
#include "trustfast.h"
#include "tap.h"

static char *sample(const char *name)
{
    const char *dir = getenv("CB_SAMPLES");
    static char buf[16][4096];   /* enough for every name the test holds at once */
    static int k;
    snprintf(buf[k & 15], sizeof buf[0], "%s/%s", dir && *dir ? dir : "samples/out", name);
    return buf[k++ & 15];
}

static long lines_of(const char *path)
{
    FILE *fp = fopen(path, "r");
    long n = 0;
    int c;
    while (fp != NULL && (c = getc(fp)) != EOF)
        n += c == '\n';
    if (fp != NULL)
        fclose(fp);
    return n;
}

static int64_t noon_of_as_of(void)
{
    char day[32] = "";
    FILE *fp = fopen(sample("as-of.txt"), "r");
    if (fp == NULL || fgets(day, sizeof day, fp) == NULL)
        day[0] = '\0';
    if (fp != NULL)
        fclose(fp);
    day[strcspn(day, "\n")] = '\0';
    cb_date d;
    cb_err err = {0};
    if (cb_today(day, &d, &err) < 0)
        return 0;
    return cb_date_start_instant(d) + 12 * 3600;
}

int main(void)
{
    FILE *probe = fopen(sample("subscribers.pem"), "r");
    if (probe == NULL) {
        printf("1..0 # SKIP samples not built (make samples)\n");
        return 0;
    }
    fclose(probe);
    cb_err err = {0};
    cb_trust_opts o = {.leaf = CB_TRUST_LEAF_ANY_DATES};
    cb_trust *t = cb_trust_new(&o, &err);
    const char *ca[] = {sample("roots.pem")}, *chain[] = {sample("chain.pem")}, *crl[] = {sample("crls.pem")};
    ok(t != NULL && cb_trust_load(t, ca, 1, chain, 1, crl, 1, &err) == 0, "the sample PKI loads: %s", err.msg);
    cb_trust_worker *fast = cb_trust_worker_new(t, 0, &err), *full = cb_trust_worker_new(t, 1, &err);
    ok(fast != NULL && full != NULL, "two workers");
    int64_t at = noon_of_as_of();
    ok(at > 0, "the samples' day");

    cb_certs_reader *r = cb_certs_open(sample("subscribers.pem"), &err);
    const unsigned char *der;
    size_t len;
    long line, index;
    int n = 0, same = 0, revoked = 0;
    while (r != NULL && cb_certs_next_der(r, &der, &len, &line, &index, &err) == CB_CERTS_CERT) {
        cb_trust_result a, b;
        X509 *ca_a = NULL, *ca_b = NULL;
        int va = cb_trust_judge(fast, der, len, NULL, at, &a, &ca_a, &err);
        int vb = cb_trust_judge(full, der, len, NULL, at, &b, &ca_b, &err);
        same += va == vb && a.verdict == b.verdict && strcmp(a.problem, b.problem) == 0;
        revoked += va == CB_TRUST_REVOKED;
        X509_free(ca_a);
        X509_free(ca_b);
        n++;
    }
    cb_certs_close(r);
    ok(n > 100, "the samples hold many subscribers (%d)", n);
    is_int(same, n, "the short and the full check agree on every certificate");
    is_int(revoked, lines_of(sample("revoked.txt")), "the revoked ones are revoked");
    is_int(cb_trust_worker_fast_count(full), 0, "--trust-full never takes the short check");
    is_int(cb_trust_worker_fast_count(fast), n - 1 - revoked,
           "the short check decided every certificate but the first and the revoked ones");

    /* A CA certificate added as an intermediate is a new generation: the
     * issuers kept are forgotten, the first certificate after goes
     * through the full check again. */
    unsigned long g = cb_trust_generation(t);
    r = cb_certs_open(sample("issuing-ca.pem"), &err);
    X509 *issuing = NULL;
    ok(r != NULL && cb_certs_next(r, &issuing, &line, &index, &err) == CB_CERTS_CERT, "the issuing CA reads");
    cb_certs_close(r);
    cb_trust *t2 = cb_trust_new(&o, &err);
    const char *none[] = {sample("root-ca.pem")};
    ok(t2 != NULL && cb_trust_load(t2, none, 1, NULL, 0, crl, 1, &err) == 0, "the root alone loads%s%s", *err.msg ? ": " : "", err.msg);
    ok(cb_trust_add_intermediate(t2, issuing, &err) == 0 && cb_trust_generation(t2) == 1,
       "an intermediate of the input is a new generation");
    ok(cb_trust_add_intermediate(t2, issuing, &err) == 0 && cb_trust_generation(t2) == 1,
       "the same one again changes nothing");
    is_int(cb_trust_generation(t), g, "the other trust keeps its generation");
    X509_free(issuing);
    cb_trust_free(t2);

    cb_trust_worker_free(fast);
    cb_trust_worker_free(full);
    cb_trust_free(t);
    return done_testing();
}
