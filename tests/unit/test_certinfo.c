/* Unit tests for the fast certificate reader, on the Government's RootCA
 * G2 (tests/data/real-certs, read from the repository root where prove
 * runs). Expected values are what `openssl x509 -noout -serial -enddate
 * -subject -fingerprint -sha256` prints for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"
#include "date.h"
#include "pemscan.h"
#include "tap.h"

int main(void)
{
    FILE *fp = fopen("tests/data/real-certs/vgca-rootcag2.pem", "r");
    ok(fp != NULL, "the RootCA G2 file opens");
    if (fp == NULL)
        return done_testing();
    cb_pem_scanner sc;
    cb_pem_block b;
    cb_pem_scanner_init(&sc, fp);
    ok(cb_pem_next(&sc, &b) == 1 && b.error == NULL, "its PEM block decodes");

    char *serial = cb_der_cert_serial(b.der, b.der_len);
    is_str(serial, "3B65B0A03006F9AB", "cb_der_cert_serial reads the serial openssl prints");
    free(serial);

    cb_certinfo_ctx ctx;
    cb_err err = {0};
    cb_cert_info ci;
    ok(cb_certinfo_ctx_init(&ctx, &err) == 0, "a digest context");
    ok(cb_cert_info_parse(&ctx, b.der, b.der_len, &ci, &err) == 0, "the certificate parses");
    is_str(ci.serial, "3B65B0A03006F9AB", "serial");
    is_str(ci.subject_cn, "RootCA chuyên dùng Chính phủ G2", "subject CN in UTF-8");
    is_str(ci.subject_o, "Ban Cơ yếu Chính phủ", "subject O in UTF-8");
    is_str(ci.issuer_cn, "RootCA chuyên dùng Chính phủ G2", "a root is its own issuer");
    char buf[26];
    cb_instant_format(ci.not_after, buf);
    /* notAfter=Aug 14 07:36:39 2048 GMT, seven hours later in Vietnam. */
    is_str(buf, "2048-08-14T14:36:39+07:00", "notAfter in UTC+07:00");
    static const unsigned char fp256[32] = {
        0xF0, 0x4B, 0xA4, 0xB4, 0x59, 0xA7, 0xC9, 0xA1, 0xB9, 0x71, 0xAD, 0x9B, 0x1C, 0xB8, 0x33, 0xE6,
        0x95, 0xA8, 0x0C, 0x79, 0xAE, 0xA6, 0x3B, 0x17, 0x4B, 0x66, 0xA7, 0x0E, 0xDF, 0xE2, 0xFD, 0xB8,
    };
    ok(memcmp(ci.sha256, fp256, 32) == 0, "SHA-256 fingerprint equals openssl's");
    cb_cert_info_clear(&ci);

    ok(cb_cert_info_parse(&ctx, b.der, 40, &ci, &err) < 0, "a certificate cut short is an error");
    ok(strstr(err.msg, "not a readable X.509 certificate") != NULL, "with a reason");
    ok(cb_der_cert_serial((const unsigned char *)"\x02\x01\x05", 3) == NULL,
       "bytes that are not a certificate have no serial");

    /* The slices are the elements openssl's own decoder finds. */
    cb_cert_slices sl;
    ok(cb_cert_slice(b.der, b.der_len, &sl) == 0, "the certificate's elements are located");
    const unsigned char *q = b.der;
    X509 *x = d2i_X509(NULL, &q, (long)b.der_len);
    unsigned char *enc = NULL;
    int n = i2d_X509_NAME(X509_get_subject_name(x), &enc);
    ok(n > 0 && (size_t)n == sl.subject_len && memcmp(enc, sl.subject, (size_t)n) == 0,
       "the subject slice is the subject's DER");
    OPENSSL_free(enc);
    enc = NULL;
    n = i2d_re_X509_tbs(x, &enc);
    ok(n > 0 && (size_t)n == sl.tbs_len && memcmp(enc, sl.tbs, (size_t)n) == 0,
       "the tbs slice is the signed part");
    OPENSSL_free(enc);
    ok(sl.exts != NULL && sl.sig_len > 256, "extensions and the signature are found");
    ok(sl.sig_alg_len == sl.tbs_sig_alg_len && memcmp(sl.sig_alg, sl.tbs_sig_alg, sl.sig_alg_len) == 0,
       "the outer and inner signature algorithms are the same bytes");
    X509_free(x);
    ok(cb_cert_slice(b.der, b.der_len - 10, &sl) < 0, "a certificate cut short has no slices");

    ASN1_INTEGER *zero = ASN1_INTEGER_new();
    ASN1_INTEGER_set(zero, 0);
    char *z = cb_asn1_int_hex(zero);
    is_str(z, "00", "serial 0 prints as 00, as openssl does");
    free(z);
    ASN1_INTEGER_set(zero, -255);
    z = cb_asn1_int_hex(zero);
    is_str(z, "-FF", "a negative serial prints with a minus sign");
    free(z);
    ASN1_INTEGER_free(zero);

    cb_certinfo_ctx_free(&ctx);
    cb_pem_scanner_free(&sc);
    fclose(fp);
    return done_testing();
}
