/* gen-nightly: a province's (or the nation's) state for the nightly
 * benchmark, made fast: subscriber certificates signed by the sample issuing
 * CA, all sharing one subscriber key (key generation is not what is
 * measured), with Vietnamese names and identity numbers, expiries spread
 * over three years from the as-of day, in bundles of 1,000; and renewal
 * forms (Form 03) for certificates with 61 to 200 days left, 5% of them bad.
 *
 *   gen-nightly CA.pem CA.key AS_OF(YYYY-MM-DD) NCERTS NFORMS OUTDIR FIRST LAST
 *
 * writes OUTDIR/certs/part-NNNNN.pem and OUTDIR/forms/forms-NNNNN.csv for
 * the parts FIRST..LAST-1 (so two processes can share the work). Everything
 * is a function of the certificate's index: the same arguments make the
 * same files. Benchmark-only code: it exits on any error. */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PER_PART 1000

static const char *FAMILY[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ",
                               "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"};
static const char *FAMILY_ASCII[] = {"nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu",
                                     "vo", "dang", "bui", "do", "ho", "ngo", "duong", "ly"};
static const char *MIDDLE[] = {"Văn", "Thị", "Minh", "Ngọc", "Thanh", "Quốc", "Hữu", "Thu"};
static const char *GIVEN[] = {"An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hùng", "Lan",
                              "Linh", "Long", "Mai", "Nam", "Oanh", "Phúc", "Quân", "Sơn", "Tâm",
                              "Thảo", "Trang", "Tuấn", "Vân", "Yến", "Khoa"};
static const char *GIVEN_ASCII[] = {"an", "binh", "cuong", "dung", "giang", "ha", "hai", "hung", "lan",
                                    "linh", "long", "mai", "nam", "oanh", "phuc", "quan", "son", "tam",
                                    "thao", "trang", "tuan", "van", "yen", "khoa"};
static const char *AGENCY[] = {"Sở Nội vụ", "Sở Tài chính", "Sở Y tế", "Sở Giáo dục và Đào tạo",
                               "Sở Xây dựng", "Sở Công Thương", "Sở Tư pháp", "Sở Nông nghiệp và Môi trường",
                               "Sở Khoa học và Công nghệ", "Sở Văn hóa, Thể thao và Du lịch",
                               "Văn phòng UBND tỉnh", "Thanh tra tỉnh"};
#define N(a) (sizeof a / sizeof a[0])

static void die(const char *what)
{
    fprintf(stderr, "gen-nightly: %s\n", what);
    exit(1);
}

static unsigned long mix(unsigned long x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdUL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53UL;
    return x ^ (x >> 33);
}

/* The identity of certificate i. */
struct who {
    char name[96], email[96], cccd[16], phone[16];
    const char *agency;
    int agency_idx;
    long not_after_day;     /* days after as-of */
};

static void who_of(unsigned long i, struct who *w)
{
    unsigned long h = mix(i + 1);
    int f = (int)(h % N(FAMILY)), m = (int)((h >> 8) % N(MIDDLE)), g = (int)((h >> 16) % N(GIVEN));
    snprintf(w->name, sizeof w->name, "%s %s %s", FAMILY[f], MIDDLE[m], GIVEN[g]);
    snprintf(w->email, sizeof w->email, "%s.%s%lu@lamdong.gov.vn", GIVEN_ASCII[g], FAMILY_ASCII[f], i);
    static const char *birth_province[] = {"068", "067", "060", "056", "001", "079"};
    int female = m == 1;    /* "Thị" */
    int year = 60 + (int)((h >> 24) % 40);    /* born 1960-1999 */
    snprintf(w->cccd, sizeof w->cccd, "%s%d%02d%06lu", birth_province[(i / 1000000) % N(birth_province)],
             female ? 1 : 0, year, i % 1000000);
    snprintf(w->phone, sizeof w->phone, "09%08lu", (h >> 32) % 100000000);
    w->agency_idx = (int)((h >> 40) % N(AGENCY));
    w->agency = AGENCY[w->agency_idx];
    w->not_after_day = -30 + (long)((h >> 44) % 1095);
}

static void add_ext(X509 *x, X509 *ca, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (e == NULL || !X509_add_ext(x, e, -1))
        die("extension");
    X509_EXTENSION_free(e);
}

static void name_add(X509_NAME *n, const char *field, const char *v, int type)
{
    if (!X509_NAME_add_entry_by_txt(n, field, type, (const unsigned char *)v, -1, -1, 0))
        die("name");
}

static X509 *make_cert(unsigned long i, const struct who *w, time_t as_of, X509 *ca, EVP_PKEY *ca_key,
                       EVP_PKEY *sub_key)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    BIGNUM *bn = BN_new();
    BN_set_word(bn, 0x7B000000UL + i);
    BN_lshift(bn, bn, 32);
    BN_add_word(bn, mix(i) & 0xffffffffUL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_NAME *n = X509_get_subject_name(x);
    name_add(n, "C", "VN", MBSTRING_ASC);
    name_add(n, "ST", "Lâm Đồng", MBSTRING_UTF8);
    name_add(n, "O", w->agency, MBSTRING_UTF8);
    name_add(n, "CN", w->name, MBSTRING_UTF8);
    char uid[32];
    snprintf(uid, sizeof uid, "CCCD:%s", w->cccd);
    name_add(n, "UID", uid, MBSTRING_UTF8);
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    time_t na = as_of + w->not_after_day * 86400L + 5 * 3600;
    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &(time_t){na - 3 * 365 * 86400L});
    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &na);
    X509_set_pubkey(x, sub_key);
    add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, ca, NID_key_usage, "critical,digitalSignature,nonRepudiation");
    add_ext(x, ca, NID_authority_key_identifier, "keyid:always");
    char san[128];
    snprintf(san, sizeof san, "email:%s", w->email);
    add_ext(x, ca, NID_subject_alt_name, san);
    if (!X509_sign(x, ca_key, EVP_sha256()))
        die("sign");
    return x;
}

static void day_string(time_t t, const char *fmt, char *out, size_t n)
{
    struct tm tm;
    t += 7 * 3600;
    gmtime_r(&t, &tm);
    strftime(out, n, fmt, &tm);
}

/* One form row for certificate k (x its certificate); one in 20 is bad
 * (a phone or an e-mail address that validate-form must reject). */
static void form_row(FILE *fp, unsigned long k, const struct who *w, X509 *x, time_t as_of)
{
    char serial[64], old_na[16], recv[16];
    ASN1_INTEGER *s = X509_get_serialNumber(x);
    BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
    char *hex = BN_bn2hex(bn);
    snprintf(serial, sizeof serial, "%s%s", strlen(hex) % 2 ? "0" : "", hex);
    OPENSSL_free(hex);
    BN_free(bn);
    day_string(as_of + w->not_after_day * 86400L, "%d/%m/%Y", old_na, sizeof old_na);
    day_string(as_of - (long)(k % 3) * 86400L, "%d/%m/%Y", recv, sizeof recv);
    const char *phone = w->phone, *email = w->email;
    if (k % 40 == 7)
        phone = "12345";
    else if (k % 40 == 27)
        email = "someone@gmail.com";
    fprintf(fp, "LD-BENCH-%07lu,03,%s,%s,10/05/2021,Cục Cảnh sát quản lý hành chính về trật tự xã hội,"
                "Chuyên viên,\"%s\",,,,,Lâm Đồng,%s,%s,%s,%s,TOKEN,,Nguyễn Văn Sơn,%s\n",
            k, w->name, w->cccd, w->agency, email, phone, serial, old_na, recv);
}

int main(int argc, char **argv)
{
    if (argc != 9)
        die("usage: gen-nightly CA.pem CA.key AS_OF NCERTS NFORMS OUTDIR FIRST LAST");
    FILE *fp = fopen(argv[1], "r");
    X509 *ca = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
    if (ca == NULL)
        die("cannot read the CA certificate");
    fclose(fp);
    fp = fopen(argv[2], "r");
    EVP_PKEY *ca_key = fp ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) : NULL;
    if (ca_key == NULL)
        die("cannot read the CA key");
    fclose(fp);
    EVP_PKEY *sub_key = EVP_EC_gen("P-256");
    struct tm tm = {0};
    if (strptime(argv[3], "%Y-%m-%d", &tm) == NULL)
        die("bad as-of");
    time_t as_of = timegm(&tm) - 7 * 3600;   /* 00:00 in Vietnam */
    unsigned long ncerts = strtoul(argv[4], NULL, 10), nforms = strtoul(argv[5], NULL, 10);
    unsigned long first = strtoul(argv[7], NULL, 10), last = strtoul(argv[8], NULL, 10);
    /* Forms go to the first certificates of each part with 63-200 days
     * left (about an eighth of them), the same number in every part. */
    unsigned long quota = (nforms * PER_PART + ncerts - 1) / (ncerts ? ncerts : 1);
    char path[4096];
    for (unsigned long p = first; p < last && p * PER_PART < ncerts; p++) {
        snprintf(path, sizeof path, "%s/certs/part-%05lu.pem", argv[6], p);
        FILE *out = fopen(path, "w");
        snprintf(path, sizeof path, "%s/forms/forms-%05lu.csv", argv[6], p);
        FILE *forms = fopen(path, "w");
        if (out == NULL || forms == NULL)
            die("cannot create an output file");
        fputs("request_id,form,full_name,id_number,id_issue_date,id_issue_place,position,agency,"
              "agency_code,org_name,org_address,budget_code,province,email,phone,old_serial,"
              "old_not_after,device_type,carrier,confirmed_by,received_date\n", forms);
        unsigned long nrows = 0;
        for (unsigned long i = p * PER_PART; i < (p + 1) * PER_PART && i < ncerts; i++) {
            struct who w;
            who_of(i, &w);
            X509 *x = make_cert(i, &w, as_of, ca, ca_key, sub_key);
            PEM_write_X509(out, x);
            if (w.not_after_day >= 63 && w.not_after_day <= 200 && nrows < quota) {
                form_row(forms, i, &w, x, as_of);
                nrows++;
            }
            X509_free(x);
        }
        if (fclose(out) != 0 || fclose(forms) != 0)
            die("write error");
        if (nrows == 0) {
            snprintf(path, sizeof path, "%s/forms/forms-%05lu.csv", argv[6], p);
            remove(path);
        }
    }
    return 0;
}
