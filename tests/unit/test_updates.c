/* Unit tests for lib/updates: safe file names from hostile data (over
 * lib/vntext's cb_slug), the
 * name-matching key, serial normalisation, and the certificate reader on
 * PEM, PKCS#7 and damaged input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "serial.h"
#include "tap.h"
#include "updates.h"

static const char *safe(const char *s, size_t max)
{
    static char buf[512];
    if (cb_update_safe_name(s, max, buf, sizeof buf) < 0)
        return "(error)";
    return buf;
}

static const char *key(const char *s)
{
    static char buf[512];
    char *k = cb_update_name_key(s);
    snprintf(buf, sizeof buf, "%s", k ? k : "(null)");
    free(k);
    return buf;
}

static const char *serial(const char *s)
{
    static char buf[64];
    cb_serial_display(s, buf, sizeof buf);
    return buf;
}

/* A throw-away self-signed certificate. */
static X509 *make_cert(long serial_no)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial_no);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const unsigned char *)"T", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    EVP_PKEY_free(k);
    return x;
}

static int count_certs(const char *path, int *unreadable)
{
    cb_err err = {0};
    cb_certs_reader *r = cb_certs_open(path, &err);
    if (r == NULL)
        return -1;
    int n = 0, rc;
    X509 *x;
    long line, index;
    *unreadable = 0;
    while ((rc = cb_certs_next(r, &x, &line, &index, &err)) != CB_CERTS_EOF) {
        if (rc == CB_CERTS_CERT) {
            n++;
            X509_free(x);
        } else if (rc == CB_CERTS_UNREADABLE) {
            (*unreadable)++;
        } else {
            break;
        }
    }
    cb_certs_close(r);
    return n;
}

int main(void)
{
    is_str(safe("Sở Tài chính", 120), "Sở-Tài-chính", "spaces become one dash, Vietnamese letters kept");
    is_str(safe("../../etc", 120), "etc", "dots and slashes go: no path");
    is_str(safe("..", 120), "unnamed", "'..' alone gives 'unnamed'");
    is_str(safe("", 120), "unnamed", "an empty name gives 'unnamed'");
    is_str(safe("a\nb\tc\001d", 120), "a-b-cd", "newlines and tabs separate words, control characters are dropped");
    is_str(safe("_unmatched", 120), "unmatched", "a name never starts with '_' (our folders do)");
    is_str(safe("000.00.15.H41", 120), "000.00.15.H41", "an agency code keeps its dots between digits");
    is_str(safe(".hidden", 120), "hidden", "no name starts with a dot");
    /* "Nguyễn" with a decomposed ễ (e + U+0302 + U+0303) composes to NFC. */
    is_str(safe("Nguye\xcc\x82\xcc\x83n", 120), "Nguy\xe1\xbb\x85n", "NFD input gives NFC letters");
    is_str(safe("Đỗ Bảy", 5), "Đỗ", "cut to max bytes on a character boundary, no dash at the end");
    is_str(safe("\xff\xfe/abc", 120), "abc", "bytes that are not UTF-8 are not kept");
    is_str(safe("A\xe2\x80\xae" "B", 120), "AB", "a BiDi override is dropped");
    is_str(safe("__x", 120), "x", "leading underscores go");
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    is_int(strlen(safe(big, 100)), 100, "a 999-character name is cut to 100 bytes");

    is_str(key("  HOÀNG   VĂN\tEM "), "hoàng văn em", "name key: case folded, spaces collapsed and trimmed");
    char *nfc = strdup(key("Nguyễn"));
    is_str(key("Nguye\xcc\x82\xcc\x83n"), nfc, "name key: NFD and NFC are the same name");
    ok(strcmp(key("Nguyen"), nfc) != 0, "name key: accents still count");
    free(nfc);

    is_str(serial("0a:1b"), "0A1B", "serial: colons removed, upper case");
    is_str(serial("A1B"), "0A1B", "serial: two digits a byte");
    is_str(serial("000A1B"), "0A1B", "serial: leading zero bytes dropped");
    is_str(serial("0"), "00", "serial: zero is 00");
    is_str(serial(" 1001 "), "1001", "serial: spaces ignored");

    /* Reader: a PEM bundle with junk, the same as PKCS#7 DER, damaged blocks. */
    char dir[] = "/tmp/cbunitXXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char pem[64], p7[64], bad[64];
    snprintf(pem, sizeof pem, "%s/b.pem", dir);
    snprintf(p7, sizeof p7, "%s/b.p7b", dir);
    snprintf(bad, sizeof bad, "%s/bad.pem", dir);
    X509 *a = make_cert(1), *b = make_cert(2);
    FILE *f = fopen(pem, "w");
    fputs("some text before\n", f);
    PEM_write_X509(f, a);
    fputs("between\n", f);
    PEM_write_X509(f, b);
    fclose(f);
    PKCS7 *pk = PKCS7_new();
    PKCS7_set_type(pk, NID_pkcs7_signed);
    PKCS7_content_new(pk, NID_pkcs7_data);
    PKCS7_add_certificate(pk, a);
    PKCS7_add_certificate(pk, b);
    f = fopen(p7, "wb");
    i2d_PKCS7_fp(f, pk);
    fclose(f);
    PKCS7_free(pk);
    f = fopen(bad, "w");
    PEM_write_X509(f, a);
    fputs("-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n", f);
    fputs("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", f);
    PEM_write_X509(f, b);
    fclose(f);
    int unr;
    is_int(count_certs(pem, &unr), 2, "PEM bundle with text around: two certificates");
    is_int(count_certs(p7, &unr), 2, "PKCS#7 DER bundle: two certificates");
    is_int(count_certs(bad, &unr), 2, "damaged blocks: the two good certificates still come");
    is_int(unr, 2, "... and the two damaged blocks are reported");
    cb_err err = {0};
    ok(cb_certs_open("/nonexistent/x.pem", &err) == NULL && err.code == EX_NOINPUT, "a missing file is EX_NOINPUT");
    X509_free(a);
    X509_free(b);
    remove(pem);
    remove(p7);
    remove(bad);
    remove(dir);
    return done_testing();
}
