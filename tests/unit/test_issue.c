/* Unit tests for lib/issue.c, and lib/certindex.c on the same fixture:
 * certificate times, a job's results wiped, file names, the index of old
 * certificates by serial, and issuing and renewing against a CA the
 * openssl CLI makes in a directory of the test's own. Expected values come from the openssl CLI (serials,
 * fingerprints, dates and subjects it prints for what we wrote, the
 * PKCS#12 it opens with the PIN) or from a hand computation (the
 * instants, written out with `date -u -d ... +%s`). The old certificates
 * have fixed dates (`openssl ca -startdate/-enddate`), so the test passes
 * on any day. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>

#include "issue.h"
#include "keyload.h"
#include "profile.h"
#include "tap.h"
#include "tmpfiles.h"

/* The CA, and three old certificates it issued on 31/01/2026 10:00 (Vietnam)
 * valid to 31/01/2099 10:00, serials 01, FF and 3B65B0A03006F9AB1234:
 * two in a PEM bundle, one DER, beside a file that is no certificate. */
static const char fixture_sh[] =
    "set -e\n"
    "cd \"$1\"\n"
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \\\n"
    "  -subj '/C=VN/O=Test/CN=Test CA' -days 36500 2>/dev/null\n"
    "printf '[ca]\\ndefault_ca = d\\n[d]\\ndatabase = index.txt\\nnew_certs_dir = .\\n"
    "serial = serial.txt\\ndefault_md = sha256\\npolicy = p\\nunique_subject = no\\n"
    "copy_extensions = copy\\n[p]\\ncommonName = supplied\\n' > ca.cnf\n"
    ": > index.txt\n"
    "mkdir old\n"
    "for s in 01 FF 3B65B0A03006F9AB1234; do\n"
    "  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k$s.key \\\n"
    "    -subj \"/CN=holder $s\" -addext \"subjectAltName=email:h$s@lamdong.gov.vn\" -out r$s.csr 2>/dev/null\n"
    "  echo $s > serial.txt\n"
    "  openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in r$s.csr -out c$s.pem \\\n"
    "    -startdate 20260131030000Z -enddate 20990131030000Z -notext 2>/dev/null\n"
    "done\n"
    "cat c01.pem cFF.pem > old/bundle.pem\n"
    "openssl x509 -in c3B65B0A03006F9AB1234.pem -outform DER -out old/third.der\n"
    "echo 'not a certificate' > old/notes.txt\n";

/* The first line a shell command prints, without its line end. */
static const char *sh_line(const char *fmt, const char *arg)
{
    static char out[4][1024];
    static int k;
    char *b = out[k++ & 3], cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, arg, arg, arg);
    b[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (p != NULL) {
        if (fgets(b, sizeof out[0], p) == NULL)
            b[0] = '\0';
        pclose(p);
    }
    b[strcspn(b, "\n")] = '\0';
    return b;
}

static void put_bytes(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (fp != NULL) {
        fwrite(p, 1, n, fp);
        fclose(fp);
    }
}

static void test_times(void)
{
    const int64_t t = 1769828400;   /* 31/01/2026 03:00 UTC */
    ASN1_TIME *a = ASN1_TIME_new();
    ok(a && ASN1_TIME_set_string(a, "260131030000Z"), "a UTCTime");
    is_int(cb_asn1_time_instant(a), t, "UTCTime 260131030000Z is 1769828400");
    ok(ASN1_TIME_set_string(a, "20990131030000Z"), "a GeneralizedTime");
    is_int(cb_asn1_time_instant(a), 4073511600, "GeneralizedTime 20990131030000Z is 4073511600");
    ASN1_TIME_free(a);
    is_int(cb_asn1_time_instant(NULL), 0, "no time is 0");
}

static void test_clear(void)
{
    cb_issue_job j = {0};
    j.rec = cb_record_new();
    memcpy(j.pin, "ABCDEFGHJKMN", 13);
    j.p12 = OPENSSL_malloc(16);
    memset(j.p12, 0x5A, 16);
    j.p12_len = 16;
    j.subject = strdup("CN=x");
    cb_issue_job_clear(&j);
    char zero[sizeof j.pin] = {0};
    ok(memcmp(j.pin, zero, sizeof zero) == 0, "a cleared job's PIN is wiped");
    ok(j.p12 == NULL && j.p12_len == 0 && j.subject == NULL, "and its PKCS#12 and results are gone");
    ok(j.rec != NULL, "its record is kept for the next job");
    cb_record_free(j.rec);
}

static void test_file_names(void)
{
    char out[16];
    is_int(cb_issue_file_name("LD-2026/001", out, sizeof out), 0, "a request id fits");
    is_str(out, "LD-2026_001", "'/' becomes '_'");
    cb_issue_file_name(".hidden", out, sizeof out);
    is_str(out, "_hidden", "no leading dot");
    cb_issue_file_name("Hồ sơ.1", out, sizeof out);
    /* ồ is 3 bytes in UTF-8, the space 1, ơ 2 */
    is_str(out, "H____s__.1", "each byte outside ASCII letters and digits becomes '_'");
    is_int(cb_issue_file_name("0123456789ABCDEF", out, sizeof out), -1,
           "a name longer than the room is an error, not a shorter name");
}

static void test_index(const char *dir)
{
    cb_err err = {0};
    char path[600];
    cb_certindex *ix = cb_certindex_new();
    snprintf(path, sizeof path, "%s/old", dir);
    ok(cb_certindex_add_path(ix, path, &err) == 0, "a directory of old certificates is read");
    cb_certindex_seal(ix);
    is_int(cb_certindex_count(ix), 3, "the 3 certificates openssl made, the note passed over");

    static const char *const serials[] = {"01", "FF", "3B65B0A03006F9AB1234"};
    for (int i = 0; i < 3; i++) {
        char pem[600], der_path[600];
        snprintf(pem, sizeof pem, "%s/c%s.pem", dir, serials[i]);
        const char *printed = sh_line("openssl x509 -in '%s' -noout -serial | cut -d= -f2", pem);
        const unsigned char *der;
        size_t len;
        ok(cb_certindex_find_der(ix, printed, &der, &len) == 1, "found by the serial openssl prints, %s",
           printed);
        snprintf(der_path, sizeof der_path, "%s/found.der", dir);
        put_bytes(der_path, der, len);
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -outform DER | cmp -s - '%s'", pem, der_path);
        ok(system(cmd) == 0, "and its DER is the certificate's, byte for byte");
    }
    const unsigned char *der;
    size_t len;
    ok(cb_certindex_find_der(ix, "3b:65:b0:a0:30:06:f9:ab:12:34", &der, &len) == 1,
       "lower case with colons finds it too");
    ok(cb_certindex_find_der(ix, "00FF", &der, &len) == 1, "and leading zeros are ignored");
    ok(cb_certindex_find_der(ix, "02", &der, &len) == 0, "a serial not among them is not found");
    ok(cb_certindex_find_der(ix, "not-hex", &der, &len) == 0, "nor is a malformed serial");
    cb_certindex_free(ix);

    ix = cb_certindex_new();
    snprintf(path, sizeof path, "%s/nowhere", dir);
    ok(cb_certindex_add_path(ix, path, &err) < 0 && err.code == EX_NOINPUT, "a missing path is EX_NOINPUT");
    snprintf(path, sizeof path, "%s/old/notes.txt", dir);
    ok(cb_certindex_add_path(ix, path, &err) < 0 && err.code == EX_DATAERR, "a file with no certificate is EX_DATAERR");
    ok(strstr(err.msg, "no certificate") != NULL, "which says so");
    cb_certindex_free(ix);
}

/* A request record under header h, from values in column order. */
static cb_record *request(const cb_header *h, const char *const *v)
{
    cb_record *r = cb_record_new();
    for (size_t i = 0; i < h->n; i++)
        cb_record_set_str(r, (int)i, v[i]);
    r->line = 2;
    return r;
}

static void test_issue(const char *dir, const cb_issuer *is)
{
    cb_header *h = cb_header_new();
    static const char *const cols[] = {"request_id", "full_name", "agency", "province", "email",
                                       "id_number", "position", "csr_file"};
    for (size_t i = 0; i < 8; i++)
        cb_header_add(h, cols[i]);
    cb_issue_cols c;
    cb_issue_cols_find(&c, h);
    /* 31/01/2099 10:00 in Vietnam; a month of validity */
    cb_issue_ctx ctx = {.mode = CB_ISSUE_NEW, .issuer = is, .cols = &c, .key_alg = "ec-p256",
                        .want_p12 = 1, .months = 1, .now = 4073511600};
    static const char *const row[] = {"LD-1", "Nguyễn Văn An", "Sở Nội vụ", "Lâm Đồng",
                                      "an@lamdong.gov.vn", "068090000123", "Chuyên viên", ""};
    cb_issue_job j = {.rec = request(h, row)};
    cb_issue_job_run(&ctx, &j);
    is_int(j.status, CB_JOB_OK, "a request for a new certificate is issued");
    char pem[600], p12[600], pinf[600];
    snprintf(pem, sizeof pem, "%s/new.pem", dir);
    snprintf(p12, sizeof p12, "%s/new.p12", dir);
    snprintf(pinf, sizeof pinf, "%s/pin.txt", dir);
    put_bytes(pem, j.cert_pem, j.cert_pem_len);
    is_str(j.serial, sh_line("openssl x509 -in '%s' -noout -serial | cut -d= -f2", pem),
           "its serial is what openssl prints");
    is_int(strlen(j.serial), 32, "16 bytes of serial, two digits each");
    is_str(j.sha256, sh_line("openssl x509 -in '%s' -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :", pem),
           "its SHA-256 is openssl's fingerprint");
    is_str(sh_line("openssl x509 -in '%s' -noout -startdate", pem), "notBefore=Jan 31 03:00:00 2099 GMT",
           "notBefore is the run's instant");
    is_str(sh_line("openssl x509 -in '%s' -noout -enddate", pem), "notAfter=Feb 28 03:00:00 2099 GMT",
           "notAfter a calendar month later, 31 Jan to 28 Feb");
    is_str(j.not_after, "2099-02-28T10:00:00+07:00", "which the job gives in Vietnam time");
    is_str(sh_line("openssl x509 -in '%s' -noout -subject -nameopt utf8,sep_comma_plus_space | sed 's/^subject=//'", pem),
           "C=VN, ST=Lâm Đồng, O=Sở Nội vụ, title=Chuyên viên, UID=068090000123, CN=Nguyễn Văn An",
           "the subject, in UTF-8, as openssl reads it");
    is_str(sh_line("openssl x509 -in '%s' -noout -ext subjectAltName | tail -1 | tr -d ' '", pem),
           "email:an@lamdong.gov.vn", "the e-mail address is the subjectAltName");
    ok(strlen(j.pin) == 12, "a 12-character PIN");
    put_bytes(p12, j.p12, j.p12_len);
    tmp_put("pin.txt", j.pin);
    is_str(tmp_content(pinf), j.pin, "the PIN, handed to openssl in a file");
    char cmd[2100];
    snprintf(cmd, sizeof cmd,
             "openssl pkcs12 -in '%s' -passin 'file:%s' -nokeys -clcerts 2>/dev/null | "
             "openssl x509 -noout -serial | cut -d= -f2", p12, pinf);
    is_str(sh_line("%s", cmd), j.serial, "openssl opens the PKCS#12 with the PIN: the same certificate");
    snprintf(cmd, sizeof cmd, "openssl pkcs12 -in '%s' -passin pass:WRONGPIN0000 -nokeys >/dev/null 2>&1", p12);
    ok(system(cmd) != 0, "and not with another PIN");
    cb_issue_job_clear(&j);
    cb_record_free(j.rec);

    /* What would be cut short is refused. */
    char longpath[5000];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    const char *csr_row[] = {"LD-2", "Trần Thị Bình", "Sở Nội vụ", "Lâm Đồng", "binh@lamdong.gov.vn",
                             "068090000124", "Chuyên viên", longpath};
    j = (cb_issue_job){.rec = request(h, csr_row)};
    cb_issue_job_run(&ctx, &j);
    ok(j.status == CB_JOB_REJECT && j.field && strcmp(j.field, "csr_file") == 0,
       "a CSR file name too long to hold is a reject, not another file");
    cb_issue_job_clear(&j);
    cb_record_free(j.rec);
    char longname[700];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *name_row[] = {"LD-3", longname, "Sở Nội vụ", "Lâm Đồng", "x@lamdong.gov.vn",
                              "068090000125", "Chuyên viên", ""};
    j = (cb_issue_job){.rec = request(h, name_row)};
    cb_issue_job_run(&ctx, &j);
    ok(j.status == CB_JOB_REJECT && strstr(j.reason, "never issued for a shortened identity"),
       "a name too long is a reject, never a shortened identity");
    cb_issue_job_clear(&j);
    cb_record_free(j.rec);
    cb_header_free(h);
}

static void test_renew(const char *dir, const cb_issuer *is)
{
    cb_err err = {0};
    char path[600];
    cb_certindex *ix = cb_certindex_new();
    snprintf(path, sizeof path, "%s/old", dir);
    cb_certindex_add_path(ix, path, &err);
    cb_certindex_seal(ix);
    cb_header *h = cb_header_new();
    cb_header_add(h, "request_id");
    cb_header_add(h, "old_serial");
    cb_issue_cols c;
    cb_issue_cols_find(&c, h);
    cb_issue_ctx ctx = {.mode = CB_ISSUE_RENEW, .issuer = is, .cols = &c, .old = ix, .months = 12,
                        .now = 1769828400 + 86400};
    const char *row[] = {"G-1", "00:ff"};
    cb_issue_job j = {.rec = request(h, row)};
    cb_issue_job_run(&ctx, &j);
    is_int(j.status, CB_JOB_OK, "a renewal of serial FF is signed");
    is_str(j.old_serial, "FF", "the old serial kept as openssl prints it");
    char pem[600], old[600];
    snprintf(pem, sizeof pem, "%s/renewed.pem", dir);
    snprintf(old, sizeof old, "%s/cFF.pem", dir);
    put_bytes(pem, j.cert_pem, j.cert_pem_len);
    is_str(sh_line("openssl x509 -in '%s' -noout -enddate", pem), "notAfter=Jan 31 03:00:00 2100 GMT",
           "notAfter 12 months after the old one's (31/01/2099)");
    is_str(sh_line("openssl x509 -in '%s' -noout -subject", pem), sh_line("openssl x509 -in '%s' -noout -subject", old),
           "the same subject");
    is_str(sh_line("openssl x509 -in '%s' -noout -pubkey | openssl sha256 -r", pem),
           sh_line("openssl x509 -in '%s' -noout -pubkey | openssl sha256 -r", old), "the same public key");
    ok(strcmp(j.serial, "FF") != 0, "a new serial");
    cb_issue_job_clear(&j);
    cb_record_free(j.rec);

    char longserial[300];
    memset(longserial, '1', sizeof longserial - 1);
    longserial[sizeof longserial - 1] = '\0';
    const char *long_row[] = {"G-2", longserial};
    j = (cb_issue_job){.rec = request(h, long_row)};
    cb_issue_job_run(&ctx, &j);
    ok(j.status == CB_JOB_REJECT && strstr(j.reason, "too long for a serial"),
       "a serial too long to hold is a reject, not a shorter serial");
    cb_issue_job_clear(&j);
    cb_record_free(j.rec);
    cb_header_free(h);
    cb_certindex_free(ix);
}

int main(void)
{
    test_times();
    test_clear();
    test_file_names();
    if (tmp_start("issue") < 0)
        return 1;
    tmp_put("fixture.sh", fixture_sh);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "sh '%s' '%s'", tmp_path("fixture.sh"), tmp_dir);
    int made = system(cmd) == 0;
    ok(made, "openssl makes the CA and the old certificates");
    if (!made)
        return tmp_finish(), done_testing();
    test_index(tmp_dir);

    cb_err err = {0};
    cb_profile prof;
    cb_signing_key key = {0};
    X509 *ca = cb_cert_load(tmp_path("ca.pem"), &err);
    cb_issuer is;
    ok(cb_profile_defaults(&prof, &err) == 0 && ca && cb_key_load(&key, tmp_path("ca.key"), NULL, NULL, &err) == 0,
       "the CA certificate and key load");
    ok(cb_issuer_init(&is, ca, key.pkey, &prof, 0, &err) == 0, "an issuer under the built-in profile");
    test_issue(tmp_dir, &is);
    test_renew(tmp_dir, &is);
    cb_issuer_free(&is);

    cb_signing_key other = {0};
    cb_issuer is2;
    ok(cb_key_load(&other, tmp_path("k01.key"), NULL, NULL, &err) == 0 &&
           cb_issuer_init(&is2, ca, other.pkey, &prof, 0, &err) < 0 && err.code == EX_DATAERR,
       "a key that is not the CA's is refused");
    cb_key_free(&other);
    cb_key_free(&key);
    X509_free(ca);
    cb_profile_free(&prof);
    tmp_finish();
    return done_testing();
}
