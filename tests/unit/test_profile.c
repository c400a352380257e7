/* Unit tests for lib/pki/profile.c: defaults, YAML values, errors with lines. */
#include <string.h>

#include "profile.h"
#include "tap.h"

static int load(cb_profile *p, const char *yaml, cb_err *err)
{
    return cb_profile_load_buffer(p, "p.yaml", yaml, strlen(yaml), err);
}

int main(void)
{
    cb_profile p;
    cb_err err = {0};
    ok(cb_profile_defaults(&p, &err) == 0, "defaults load");
    is_int(p.validity_months, 36, "default validity is 36 months");
    is_int(p.renew_months, 36, "default renewal is 36 months");
    is_str(p.key_alg, "rsa2048", "default key is RSA-2048");
    is_str(p.digest, "sha256", "default digest is SHA-256");
    is_int(p.key_usage.n, 2, "default key usage has two bits");
    is_str(p.key_usage.v[1], "nonRepudiation", "nonRepudiation is one of them");

    ok(load(&p, "validity_months: 24\nkey_alg: ec-p256\npolicies: [1.2.3.4, 2.16.704.1]\n"
                "crl_urls: http://x.gov.vn/a.crl\n", &err) == 0, "a small profile loads");
    is_int(p.validity_months, 24, "validity from YAML");
    is_str(p.key_alg, "ec-p256", "key_alg from YAML");
    is_int(p.policies.n, 2, "a flow sequence of policies");
    is_str(p.policies.v[1], "2.16.704.1", "the second policy");
    is_int(p.crl_urls.n, 1, "a single value for a list");
    is_int(p.key_usage.n, 2, "unset keys keep the defaults");

    ok(load(&p, "validity_months: 61\n", &err) < 0, "61 months is refused (Nghị định 68/2024 Điều 9)");
    is_str(err.msg, "p.yaml:1: validity_months: expected a number of months from 1 to 60",
           "the error names the line and the limit");
    is_int(err.code, EX_DATAERR, "a bad profile is a data error");
    is_int(p.validity_months, 24, "a failed load leaves the profile as it was");
    ok(load(&p, "renew_months: 37\n", &err) < 0, "a renewal of 37 months is refused");
    ok(load(&p, "name: x\n\nkey_usage:\n  - digitalSignature\n  - signEverything\n", &err) < 0,
       "an unknown key usage is refused");
    is_str(err.msg,
           "p.yaml:5: key_usage: unknown usage 'signEverything' (digitalSignature, "
           "nonRepudiation, keyEncipherment, ...)",
           "the error is at the item's line");
    ok(load(&p, "policies: [not-an-oid]\n", &err) < 0, "a policy that is not an OID is refused");
    ok(load(&p, "crl_urls: [ftp://x]\n", &err) < 0, "an ftp URL is refused");
    ok(load(&p, "key_alg: dsa\n", &err) < 0, "an unknown key_alg is refused");
    ok(load(&p, "digest: md5\n", &err) < 0, "md5 is refused");
    ok(load(&p, "a: [1, 2\n", &err) < 0, "broken YAML is refused");
    ok(strncmp(err.msg, "p.yaml:", 7) == 0, "broken YAML names the file");
    ok(load(&p, "- a\n- b\n", &err) < 0, "a list instead of a mapping is refused");
    ok(load(&p, "", &err) < 0, "an empty profile is refused");
    ok(load(&p, "key_usage: []\n", &err) < 0, "an empty key usage is refused");
    ok(load(&p, "extended_key_usage: [clientAuth, 1.3.6.1.4.1.311.10.3.12]\n", &err) == 0,
       "extended key usage by name and by OID");
    ok(cb_profile_load_file(&p, "/nonexistent/profile.yaml", &err) < 0 && err.code == EX_NOINPUT,
       "a missing profile file is EX_NOINPUT");
    cb_profile_free(&p);
    return done_testing();
}
