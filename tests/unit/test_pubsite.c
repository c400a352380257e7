/* Unit tests for lib/pki/pubsite.c: the certificate's fields, the directory
 * entries (DN escaping, one entry per holder) and the files written. */
#include "pubsite.h"
#include "tap.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A self-signed certificate made here, with the names given. */
static unsigned char *make_cert(const char *cn, const char *o, const char *email, long serial,
                                size_t *len)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)o, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "title", MBSTRING_UTF8, (const unsigned char *)"Chuyên viên", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "emailAddress", MBSTRING_ASC, (const unsigned char *)email, -1, -1, 0);
    X509_set_issuer_name(x, n);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ASN1_TIME_set_string(X509_getm_notBefore(x), "20260211000000Z");
    ASN1_TIME_set_string(X509_getm_notAfter(x), "20290210235959Z");
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    unsigned char *der = NULL;
    int l = i2d_X509(x, &der);
    X509_free(x);
    EVP_PKEY_free(k);
    *len = (size_t)l;
    return der;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return strdup("");
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return strdup(buf);
}

int main(void)
{
    cb_err err = {0};
    size_t l1, l2, l3;
    unsigned char *d1 = make_cert("Nguyễn Thị Hoà", "Sở Nội vụ", "hoa@lamdong.gov.vn", 0x1A2B, &l1);
    unsigned char *d2 = make_cert("Trần, \"Bảo\"+<x>", "Sở Tài chính", "", 0x1A2C, &l2);
    unsigned char *d3 = make_cert("Nguyễn Thị Hoà", "Sở Nội vụ", "hoa@lamdong.gov.vn", 0x1A2D, &l3);
    cb_pub_cert c[3];
    is_int(cb_pub_cert_init(&c[0], d1, l1, "2026-02-23T09:00:00+07:00", "CB-01", &err), 0, "a certificate is read");
    is_str(c[0].serial, "1A2B", "serial as openssl prints it");
    is_str(c[0].holder, "Nguyễn Thị Hoà", "holder from CN");
    is_str(c[0].position, "Chuyên viên", "position from title");
    is_str(c[0].agency, "Sở Nội vụ", "agency from O");
    is_str(c[0].email, "hoa@lamdong.gov.vn", "e-mail from the subject");
    is_str(c[0].not_after, "2029-02-11T06:59:59+07:00", "not_after in Vietnam time");
    is_int((int)strlen(c[0].sha256), 64, "SHA-256 in hex");
    unsigned char bad[3] = {0x30, 0x01, 0x00};
    cb_pub_cert junk;
    is_int(cb_pub_cert_init(&junk, bad, sizeof bad, "", "", &err), -1, "bytes that are no certificate are refused");
    is_int(cb_pub_cert_init(&c[1], d2, l2, "2026-02-23T09:00:00+07:00", "CB-02", &err), 0, "a second");
    is_int(cb_pub_cert_init(&c[2], d3, l3, "2026-02-24T09:00:00+07:00", "CB-03", &err), 0, "a third");

    const cb_pub_cert *ptr[3] = {&c[0], &c[1], &c[2]};
    cb_pub_holder *h = NULL;
    size_t nh = 0;
    is_int(cb_pub_holders(ptr, 3, "ou=certificates,dc=ca,dc=gov,dc=vn", &h, &nh, &err), 0, "holders");
    is_int((int)nh, 2, "two certificates with one e-mail address are one holder");
    is_str(h[0].dn, "mail=hoa@lamdong.gov.vn,ou=certificates,dc=ca,dc=gov,dc=vn", "a holder's DN is by mail");
    is_int((int)h[0].ncerts, 2, "and carries both certificates");
    is_str(h[0].sn, "Nguyễn", "sn is the family name, the first word");
    is_str(h[1].dn, "cn=Trần\\, \\\"Bảo\\\"\\+\\<x\\>,ou=certificates,dc=ca,dc=gov,dc=vn",
           "without an address the DN is by cn, its specials escaped (RFC 4514)");
    cb_pub_holders_free(h, nh);

    char dir[] = "/tmp/test_pubsite.XXXXXX";
    ok(mkdtemp(dir) != NULL, "a scratch directory");
    is_int(cb_pubsite_write(dir, c, 3, "dc=x", &err), 0, "the site is written");
    char path[512];
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = slurp(path);
    ok(strstr(html, "Trần, &quot;Bảo&quot;+&lt;x&gt;") != NULL, "a name's markup is escaped in the page");
    ok(strstr(html, "<x>") == NULL, "no raw markup");
    ok(strstr(html, "data-key=\"nguyen thi hoa chuyen vien so noi vu") != NULL, "rows carry folded text");
    free(html);
    snprintf(path, sizeof path, "%s/index.json", dir);
    char *json = slurp(path);
    ok(strstr(json, "\"holder\": \"Trần, \\\"Bảo\\\"+\\u003cx>\"") != NULL, "JSON escapes quotes and <");
    free(json);
    snprintf(path, sizeof path, "%s/certs/1A2B.cer", dir);
    struct stat st;
    ok(stat(path, &st) == 0 && (size_t)st.st_size == l1, "the DER file has the certificate's length");
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    ok(system(path) == 0, "clean up");
    for (int i = 0; i < 3; i++)
        cb_pub_cert_clear(&c[i]);
    OPENSSL_free(d1);
    OPENSSL_free(d2);
    OPENSSL_free(d3);
    return done_testing();
}
