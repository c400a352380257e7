/* Unit tests for lib/trust on the Government's RootCA G2
 * (tests/data/real-certs). Expected verdicts are what `openssl verify
 * -x509_strict -CAfile vgca-rootcag2.pem [-attime T] vgca-rootcag2.pem`
 * says: OK in 2026, "certificate has expired" (10 at depth 0) in 2050.
 * The path cases (chains, CRLs) are in tests/cli/105 and 508. */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "trust.h"
#include "tap.h"

#define ROOT "tests/data/real-certs/vgca-rootcag2.pem"

static X509 *read_root(void)
{
    FILE *fp = fopen(ROOT, "r");
    if (fp == NULL)
        return NULL;
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    return x;
}

int main(void)
{
    X509 *root = read_root();
    ok(root != NULL, "RootCA G2 reads");
    if (root == NULL)
        return done_testing();
    const int64_t in_2026 = 1796083200, in_2050 = 2524608000;   /* 2026-12-01, 2050-01-01 */
    const char *ca[] = {ROOT};
    cb_err err = {0};
    cb_trust_result res;

    cb_trust_opts o = {.leaf = CB_TRUST_LEAF_DATES};
    cb_trust *t = cb_trust_new(&o, &err);
    ok(t != NULL && cb_trust_load(t, ca, 1, NULL, 0, NULL, 0, &err) == 0, "--ca with the root loads");
    is_int(cb_trust_anchor_count(t), 1, "a self-signed root is one trust anchor");
    ok(cb_trust_warning(t, 0) == NULL, "and no warning");
    is_int(cb_trust_verify(t, root, in_2026, &res, &err), CB_TRUST_OK, "the anchor verifies in 2026");
    is_str(res.problem, "", "with no trust problem");
    is_int(cb_trust_verify(t, root, in_2050, &res, &err), CB_TRUST_UNTRUSTED, "in 2050 it has expired: untrusted");
    is_int(res.error, X509_V_ERR_CERT_HAS_EXPIRED, "OpenSSL's error is 10, as openssl verify -attime says");
    is_str(res.problem, "the certificate of \"RootCA chuyên dùng Chính phủ G2\" expired on 2048-08-14",
           "the problem names it and the day it expired in Vietnam");
    cb_trust_free(t);

    o.lang_vi = 1;
    o.leaf = CB_TRUST_LEAF_ANY_DATES;
    t = cb_trust_new(&o, &err);
    ok(t != NULL && cb_trust_load(t, ca, 1, NULL, 0, NULL, 0, &err) == 0, "a second store, in Vietnamese");
    is_int(cb_trust_verify(t, root, in_2050, &res, &err), CB_TRUST_OK,
           "when the caller judges the certificate's own dates, its expiry is no trust problem");
    cb_trust_free(t);

    o.leaf = CB_TRUST_LEAF_DATES;
    t = cb_trust_new(&o, &err);
    cb_trust_load(t, ca, 1, NULL, 0, NULL, 0, &err);
    cb_trust_verify(t, root, in_2050, &res, &err);
    is_str(res.problem, "chứng thư số của \"RootCA chuyên dùng Chính phủ G2\" đã hết hạn ngày 2048-08-14",
           "--lang vi: the problem in Vietnamese");
    cb_trust_free(t);

    t = cb_trust_new(NULL, &err);
    const char *chain[] = {ROOT}, *none[] = {"/nonexistent/ca.pem"};
    is_int(cb_trust_load(t, NULL, 0, chain, 1, NULL, 0, &err), -1, "no --ca: no trust anchor is an error");
    is_int(err.code, EX_DATAERR, "a data error (65)");
    cb_trust_free(t);
    t = cb_trust_new(NULL, &err);
    is_int(cb_trust_load(t, none, 1, NULL, 0, NULL, 0, &err), -1, "a missing --ca file is an error");
    is_int(err.code, EX_NOINPUT, "EX_NOINPUT (66)");
    cb_trust_free(t);

    X509_free(root);
    return done_testing();
}
