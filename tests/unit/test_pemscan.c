/* Unit tests for the streaming PEM reader: labels, BEGIN lines, CRLF, text
 * between blocks, RFC 1421 headers, padding, and blocks cut short. The
 * expected bytes are the base64 decoded by hand. */
#include <stdio.h>
#include <string.h>

#include "pemscan.h"
#include "tap.h"

static FILE *mem(const char *s)
{
    return fmemopen((void *)s, strlen(s), "r");
}

int main(void)
{
    cb_pem_scanner sc;
    cb_pem_block b;

    /* "TWFu" is "Man"; "TWE=" is "Ma"; "TQ==" is "M". */
    FILE *fp = mem("junk before\n"
                   "-----BEGIN CERTIFICATE-----\n"
                   "TWFu\n"
                   "TWE=\n"
                   "-----END CERTIFICATE-----\n"
                   "text between\r\n"
                   "-----BEGIN PRIVATE KEY-----\r\n"
                   "TQ==\r\n"
                   "-----END PRIVATE KEY-----\r\n");
    cb_pem_scanner_init(&sc, fp);
    is_int(cb_pem_next(&sc, &b), 1, "first block found");
    is_str(b.label, "CERTIFICATE", "its label");
    is_int(b.line, 2, "its BEGIN line is line 2");
    ok(b.error == NULL, "no error");
    is_int(b.der_len, 5, "TWFuTWE= decodes to 5 bytes");
    ok(b.der_len == 5 && memcmp(b.der, "ManMa", 5) == 0, "the bytes are 'ManMa'");
    is_int(cb_pem_next(&sc, &b), 1, "second block found across CRLF text");
    is_str(b.label, "PRIVATE KEY", "label of a key block");
    is_int(b.line, 7, "BEGIN line 7");
    ok(b.der_len == 1 && b.der[0] == 'M', "CRLF lines decode ('M')");
    is_int(cb_pem_next(&sc, &b), 0, "then the end");
    cb_pem_scanner_free(&sc);
    fclose(fp);

    fp = mem("-----BEGIN CERTIFICATE-----\n"
             "TWFu\n"
             "-----BEGIN CERTIFICATE-----\n"
             "TWFu\n"
             "-----END CERTIFICATE-----\n"
             "-----BEGIN CERTIFICATE-----\n"
             "TWFu\n");
    cb_pem_scanner_init(&sc, fp);
    is_int(cb_pem_next(&sc, &b), 1, "a block cut short by a new BEGIN is returned");
    ok(b.error != NULL && strstr(b.error, "cut short") != NULL, "with the reason 'cut short'");
    is_int(b.line, 1, "at its own BEGIN line");
    is_int(cb_pem_next(&sc, &b), 1, "the next block is still read");
    ok(b.error == NULL && b.line == 3 && b.der_len == 3, "whole, from line 3");
    is_int(cb_pem_next(&sc, &b), 1, "a block cut by the end of input is returned");
    ok(b.error != NULL && b.line == 6, "as an error at line 6");
    is_int(cb_pem_next(&sc, &b), 0, "then the end");
    cb_pem_scanner_free(&sc);
    fclose(fp);

    fp = mem("-----BEGIN CERTIFICATE-----\n"
             "Proc-Type: 4,ENCRYPTED\n"
             "TWFu\n"
             "-----END X509 CRL-----\n"
             "-----BEGIN CERTIFICATE-----\n"
             "TW!u\n"
             "-----END CERTIFICATE-----\n");
    cb_pem_scanner_init(&sc, fp);
    is_int(cb_pem_next(&sc, &b), 1, "block with a mismatched END");
    ok(b.error != NULL && strstr(b.error, "does not match") != NULL, "is an error");
    is_int(cb_pem_next(&sc, &b), 1, "block with a bad base64 character");
    ok(b.error != NULL && strstr(b.error, "damaged") != NULL, "is an error");
    cb_pem_scanner_free(&sc);
    fclose(fp);

    ok(cb_pem_is_cert_label("CERTIFICATE"), "CERTIFICATE is a certificate label");
    ok(cb_pem_is_cert_label("TRUSTED CERTIFICATE"), "TRUSTED CERTIFICATE too");
    ok(!cb_pem_is_cert_label("CERTIFICATE REQUEST"), "a CSR is not");
    return done_testing();
}
