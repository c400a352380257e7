/* The request-form rules of FORMS.md: see forms.h. The column table below is
 * the one place that knows the canonical names, the Vietnamese labels and
 * the names a reason uses for each column; the checks follow the table's
 * order, so the first column at fault is the first in FORMS.md's order
 * whatever the order of the sheet. */
#include "forms.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#include "csvio.h"
#include "dupset.h"
#include "identifiers.h"
#include "labels.h"
#include "ledgerfile.h"
#include "provinces.h"
#include "serial.h"
#include "vntext.h"

enum col {
    C_REQUEST_ID, C_FORM, C_REQUEST_TYPE, C_SUBJECT_TYPE, C_FULL_NAME, C_BIRTH_DATE,
    C_ID_NUMBER, C_ID_ISSUE_DATE, C_ID_ISSUE_PLACE, C_POSITION, C_AGENCY, C_AGENCY_L1,
    C_AGENCY_L2, C_AGENCY_L3, C_AGENCY_L4, C_AGENCY_CODE, C_ORG_NAME, C_ORG_ADDRESS,
    C_TAX_CODE, C_BUDGET_CODE, C_PROVINCE, C_EMAIL, C_PHONE, C_OLD_SERIAL, C_OLD_NOT_AFTER,
    C_DEVICE_TYPE, C_CARRIER, C_CONFIRMED_BY, C_RECEIVED_DATE, C_VALIDITY_MONTHS,
    C_RENEWAL_COUNT, C_DUE_DATE, C_AGENCY_KEY, C_AGENCY_NAME, C_AGENCY_EMAIL, NCOL
};

typedef struct coldef {
    const char *name;
    const char *labels[4];   /* Vietnamese labels, NULL-terminated */
    const char *en, *vi;     /* how a reason names the column */
} coldef;

static const coldef cols[NCOL] = {
    [C_REQUEST_ID] = {"request_id", {"Mã hồ sơ"}, "request id", "mã hồ sơ"},
    [C_FORM] = {"form", {"Mẫu"}, "form", "mẫu"},
    [C_REQUEST_TYPE] = {"request_type", {NULL}, "request type", "loại yêu cầu"},
    [C_SUBJECT_TYPE] = {"subject_type", {NULL}, "subject type", "loại thuê bao"},
    [C_FULL_NAME] = {"full_name", {"Họ và tên", "Họ tên"}, "full name", "họ và tên"},
    [C_BIRTH_DATE] = {"birth_date", {"Ngày sinh"}, "date of birth", "ngày sinh"},
    [C_ID_NUMBER] = {"id_number",
                     {"Số định danh cá nhân", "Số CCCD", "Số CMND/CCCD/Hộ chiếu"},
                     "personal identification number", "số định danh cá nhân"},
    [C_ID_ISSUE_DATE] = {"id_issue_date", {"Ngày cấp"}, "ID issue date", "ngày cấp"},
    [C_ID_ISSUE_PLACE] = {"id_issue_place", {"Nơi cấp"}, "ID issue place", "nơi cấp"},
    [C_POSITION] = {"position", {"Chức vụ"}, "position", "chức vụ"},
    [C_AGENCY] = {"agency",
                  {"Cơ quan, tổ chức quản lý trực tiếp", "Tên cơ quan, tổ chức công tác"},
                  "agency", "cơ quan, tổ chức quản lý trực tiếp"},
    [C_AGENCY_L1] = {"agency_level_1", {"Tổ chức cấp 1"}, "agency (level 1)", "tổ chức cấp 1"},
    [C_AGENCY_L2] = {"agency_level_2", {"Tổ chức cấp 2"}, "agency (level 2)", "tổ chức cấp 2"},
    [C_AGENCY_L3] = {"agency_level_3", {"Tổ chức cấp 3"}, "agency (level 3)", "tổ chức cấp 3"},
    [C_AGENCY_L4] = {"agency_level_4", {"Tổ chức cấp 4"}, "agency (level 4)", "tổ chức cấp 4"},
    [C_AGENCY_CODE] = {"agency_code", {"Mã định danh cơ quan"}, "agency code",
                       "mã định danh cơ quan"},
    [C_ORG_NAME] = {"org_name", {"Tên cơ quan, tổ chức"}, "organization name",
                    "tên cơ quan, tổ chức"},
    [C_ORG_ADDRESS] = {"org_address", {"Địa chỉ"}, "organization address", "địa chỉ"},
    [C_TAX_CODE] = {"tax_code", {"Mã số thuế"}, "tax code", "mã số thuế"},
    [C_BUDGET_CODE] = {"budget_code", {"Mã quan hệ ngân sách"}, "budget relation code",
                       "mã quan hệ ngân sách"},
    [C_PROVINCE] = {"province", {"Tỉnh/Thành phố"}, "province", "tỉnh/thành phố"},
    [C_EMAIL] = {"email", {"Địa chỉ thư điện tử công vụ"}, "official e-mail address",
                 "địa chỉ thư điện tử công vụ"},
    [C_PHONE] = {"phone", {"Số điện thoại di động"}, "mobile phone number",
                 "số điện thoại di động"},
    [C_OLD_SERIAL] = {"old_serial", {"Serial CTS cũ", "Số hiệu chứng thư cũ"},
                      "serial of the certificate to renew", "số hiệu chứng thư cũ"},
    [C_OLD_NOT_AFTER] = {"old_not_after", {NULL}, "expiry of the certificate to renew",
                         "ngày hết hạn của chứng thư cũ"},
    [C_DEVICE_TYPE] = {"device_type", {"Loại thiết bị"}, "device type", "loại thiết bị"},
    [C_CARRIER] = {"carrier", {"Nhà mạng"}, "mobile carrier", "nhà mạng"},
    [C_CONFIRMED_BY] = {"confirmed_by", {"Người xác nhận (thủ trưởng cơ quan)"},
                        "confirmation by the head of the agency",
                        "người xác nhận (thủ trưởng cơ quan)"},
    [C_RECEIVED_DATE] = {"received_date", {"Ngày tiếp nhận"}, "date received",
                         "ngày tiếp nhận"},
    [C_VALIDITY_MONTHS] = {"validity_months", {NULL}, "validity asked for",
                           "thời hạn đề nghị"},
    [C_RENEWAL_COUNT] = {"renewal_count", {NULL}, "renewal count", "số lần gia hạn"},
    [C_DUE_DATE] = {"due_date", {NULL}, "due date", "hạn giải quyết"},
    [C_AGENCY_KEY] = {"agency_key", {NULL}, "agency key", "khóa cơ quan"},
    [C_AGENCY_NAME] = {"agency_name", {NULL}, "agency's official name", "tên chính thức của cơ quan"},
    [C_AGENCY_EMAIL] = {"agency_email", {NULL}, "agency's e-mail address", "thư điện tử của cơ quan"},
};

enum { RT_NONE, RT_ISSUE, RT_RENEW };
enum { ST_NONE, ST_INDIVIDUAL, ST_ORGANIZATION };

/* The hash of the small caches below. */
/* Eight bytes a step: the caches hash every name of every row. */
static uint64_t khash(const char *s, size_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001B3ull;
        h ^= h >> 31;
    }
    for (; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001B3ull;
    }
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return h;
}

/* A certificate of --certs: only what the checks compare, the name keys
 * and the identity number as keyed 64-bit hashes. Unequal hashes prove
 * unequal values, so a reject for a name or identity that does not match
 * the certificate is always right; equal hashes of unequal values (odds of
 * 2^-64 a comparison, under a key drawn at random each run) would let one
 * pass. The serial, which picks the certificate, is kept whole (lib/dupset). */
typedef struct certrow {
    uint64_t cn, o, uid;
    cb_date expiry;
    uint8_t has_expiry, revoked, renewed, has_uid;
} certrow;

/* The kinds of key of the ledger's set. */
enum { LEDGER_RENEWED, LEDGER_PRODUCT };

/* A small cache of cleaned values to their keys: agency and province names
 * repeat from row to row, and their keys cost a Unicode pass each. */
#define KCACHE 64
typedef struct kcache_ent {
    char *in;
    size_t inlen;
    uint64_t h;         /* khash of in, compared before its bytes */
    char *out;          /* owned, or NULL for "no match" */
    size_t outlen;      /* of the clean cache: strlen(out) */
    int flag;           /* of the clean cache: out has control characters */
    int same;           /* of the clean cache: out is in, already clean */
} kcache_ent;

struct cb_forms {
    cb_forms_opts o;
    char *domains;
    cb_header *out_h, *rej_h;
    int in_idx[NCOL];     /* column in the input (and output) record, or -1 */
    int out_idx[NCOL];    /* column in the output record, or -1 */
    int bound;
    cb_dupset *seen;      /* request ids, persons, old serials of the valid rows */
    char **inputs;        /* names of the inputs seen, for "line N of FILE" */
    size_t ninputs;
    cb_dupset *certs;     /* serial key -> index in certv */
    certrow *certv;
    size_t ncert, certcap;
    uint8_t hkey[16];     /* of certrow's hashes */
    cb_dupset *ledger;    /* serials already renewed, serials made by a renewal */
    kcache_ent agency_cache[KCACHE], province_cache[KCACHE];
    kcache_ent registry_cache[KCACHE];   /* agency name -> registry entry (not owned) */
    char *vals[NCOL];     /* the row being checked: cleaned values */
    char **warnings;      /* about the bound header */
    size_t nwarnings;
    char *cleanbuf[NCOL];  /* the row's cleaned values that are not the input's */
    size_t cleancap[NCOL];
    kcache_ent clean_cache[KCACHE];   /* value -> cb_text_clean of it, NULL when not UTF-8 */
};

/* ---- header ---- */

static int label_is(const char *key, const char *label)
{
    char *k = cb_text_key(label);
    int eq = k != NULL && strcmp(k, key) == 0;
    free(k);
    return eq;
}

static int canonical_col(const char *label)
{
    char *key = cb_text_key(label);
    if (key == NULL)
        return -1;
    int found = -1;
    for (int c = 0; c < NCOL && found < 0; c++) {
        if (strcmp(key, cols[c].name) == 0)
            found = c;
        for (int j = 0; found < 0 && j < 4 && cols[c].labels[j]; j++)
            if (label_is(key, cols[c].labels[j]))
                found = c;
    }
    free(key);
    /* the labels the programs write in workbooks ("Loại yêu cầu") */
    const char *name = found < 0 ? cb_label_canonical(label) : NULL;
    for (int c = 0; name && c < NCOL && found < 0; c++)
        if (strcmp(cols[c].name, name) == 0)
            found = c;
    return found;
}

const char *cb_forms_canonical(const char *label)
{
    int c = canonical_col(label);
    return c < 0 ? NULL : cols[c].name;
}

/* ---- header labels the forms do not know ----
 *
 * A label that is nearly a known one ("Số điện thoại" for "Số điện thoại
 * di động", "recieved_date") is most likely that column mistyped: the
 * clerk is told once, with the nearest labels, rather than finding
 * "phone is missing" on every row. Near means within a quarter of the
 * known label's characters in edits, or the first words of it (two words
 * at least), compared as header keys. A label that starts with a known
 * one says more than it ("Địa chỉ thường trú", "Mã hồ sơ cũ"): another
 * column, not a typo. Nor is a label near a column the header already
 * has ("Số điện thoại" beside "Số điện thoại di động"): that column is
 * there, so the clerk's one is extra, like "Ghi chú" or "STT". */

#define NEAR_MAX 100   /* characters compared; longer labels are not near */

static size_t decode(const char *s, utf8proc_int32_t *out)
{
    size_t n = 0;
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s);
    while (len > 0 && n < NEAR_MAX) {
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, len, &out[n]);
        if (k <= 0)
            break;
        s += k;
        len -= k;
        n++;
    }
    return n;
}

static size_t edit_distance(const utf8proc_int32_t *a, size_t na, const utf8proc_int32_t *b, size_t nb)
{
    size_t row[NEAR_MAX + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* The first words of longer: at least two, ending at a space or '/'. */
static int word_prefix(const char *shorter, const char *longer)
{
    size_t n = strlen(shorter);
    return n > 0 && strchr(shorter, ' ') != NULL && strncmp(shorter, longer, n) == 0 &&
           (longer[n] == ' ' || longer[n] == '/');
}

/* How near key is to the known key k: 0 not near, else higher is nearer. */
static size_t nearness(const char *key, const char *k)
{
    utf8proc_int32_t a[NEAR_MAX], b[NEAR_MAX];
    size_t na = decode(key, a), nb = decode(k, b);
    if (word_prefix(key, k))
        return NEAR_MAX;
    size_t d = edit_distance(a, na, b, nb);
    return d > 0 && d * 4 <= nb ? NEAR_MAX - d : 0;
}

/* "'Số điện thoại di động' (phone)" for the three labels nearest to label
 * of the known columns the header lacks, or "" when none is near. */
static void near_labels(const cb_forms *f, const char *label, char *out, size_t outlen)
{
    char *key = cb_text_key(label);
    size_t best[3] = {0, 0, 0};
    const char *name[3] = {NULL, NULL, NULL};
    int col[3] = {0, 0, 0};
    out[0] = '\0';
    for (int c = 0; key && c < NCOL; c++) {
        for (int j = -1; f->in_idx[c] < 0 && j < 4 && (j < 0 || cols[c].labels[j]); j++) {
            const char *cand = j < 0 ? cols[c].name : cols[c].labels[j];
            char *ck = cb_text_key(cand);
            size_t score = ck ? nearness(key, ck) : 0;
            free(ck);
            for (int k = 0; score > 0 && k < 3; k++) {
                if (score > best[k]) {
                    for (int m = 2; m > k; m--)
                        best[m] = best[m - 1], name[m] = name[m - 1], col[m] = col[m - 1];
                    best[k] = score, name[k] = cand, col[k] = c;
                    break;
                }
            }
        }
    }
    free(key);
    size_t len = 0;
    for (int k = 0; k < 3 && name[k] && len < outlen; k++)
        len += (size_t)snprintf(out + len, outlen - len, "%s'%s'%s%s%s", k ? ", " : "", name[k],
                                name[k] == cols[col[k]].name ? "" : " (",
                                name[k] == cols[col[k]].name ? "" : cols[col[k]].name,
                                name[k] == cols[col[k]].name ? "" : ")");
}

/* One warning for each input label that is no known column but near one. */
static int header_warnings(cb_forms *f, const cb_header *in)
{
    for (size_t i = 0; i < in->n; i++) {
        char near[600], msg[1024];
        if (canonical_col(in->names[i]) >= 0)
            continue;
        near_labels(f, in->names[i], near, sizeof near);
        if (near[0] == '\0')
            continue;
        snprintf(msg, sizeof msg,
                 f->o.lang == CB_LANG_VI
                     ? "cột '%s' không phải cột nào của mẫu đơn (gần nhất: %s): giữ nguyên, không kiểm tra"
                     : "column '%s' is not a column of the forms (nearest: %s): passed through unchecked",
                 in->names[i], near);
        char **p = realloc(f->warnings, (f->nwarnings + 1) * sizeof *p);
        if (p == NULL || (p[f->nwarnings] = strdup(msg)) == NULL) {
            f->warnings = p ? p : f->warnings;
            return -1;
        }
        f->warnings = p;
        f->nwarnings++;
    }
    return 0;
}

const char *cb_forms_warning(const cb_forms *f, size_t i)
{
    return i < f->nwarnings ? f->warnings[i] : NULL;
}

cb_forms *cb_forms_new(const cb_forms_opts *opts, cb_err *err)
{
    cb_forms *f = calloc(1, sizeof *f);
    if (f == NULL) {
        cb_err_sys(err, EX_OSERR, "out of memory");
        return NULL;
    }
    f->o = *opts;
    f->domains = strdup(opts->official_domains ? opts->official_domains : "gov.vn");
    if (f->domains == NULL) {
        free(f);
        cb_err_sys(err, EX_OSERR, "out of memory");
        return NULL;
    }
    f->o.official_domains = f->domains;
    if ((f->seen = cb_dupset_new()) == NULL || (f->certs = cb_dupset_new()) == NULL ||
        (f->ledger = cb_dupset_new()) == NULL) {
        cb_dupset_free(f->seen);
        cb_dupset_free(f->certs);
        cb_dupset_free(f->ledger);
        free(f->domains);
        free(f);
        cb_err_sys(err, EX_OSERR, "out of memory");
        return NULL;
    }
    /* a fixed key would do as well but for sheets made to collide */
    if (getentropy(f->hkey, sizeof f->hkey) != 0)
        memset(f->hkey, 0x5A, sizeof f->hkey);
    for (int c = 0; c < NCOL; c++)
        f->in_idx[c] = f->out_idx[c] = -1;
    return f;
}

void cb_forms_free(cb_forms *f)
{
    if (f == NULL)
        return;
    free(f->domains);
    cb_header_free(f->out_h);
    cb_header_free(f->rej_h);
    cb_dupset_free(f->seen);
    for (size_t i = 0; i < f->ninputs; i++)
        free(f->inputs[i]);
    free(f->inputs);
    cb_dupset_free(f->certs);
    free(f->certv);
    cb_dupset_free(f->ledger);
    for (int i = 0; i < KCACHE; i++) {
        free(f->agency_cache[i].in);
        free(f->agency_cache[i].out);
        free(f->clean_cache[i].in);
        free(f->clean_cache[i].out);
        free(f->province_cache[i].in);
        free(f->registry_cache[i].in);
    }
    for (int c = 0; c < NCOL; c++)
        free(f->cleanbuf[c]);
    for (size_t i = 0; i < f->nwarnings; i++)
        free(f->warnings[i]);
    free(f->warnings);
    free(f);
}

int cb_forms_bind(cb_forms *f, const cb_header *in, cb_err *err)
{
    cb_header *out = cb_header_new();
    if (out == NULL)
        return cb_err_sys(err, EX_OSERR, "out of memory");
    for (int c = 0; c < NCOL; c++)
        f->in_idx[c] = f->out_idx[c] = -1;
    for (size_t i = 0; i < in->n; i++) {
        int c = canonical_col(in->names[i]), named = c;
        if (c == C_DUE_DATE || c == C_AGENCY_KEY || c == C_AGENCY_NAME || c == C_AGENCY_EMAIL)
            c = -1;   /* computed: a column of that name is overwritten, not read */
        if (c >= 0 && f->in_idx[c] >= 0) {
            cb_header_free(out);
            return cb_err_set(err, EX_DATAERR,
                              "columns '%s' and '%s' both mean %s: keep one of them",
                              in->names[f->in_idx[c]], in->names[i], cols[c].name);
        }
        /* a computed column keeps its canonical name, to be overwritten */
        const char *name = named >= 0 ? cols[named].name : in->names[i];
        if (cb_header_find(out, name) >= 0) {
            cb_header_free(out);
            return cb_err_set(err, EX_DATAERR, "column '%s' appears twice in the header", name);
        }
        if (cb_header_add(out, name) < 0) {
            cb_header_free(out);
            return cb_err_sys(err, EX_OSERR, "out of memory");
        }
        if (c >= 0)
            f->in_idx[c] = f->out_idx[c] = (int)i;
    }
    cb_header *rej = cb_header_copy(out);
    if (rej == NULL) {
        cb_header_free(out);
        return cb_err_sys(err, EX_OSERR, "out of memory");
    }
    static const int computed[] = {C_AGENCY, C_REQUEST_TYPE, C_SUBJECT_TYPE, C_RECEIVED_DATE,
                                   C_DUE_DATE, C_AGENCY_KEY, C_AGENCY_NAME, C_AGENCY_EMAIL};
    /* agency_name and agency_email come from the registry: without one
     * the output is what it was before there were registries */
    size_t ncomputed = sizeof computed / sizeof computed[0] - (f->o.agencies ? 0 : 2);
    for (size_t i = 0; i < ncomputed; i++) {
        int c = computed[i];
        /* agency is computed only from the "Tổ chức cấp N" columns */
        if (c == C_AGENCY && (f->in_idx[C_AGENCY] >= 0 ||
                              (f->in_idx[C_AGENCY_L1] < 0 && f->in_idx[C_AGENCY_L2] < 0 &&
                               f->in_idx[C_AGENCY_L3] < 0 && f->in_idx[C_AGENCY_L4] < 0)))
            continue;
        int k = cb_header_ensure(out, cols[c].name);
        if (k < 0) {
            cb_header_free(out);
            cb_header_free(rej);
            return cb_err_sys(err, EX_OSERR, "out of memory");
        }
        f->out_idx[c] = k;
    }
    cb_header_free(f->out_h);
    cb_header_free(f->rej_h);
    f->out_h = out;
    f->rej_h = rej;
    f->bound = 1;
    if (header_warnings(f, in) < 0)
        return cb_err_sys(err, EX_OSERR, "out of memory");
    return 0;
}

const cb_header *cb_forms_out_header(const cb_forms *f)
{
    return f->out_h;
}

const cb_header *cb_forms_reject_header(const cb_forms *f)
{
    return f->rej_h;
}

/* ---- helpers ---- */

/* The identity number in a certificate's UID ("CCCD:001234567890" -> the
 * part after the last colon), upper-case. */
static char *uid_norm(const char *uid)
{
    const char *c = strrchr(uid, ':');
    char *s = strdup(c ? c + 1 : uid);
    if (s == NULL)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; s[i]; i++)
        if (s[i] != ' ')
            s[j++] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    s[j] = '\0';
    return s;
}

/* A date, or the date in UTC+07:00 of an instant `YYYY-MM-DDTHH:MM:SS` with
 * `Z` or a `+HH:MM`/`-HH:MM` offset (scan-expiry's not_after). */
static int parse_date_or_instant(const char *s, cb_date *out)
{
    if (strlen(s) > 10 && s[10] == 'T') {
        int y, mo, d, h, mi, se, oh = 0, om = 0, n = 0;
        char sign = 'Z';
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
            !cb_date_is_valid_ymd(y, mo, d) || h > 23 || mi > 59 || se > 60)
            return -1;
        const char *z = s + n;
        if (strcmp(z, "Z") != 0) {
            int m = 0;
            if (sscanf(z, "%c%2d:%2d%n", &sign, &oh, &om, &m) != 3 || z[m] != '\0' ||
                (sign != '+' && sign != '-'))
                return -1;
        }
        int64_t t = (int64_t)cb_date_from_ymd(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
        int64_t off = (int64_t)(oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
        *out = cb_date_of_instant(t - off);
        return 0;
    }
    return cb_date_parse(s, out);
}

static int all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Letters (Vietnamese included), combining marks and spaces; the number of
 * characters in *nchars. */
static int name_chars_ok(const char *s, size_t *nchars)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t n = 0;
    while (*p) {
        if (*p < 0x80) {   /* of ASCII, the letters are A-Z and a-z: no table needed */
            n++;
            if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') {
                p++;
                continue;
            }
            if (*p++ == ' ')
                continue;
            *nchars = n;
            return 0;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);
        if (k <= 0)
            return 0;
        p += k;
        n++;
        if (cp == ' ')
            continue;
        switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
            break;
        default:
            *nchars = n;
            return 0;
        }
    }
    *nchars = n;
    return 1;
}

/* Already what cb_text_clean would make of it: ASCII, no white space at the
 * ends, no run of two spaces, no tab or line break. Most values are. */
static int ascii_clean(const char *s, size_t len)
{
    if (len == 0)
        return 1;
    if (s[0] == ' ' || s[len - 1] == ' ')
        return 0;
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {   /* eight bytes a step while none is special */
        uint64_t w, sp, spaces;
        memcpy(&w, s + i, 8);
        sp = w ^ (ones * ' ');
        spaces = (sp - ones) & ~sp & high;   /* exact while no byte is 0x80 or more */
        if ((w & high) || ((w - ones * 0x20) & ~w & high) || (spaces & (spaces >> 8)) ||
            ((spaces >> 63) && s[i + 8] == ' '))
            break;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || (c < 0x20 && c != 0) || (c == ' ' && s[i + 1] == ' '))
            return 0;
    }
    return 1;
}

static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return 1;
    return 0;
}

/* ---- the reasons ---- */

typedef struct verdict_ctx {
    cb_forms *f;
    cb_forms_verdict *v;
    size_t len;
    int first_col;
    int nbad;
} verdict_ctx;

/* Adds one reason, given in both languages (same arguments). */
static void bad(verdict_ctx *k, int col, const char *en, const char *vi, ...)
{
    va_list ap;
    va_start(ap, vi);
    if (k->nbad == 0 || (col >= 0 && (k->first_col < 0 || col < k->first_col)))
        k->first_col = col;
    if (k->len + 3 < sizeof k->v->reason) {
        if (k->nbad > 0) {
            memcpy(k->v->reason + k->len, "; ", 3);
            k->len += 2;
        }
        vsnprintf(k->v->reason + k->len, sizeof k->v->reason - k->len,
                  k->f->o.lang == CB_LANG_VI ? vi : en, ap);
        k->len += strlen(k->v->reason + k->len);
    }
    k->nbad++;
    va_end(ap);
}

static const char *cname(const verdict_ctx *k, int col)
{
    return k->f->o.lang == CB_LANG_VI ? cols[col].vi : cols[col].en;
}

static void missing(verdict_ctx *k, int col)
{
    bad(k, col, "%s is missing", "thiếu %s", cname(k, col));
}

/* ---- loading --certs and --ledger ---- */

static int open_csv(const char *path, cb_csv_reader **r, cb_err *err)
{
    char *files[1] = {(char *)path};
    *r = cb_csv_reader_open(files, 1, 0, err);
    return *r ? 0 : -1;
}

/* The columns of scan-expiry's output that --certs reads, or -1. */
typedef struct cert_cols {
    int serial, cn, o, uid, exp, na, status, ren;
} cert_cols;

static uint64_t value_hash(const cb_forms *f, const char *s)
{
    return cb_siphash24(f->hkey, s, strlen(s));
}

/* The name key's hash of column i (0 when absent); -1 when not UTF-8. */
static int key_hash_of(const cb_forms *f, const cb_record *rec, int i, uint64_t *h)
{
    char *k = cb_text_key(i >= 0 ? cb_record_get(rec, i) : "");
    if (k == NULL)
        return -1;
    *h = value_hash(f, k);
    free(k);
    return 0;
}

/* One certificate of --certs made into a certrow; -1 with err. */
static int cert_row(const cb_forms *f, const cb_record *rec, const cert_cols *ci, const char *path,
                    certrow *c, cb_err *err)
{
    memset(c, 0, sizeof *c);
    char *uid = uid_norm(ci->uid >= 0 ? cb_record_get(rec, ci->uid) : "");
    if (uid != NULL) {
        c->uid = value_hash(f, uid);
        c->has_uid = *uid != '\0';
    }
    free(uid);
    if (key_hash_of(f, rec, ci->cn, &c->cn) < 0 || key_hash_of(f, rec, ci->o, &c->o) < 0 || uid == NULL)
        return cb_err_set(err, EX_DATAERR, "%s:%ld: a name is not UTF-8 text", path, rec->line);
    const char *e = ci->exp >= 0 ? cb_record_get(rec, ci->exp) : "";
    if (*e == '\0' && ci->na >= 0)
        e = cb_record_get(rec, ci->na);
    if (*e != '\0') {
        if (parse_date_or_instant(e, &c->expiry) < 0)
            return cb_err_set(err, EX_DATAERR, "%s:%ld: '%s' is not a date", path, rec->line, e);
        c->has_expiry = 1;
    }
    c->revoked = ci->status >= 0 && strcmp(cb_record_get(rec, ci->status), "revoked") == 0;
    c->renewed = ci->ren >= 0 && atol(cb_record_get(rec, ci->ren)) > 0;
    return 0;
}

/* The certificate c of serial key, unless one of that serial came first. */
static int cert_add(cb_forms *f, const char *key, const certrow *c, cb_err *err)
{
    int in;
    long first;
    if (cb_dupset_find(f->certs, 0, key, strlen(key), &in, &first))
        return 0;
    if (f->ncert == f->certcap) {
        size_t nc = f->certcap ? 2 * f->certcap : 256;
        certrow *p = realloc(f->certv, nc * sizeof *p);
        if (p == NULL)
            return cb_err_sys(err, EX_OSERR, "out of memory");
        f->certv = p;
        f->certcap = nc;
    }
    const char *keys[CB_DUPSET_KINDS] = {key};
    if (cb_dupset_add(f->certs, keys, 0, (long)f->ncert, err) < 0)
        return -1;
    f->certv[f->ncert++] = *c;
    return 0;
}

int cb_forms_load_certs(cb_forms *f, const char *path, cb_err *err)
{
    cb_csv_reader *r;
    if (open_csv(path, &r, err) < 0)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    cert_cols ci = {cb_header_find(h, "serial"), cb_header_find(h, "subject_cn"),
                    cb_header_find(h, "subject_o"), cb_header_find(h, "uid"),
                    cb_header_find(h, "expiry_date"), cb_header_find(h, "not_after"),
                    cb_header_find(h, "status"), cb_header_find(h, "renewal_count")};
    if (ci.serial < 0 && !cb_csv_reader_empty(r)) {   /* an empty file is zero certificates */
        cb_csv_reader_close(r);
        return cb_err_set(err, EX_DATAERR, "%s: no 'serial' column: not scan-expiry output", path);
    }
    cb_record *rec = cb_record_new();
    int rc = 0, st;
    while (rec != NULL && (st = cb_csv_reader_next(r, rec, err)) != CB_CSV_EOF) {
        if (st != CB_CSV_RECORD) {
            if (st == CB_CSV_MALFORMED)
                cb_err_set(err, EX_DATAERR, "%s:%ld: %s", path, rec->line, err->msg);
            rc = -1;
            break;
        }
        char key[256];
        certrow c;
        if (cb_serial_key(cb_record_get(rec, ci.serial), key, sizeof key) < 0) {
            rc = cb_err_set(err, EX_DATAERR, "%s:%ld: serial '%s' is not hexadecimal", path,
                            rec->line, cb_record_get(rec, ci.serial));
            break;
        }
        if ((rc = cert_row(f, rec, &ci, path, &c, err)) < 0 || (rc = cert_add(f, key, &c, err)) < 0)
            break;
    }
    if (rec == NULL)
        rc = cb_err_sys(err, EX_OSERR, "out of memory");
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

/* The value of key as kind in d (the line or index added with it), or -1. */
static long set_get(cb_dupset *d, int kind, const char *key)
{
    int in;
    long v;
    return cb_dupset_find(d, kind, key, strlen(key), &in, &v) ? v : -1;
}

/* Adds key as kind unless there: the first line stays. */
static int ledger_put(cb_forms *f, int kind, const char *key, long line, cb_err *err)
{
    if (set_get(f->ledger, kind, key) >= 0)
        return 0;
    const char *keys[CB_DUPSET_KINDS] = {NULL, NULL, NULL};
    keys[kind] = key;
    return cb_dupset_add(f->ledger, keys, 0, line, err);
}

/* The ledger being read into the set. */
typedef struct ledger_load {
    cb_forms *f;
    const char *path;
} ledger_load;

/* The serial s of column col, at line, as a key of kind. */
static int ledger_serial(ledger_load *l, int kind, const char *col, const char *s, long line,
                         cb_err *err)
{
    char key[256];
    if (cb_serial_key(s, key, sizeof key) < 0)
        return cb_err_set(err, EX_DATAERR, "%s:%ld: %s '%s' is not hexadecimal", l->path, line,
                          col, s);
    return ledger_put(l->f, kind, key, line, err);
}

/* As sign-batch reads its ledger: only renewals count. */
static int ledger_row(void *ctx, const char *const *fl, long line, cb_err *err)
{
    const char *type = fl[0], *old = fl[1], *serial = fl[2];
    if (strcmp(type, "renew") != 0)
        return 0;
    if (*old != '\0' && ledger_serial(ctx, LEDGER_RENEWED, "old_serial", old, line, err) < 0)
        return -1;
    if (*serial != '\0' && ledger_serial(ctx, LEDGER_PRODUCT, "serial", serial, line, err) < 0)
        return -1;
    return 0;
}

/* The columns sign-batch itself needs to read its ledger: a file without
 * request_type is not one. An empty file is nothing issued yet; a missing
 * one is a missing input, as to the other programs reading it. */
int cb_forms_load_ledger(cb_forms *f, const char *path, cb_err *err)
{
    static const char *const cols[] = {"request_type", "old_serial", "serial"};
    ledger_load l = {f, path};
    return cb_ledger_file_read(path, "sign-batch ledger", cols, 3, 0, CB_LEDGER_EMPTY_OK, ledger_row,
                               &l, err);
}

/* ---- the check ---- */

/* Two ways a set, the newer first: with one, two of a sheet's few
 * provinces that met in a slot were computed again on every row. */
static kcache_ent *kcache_set(kcache_ent *cache, uint64_t h)
{
    return &cache[(size_t)h % (KCACHE / 2) * 2];
}

/* in[0..len), whose khash is h. */
static kcache_ent *kcache_find(kcache_ent *cache, const char *in, size_t len, uint64_t h)
{
    kcache_ent *e = kcache_set(cache, h);
    for (int w = 0; w < 2; w++)
        if (e[w].in != NULL && e[w].h == h && e[w].inlen == len && memcmp(e[w].in, in, len) == 0)
            return &e[w];
    return NULL;
}

static const char *kcache_get(kcache_ent *cache, const char *in, int *hit)
{
    kcache_ent *e = kcache_find(cache, in, strlen(in), khash(in, strlen(in)));
    *hit = e != NULL;
    return e ? e->out : NULL;
}

/* The entry made first of its set for in[0..len) (khash h), or NULL when
 * out of memory. */
static kcache_ent *kcache_put_n(kcache_ent *cache, const char *in, size_t len, uint64_t h,
                                char *out, int owned)
{
    kcache_ent *e = kcache_set(cache, h);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, in, len + 1);
    free(e[1].in);
    if (owned)
        free(e[1].out);
    e[1] = e[0];
    e[0] = (kcache_ent){.in = copy, .inlen = len, .h = h, .out = out};
    return &e[0];
}

static int kcache_put(kcache_ent *cache, const char *in, char *out, int owned)
{
    size_t len = strlen(in);
    return kcache_put_n(cache, in, len, khash(in, len), out, owned) ? 0 : -1;
}

static const char *province_of(cb_forms *f, const char *name)
{
    int hit;
    const char *p = kcache_get(f->province_cache, name, &hit);
    if (hit)
        return p;
    p = cb_province_match(name);
    kcache_put(f->province_cache, name, (char *)p, 0);
    return p;
}

static const char *agency_key_of(cb_forms *f, const char *name)
{
    int hit;
    const char *p = kcache_get(f->agency_cache, name, &hit);
    if (hit)
        return p;
    char *k = cb_agency_key(name);
    if (k == NULL)
        return NULL;
    if (kcache_put(f->agency_cache, name, k, 1) < 0) {
        free(k);
        return NULL;
    }
    return k;
}

static int input_index(cb_forms *f, const char *input)
{
    if (f->ninputs > 0 && strcmp(f->inputs[f->ninputs - 1], input) == 0)
        return (int)f->ninputs - 1;
    for (size_t i = 0; i < f->ninputs; i++)
        if (strcmp(f->inputs[i], input) == 0)
            return (int)i;
    char **p = realloc(f->inputs, (f->ninputs + 1) * sizeof *p);
    if (p == NULL)
        return -1;
    f->inputs = p;
    if ((p[f->ninputs] = strdup(input)) == NULL)
        return -1;
    return (int)f->ninputs++;
}

/* The kinds of key of the duplicate checks. */
enum { SEEN_ID, SEEN_PERSON, SEEN_SERIAL };

static void where(cb_forms *f, long line, int in, int cur_input, char *buf, size_t len)
{
    if (in == cur_input || (size_t)in >= f->ninputs)
        snprintf(buf, len, "%ld", line);
    else
        snprintf(buf, len, f->o.lang == CB_LANG_VI ? "%ld của %s" : "%ld of %s", line,
                 f->inputs[in]);
}

/* Sets out's field for col (if the output has it). */
static int put(cb_forms *f, cb_record *out, int col, const char *s)
{
    if (f->out_idx[col] < 0)
        return 0;
    return cb_record_set_str(out, f->out_idx[col], s);
}

static const char *val(const cb_forms *f, int col)
{
    return f->vals[col] ? f->vals[col] : "";
}

/* One row under check: what the rules find, passed from one to the next.
 * The rules run in the order of the form (the reasons are joined in that
 * order): the values, what is asked for, the request, the person, the
 * agency, the contact, the renewal, the device and the confirmation, the
 * validity asked for; then commit. Each returns 0, or -1 with err when
 * memory ran out; what is wrong with the row goes to the verdict. */
typedef struct row {
    cb_forms *f;
    verdict_ctx k;
    const cb_record *in;
    cb_record *out;
    int cur_input, vi;
    int form, indiv, org, issue, renew;     /* what is asked for */
    cb_date received, birth, issued, expiry;
    int have_received, have_birth, have_issued, have_expiry;
    const certrow *cert;                    /* old_serial's, from --certs */
    const cb_agency_entry *agency;          /* the registry's, with --agencies */
    int has_person, has_serial;             /* keys the row takes when valid */
    /* the buffers last: row_init clears only what comes before them */
    char serial[256], skey[256];            /* old_serial displayed, and its key */
    char wbuf[600];
} row;

/* A row to check, without clearing its 1 KB of buffers (a tenth of the
 * time of a row's own checks). */
static void row_init(row *r, cb_forms *f, const cb_record *in, cb_record *out,
                     cb_forms_verdict *v, const char *input)
{
    memset(r, 0, offsetof(row, serial));
    r->f = f;
    r->k.f = f;
    r->k.v = v;
    r->k.first_col = -1;
    r->in = in;
    r->out = out;
    r->cur_input = input_index(f, input);
    r->vi = f->o.lang == CB_LANG_VI;
    r->serial[0] = r->skey[0] = r->wbuf[0] = '\0';
}

static int oom(cb_err *err)
{
    return cb_err_sys(err, EX_OSERR, "out of memory");
}

/* The cache's entry for s (len bytes), its out cb_text_clean of s (NULL when
 * s is not UTF-8) and its flag whether that has control characters:
 * names, places and agencies repeat from row to row, and each costs a
 * Unicode normalisation. -1 when out of memory. */
static int cleaned(cb_forms *f, const char *s, size_t len, const kcache_ent **out)
{
    uint64_t h = khash(s, len);
    kcache_ent *e = kcache_find(f->clean_cache, s, len, h);
    if (e != NULL) {
        *out = e;
        return 0;
    }
    errno = 0;
    char *c = cb_text_clean(s);
    if (c == NULL && errno == ENOMEM)
        return -1;
    if ((e = kcache_put_n(f->clean_cache, s, len, h, c, 1)) == NULL) {
        free(c);
        return -1;
    }
    e->outlen = c != NULL ? strlen(c) : 0;
    e->flag = c != NULL && has_control(c);
    e->same = c != NULL && e->outlen == len && memcmp(c, s, len) == 0;
    *out = e;
    return 0;
}

/* A copy of the cleaned value of column c for the row (len bytes): a later
 * value may take the cache's place before the row is done. */
static int keep_clean(cb_forms *f, int c, const char *clean, size_t len)
{
    size_t n = len + 1;
    if (n > f->cleancap[c]) {
        char *p = realloc(f->cleanbuf[c], n);
        if (p == NULL)
            return -1;
        f->cleanbuf[c] = p;
        f->cleancap[c] = n;
    }
    memcpy(f->cleanbuf[c], clean, n);
    return 0;
}

/* The slot of the duplicate check a column's key will be looked up in, asked
 * of the cache as soon as the value is clean: the lookups come after the
 * rest of the row is cleaned and checked, and the table (12 bytes a
 * request) is far bigger than the cache, so each lookup would otherwise
 * wait for memory, three times a row. */
static void prefetch_key(row *r, int c)
{
    cb_forms *f = r->f;
    const char *v = f->vals[c];
    if (c == C_REQUEST_ID || c == C_ID_NUMBER) {
        cb_dupset_prefetch(f->seen, c == C_REQUEST_ID ? SEEN_ID : SEEN_PERSON, v, strlen(v));
    } else if (c == C_OLD_SERIAL && *v) {
        char key[sizeof r->skey];
        if (cb_serial_key(v, key, sizeof key) == 0)
            cb_dupset_prefetch(f->seen, SEEN_SERIAL, key, strlen(key));
    }
}

/* Every known column cleaned: trimmed, one space between words, NFC. */
static int clean_values(row *r, cb_err *err)
{
    cb_forms *f = r->f;
    for (int c = 0; c < NCOL; c++) {
        f->vals[c] = NULL;
        int i = f->in_idx[c];
        if (i < 0)
            continue;
        const char *s = cb_record_get(r->in, i);
        size_t len = cb_record_len(r->in, i);
        if (ascii_clean(s, len)) {
            f->vals[c] = (char *)s;
            prefetch_key(r, c);
            continue;
        }
        const kcache_ent *e;
        if (cleaned(f, s, len, &e) < 0)
            return oom(err);
        if (e->out == NULL) {
            bad(&r->k, c, "%s is not UTF-8 text", "%s không phải văn bản UTF-8", cname(&r->k, c));
            f->vals[c] = "";
            continue;
        }
        if (e->flag)
            bad(&r->k, c, "%s contains control characters", "%s chứa ký tự điều khiển",
                cname(&r->k, c));
        if (e->same) {   /* most names are written clean: the input's bytes, already in out */
            f->vals[c] = (char *)s;
        } else {
            if (keep_clean(f, c, e->out, e->outlen) < 0 ||
                cb_record_set(r->out, i, f->cleanbuf[c], e->outlen) < 0)
                return oom(err);
            f->vals[c] = f->cleanbuf[c];
        }
        prefetch_key(r, c);
    }
    /* The deepest "Tổ chức cấp N" given is the agency. */
    if (f->in_idx[C_AGENCY] < 0 || *val(f, C_AGENCY) == '\0')
        for (int c = C_AGENCY_L4; c >= C_AGENCY_L1; c--)
            if (*val(f, c) != '\0') {
                f->vals[C_AGENCY] = f->vals[c];
                break;
            }
    return 0;
}

/* request_type or subject_type as written: *out set, or a reason. */
static void given_types(row *r, int *rt_given, int *st_given)
{
    verdict_ctx *k = &r->k;
    const char *rts = val(r->f, C_REQUEST_TYPE), *sts = val(r->f, C_SUBJECT_TYPE);
    *rt_given = RT_NONE;
    *st_given = ST_NONE;
    if (*rts) {
        if (strcasecmp(rts, "issue") == 0)
            *rt_given = RT_ISSUE;
        else if (strcasecmp(rts, "renew") == 0)
            *rt_given = RT_RENEW;
        else
            bad(k, C_REQUEST_TYPE,
                "request type '%s' is not handled yet: only issue and renew are",
                "loại yêu cầu '%s' chưa được hỗ trợ: chỉ cấp mới (issue) và gia hạn (renew)", rts);
    }
    if (*sts) {
        if (strcasecmp(sts, "individual") == 0)
            *st_given = ST_INDIVIDUAL;
        else if (strcasecmp(sts, "organization") == 0 || strcasecmp(sts, "organisation") == 0)
            *st_given = ST_ORGANIZATION;
        else
            bad(k, C_SUBJECT_TYPE, "subject type '%s' is neither individual nor organization",
                "loại thuê bao '%s' không phải individual (cá nhân) hay organization (tổ chức)",
                sts);
    }
}

/* What is asked for: form, or request_type and subject_type. */
static void classify(row *r)
{
    verdict_ctx *k = &r->k;
    int vi = r->vi, rt = RT_NONE, st = ST_NONE, form = 0, rt_given, st_given;
    const char *fs = val(r->f, C_FORM), *rts = val(r->f, C_REQUEST_TYPE), *sts = val(r->f, C_SUBJECT_TYPE);
    if (*fs) {
        int fn = all_digits(fs) && strlen(fs) <= 2 ? atoi(fs) : 0;
        if (fn >= 1 && fn <= 4) {
            form = fn;
            rt = form <= 2 ? RT_ISSUE : RT_RENEW;
            st = form == 4 ? ST_ORGANIZATION : ST_INDIVIDUAL;
        } else {
            bad(k, C_FORM, "form '%s' is not one of 01, 02, 03, 04",
                "mẫu '%s' không phải một trong 01, 02, 03, 04", fs);
        }
    }
    given_types(r, &rt_given, &st_given);
    if (form) {
        if ((rt_given && rt_given != rt) || (st_given && st_given != st))
            bad(k, C_REQUEST_TYPE,
                "form %02d is a %s for %s, but the row says %s for %s",
                "mẫu %02d là %s cho %s, nhưng dòng ghi %s cho %s", form,
                rt == RT_ISSUE ? (vi ? "cấp mới" : "new certificate") : (vi ? "gia hạn" : "renewal"),
                st == ST_INDIVIDUAL ? (vi ? "cá nhân" : "an individual") : (vi ? "tổ chức" : "an organization"),
                *rts ? rts : "-", *sts ? sts : "-");
    } else if (*fs == '\0') {
        rt = rt_given;
        st = st_given;
        if ((rt == RT_NONE && *rts == '\0') || (st == ST_NONE && *sts == '\0'))
            bad(k, C_FORM, "the form is not said: give form (01-04) or request_type and subject_type",
                "không rõ mẫu: cần ghi mẫu (01-04) hoặc request_type và subject_type");
        else if (rt == RT_ISSUE && st == ST_ORGANIZATION)
            bad(k, C_SUBJECT_TYPE,
                "a new certificate for an organization is not handled: Forms 01 and 02 are for individuals",
                "chưa hỗ trợ cấp mới cho tổ chức: mẫu 01 và 02 dành cho cá nhân");
    }
    if (rt == RT_ISSUE && st == ST_ORGANIZATION)
        rt = st = RT_NONE;
    r->form = form;
    r->indiv = st == ST_INDIVIDUAL;
    r->org = st == ST_ORGANIZATION;
    r->issue = rt == RT_ISSUE;
    r->renew = rt == RT_RENEW;
}

/* Where an earlier valid row holds the key ("N", or "N of FILE") in
 * r->wbuf, or "" when none does. */
static void find_seen(row *r, int kind, const char *key)
{
    int in;
    long line;
    if (cb_dupset_find(r->f->seen, kind, key, strlen(key), &in, &line))
        where(r->f, line, in, r->cur_input, r->wbuf, sizeof r->wbuf);
    else
        r->wbuf[0] = '\0';
}

/* request_id, and received_date first: other checks depend on it. */
static void check_request(row *r)
{
    cb_forms *f = r->f;
    verdict_ctx *k = &r->k;
    const char *id = val(f, C_REQUEST_ID);
    if (*id == '\0') {
        missing(k, C_REQUEST_ID);
    } else {
        find_seen(r, SEEN_ID, id);
        if (*r->wbuf)
            bad(k, C_REQUEST_ID, "request id %s is already used on line %s",
                "mã hồ sơ %s đã dùng ở dòng %s", id, r->wbuf);
    }
    const char *rs = val(f, C_RECEIVED_DATE);
    if (*rs == '\0')
        return;
    if (cb_date_parse(rs, &r->received) < 0) {
        bad(k, C_RECEIVED_DATE, "date received '%s' is not a real date",
            "ngày tiếp nhận '%s' không phải ngày hợp lệ", rs);
    } else if (r->received > f->o.today) {
        char iso[11], t[11];
        cb_date_format(r->received, iso);
        cb_date_format(f->o.today, t);
        bad(k, C_RECEIVED_DATE, "date received %s is after today (%s)",
            "ngày tiếp nhận %s sau ngày hôm nay (%s)", iso, t);
    } else {
        r->have_received = 1;
    }
}

static void check_name_and_birth(row *r)
{
    verdict_ctx *k = &r->k;
    const char *name = val(r->f, C_FULL_NAME);
    if (*name) {
        size_t nch = 0;
        if (!name_chars_ok(name, &nch))
            bad(k, C_FULL_NAME, "full name '%s' has characters other than letters and spaces",
                "họ và tên '%s' có ký tự không phải chữ cái hay dấu cách", name);
        else if (nch < 2 || nch > 100)
            bad(k, C_FULL_NAME, "full name '%s' is not 2 to 100 characters long",
                "họ và tên '%s' không dài từ 2 đến 100 ký tự", name);
    } else if (r->indiv) {
        missing(k, C_FULL_NAME);
    }
    const char *bs = val(r->f, C_BIRTH_DATE);
    if (*bs == '\0') {
        if (r->issue && r->indiv)
            missing(k, C_BIRTH_DATE);
        return;
    }
    if (cb_date_parse(bs, &r->birth) < 0) {
        bad(k, C_BIRTH_DATE, "date of birth '%s' is not a real date",
            "ngày sinh '%s' không phải ngày hợp lệ", bs);
        return;
    }
    r->have_birth = 1;
    if (r->have_received && r->birth > r->received) {
        bad(k, C_BIRTH_DATE, "date of birth %s is after the date received",
            "ngày sinh %s sau ngày tiếp nhận", bs);
    } else if (r->issue && r->have_received && cb_date_add_months(r->birth, 18 * 12) > r->received) {
        char r2[11], b2[11];
        cb_date_format(r->received, r2);
        cb_date_format(r->birth, b2);
        bad(k, C_BIRTH_DATE, "the person is under 18 on %s (born %s)",
            "người đề nghị chưa đủ 18 tuổi vào ngày %s (sinh %s)", r2, b2);
    }
}

/* id_number: a CCCD agreeing with the birth year, or a passport; and the
 * person once in the batch. */
static void check_id_number(row *r)
{
    verdict_ctx *k = &r->k;
    const char *idn = val(r->f, C_ID_NUMBER);
    if (*idn == '\0') {
        if (r->indiv)
            missing(k, C_ID_NUMBER);
        return;
    }
    if (all_digits(idn)) {
        char why[300];
        int by = -1;
        if (r->have_birth) {
            int y, m, d;
            cb_date_to_ymd(r->birth, &y, &m, &d);
            by = y;
        }
        int okid = r->vi ? cb_cccd_check_vi(idn, by, NULL, why, sizeof why)
                         : cb_cccd_check(idn, by, NULL, why, sizeof why);
        if (!okid)
            bad(k, C_ID_NUMBER, "personal identification number %s: %s",
                "số định danh cá nhân %s: %s", idn, why);
    } else if (!cb_passport_check(idn)) {
        bad(k, C_ID_NUMBER,
            "'%s' is neither a 12-digit personal identification number nor a passport number (a capital letter and 7 digits)",
            "'%s' không phải số định danh cá nhân 12 chữ số hay số hộ chiếu (một chữ cái in hoa và 7 chữ số)",
            idn);
    }
    find_seen(r, SEEN_PERSON, idn);
    r->has_person = 1;
    if (*r->wbuf)
        bad(k, C_ID_NUMBER, "the same person (%s) already has a request on line %s",
            "người này (%s) đã có yêu cầu ở dòng %s", idn, r->wbuf);
}

/* The person: name, birth, identity document. */
static void check_person(row *r)
{
    verdict_ctx *k = &r->k;
    check_name_and_birth(r);
    check_id_number(r);
    const char *is = val(r->f, C_ID_ISSUE_DATE);
    if (*is) {
        if (cb_date_parse(is, &r->issued) == 0) {
            r->have_issued = 1;
            if (r->have_birth && r->issued <= r->birth)
                bad(k, C_ID_ISSUE_DATE, "ID issue date %s is not after the date of birth",
                    "ngày cấp %s không sau ngày sinh", is);
            else if (r->have_received && r->issued > r->received)
                bad(k, C_ID_ISSUE_DATE, "ID issue date %s is after the date received",
                    "ngày cấp %s sau ngày tiếp nhận", is);
        } else {
            bad(k, C_ID_ISSUE_DATE, "ID issue date '%s' is not a real date",
                "ngày cấp '%s' không phải ngày hợp lệ", is);
        }
    } else if (r->indiv) {
        missing(k, C_ID_ISSUE_DATE);
    }
    if (r->indiv && *val(r->f, C_ID_ISSUE_PLACE) == '\0')
        missing(k, C_ID_ISSUE_PLACE);
    if (r->indiv && *val(r->f, C_POSITION) == '\0')
        missing(k, C_POSITION);
}

static const cb_agency_entry *registry_by_name(cb_forms *f, const char *name)
{
    int hit;
    const char *p = kcache_get(f->registry_cache, name, &hit);
    if (hit)
        return (const cb_agency_entry *)p;
    const cb_agency_entry *e = cb_agency_registry_by_name(f->o.agencies, name);
    kcache_put(f->registry_cache, name, (char *)e, 0);
    return e;
}

/* The row's agency in the registry, by its code or by its name: a code the
 * registry does not have, a code of another agency than the name says, or
 * an agency the registry does not know (unless allowed) is a reason. A name
 * the registry does not know beside a code it knows is taken as a spelling
 * of that agency. */
static const cb_agency_entry *resolve_agency(verdict_ctx *k, const char *name, const char *code)
{
    cb_forms *f = k->f;
    const cb_agency_entry *by_code = *code ? cb_agency_registry_by_code(f->o.agencies, code) : NULL;
    const cb_agency_entry *by_name = *name ? registry_by_name(f, name) : NULL;
    if (*code && by_code == NULL && !f->o.allow_unknown_agency) {
        bad(k, C_AGENCY_CODE, "agency code '%s' is not in the agency registry",
            "mã định danh cơ quan '%s' không có trong danh mục cơ quan", code);
        return NULL;
    }
    if (by_code && by_name && by_code != by_name) {
        bad(k, C_AGENCY_CODE, "agency code '%s' is %s in the agency registry, but the agency is '%s' (%s)",
            "mã định danh cơ quan '%s' là của %s trong danh mục cơ quan, nhưng cơ quan ghi là '%s' (%s)", code,
            by_code->name, name, *by_name->code ? by_name->code : by_name->name);
        return NULL;
    }
    if (by_code || by_name)
        return by_code ? by_code : by_name;
    if (*name && !f->o.allow_unknown_agency)
        bad(k, C_AGENCY, "agency '%s' is not in the agency registry (write its official name or code)",
            "cơ quan '%s' không có trong danh mục cơ quan (ghi tên chính thức hoặc mã định danh)", name);
    return NULL;
}

/* The agency and, for Form 04, the organisation; the province written back
 * as the current unit. */
static int check_agency(row *r, cb_err *err)
{
    cb_forms *f = r->f;
    verdict_ctx *k = &r->k;
    if (*val(f, C_AGENCY) == '\0')
        missing(k, C_AGENCY);
    const char *ac = val(f, C_AGENCY_CODE);
    if (*ac && !cb_agency_code_check(ac))
        bad(k, C_AGENCY_CODE,
            "agency code '%s' is not an agency identifier like 000.00.15.H41",
            "mã định danh cơ quan '%s' không đúng dạng như 000.00.15.H41", ac);
    if (f->o.agencies && (!*ac || cb_agency_code_check(ac)))
        r->agency = resolve_agency(k, val(f, C_AGENCY), ac);
    if (r->org && *val(f, C_ORG_NAME) == '\0')
        missing(k, C_ORG_NAME);
    if (r->org && *val(f, C_ORG_ADDRESS) == '\0')
        missing(k, C_ORG_ADDRESS);
    const char *tc = val(f, C_TAX_CODE);
    if (*tc && !cb_tax_code_check(tc))
        bad(k, C_TAX_CODE, "tax code '%s' is not 10 digits or 10 digits-3 digits",
            "mã số thuế '%s' không phải 10 chữ số hoặc 10 chữ số-3 chữ số", tc);
    const char *bc = val(f, C_BUDGET_CODE);
    if (*bc && !cb_budget_code_check(bc))
        bad(k, C_BUDGET_CODE, "budget relation code '%s' is not 7 digits",
            "mã quan hệ ngân sách '%s' không phải 7 chữ số", bc);
    const char *pv = val(f, C_PROVINCE);
    if (*pv == '\0') {
        missing(k, C_PROVINCE);
        return 0;
    }
    const char *unit = province_of(f, pv);
    if (unit == NULL)
        bad(k, C_PROVINCE, "'%s' is not one of the 34 provinces and cities, nor a former one",
            "'%s' không phải một trong 34 tỉnh, thành phố, cũng không phải tỉnh cũ", pv);
    else if (put(f, r->out, C_PROVINCE, unit) < 0)
        return oom(err);
    return 0;
}

/* The official e-mail address and the mobile phone (written normalised). */
static int check_contact(row *r, cb_err *err)
{
    cb_forms *f = r->f;
    verdict_ctx *k = &r->k;
    const char *em = val(f, C_EMAIL);
    if (*em) {
        int official = cb_email_check(em, f->o.official_domains);   /* valid rows: one pass */
        if (!official && !cb_email_check(em, NULL))
            bad(k, C_EMAIL, "'%s' is not a valid e-mail address",
                "'%s' không phải địa chỉ thư điện tử hợp lệ", em);
        else if (!official)
            bad(k, C_EMAIL, "e-mail address %s is not on an official domain (%s)",
                "địa chỉ thư điện tử %s không thuộc tên miền công vụ (%s)", em,
                f->o.official_domains);
    } else {
        missing(k, C_EMAIL);
    }
    const char *ph = val(f, C_PHONE);
    if (*ph) {
        char norm[11];
        if (!cb_phone_normalize(ph, norm))
            bad(k, C_PHONE,
                "'%s' is not a Vietnamese mobile number (10 digits starting 03, 05, 07, 08 or 09)",
                "'%s' không phải số di động Việt Nam (10 chữ số bắt đầu bằng 03, 05, 07, 08 hoặc 09)",
                ph);
        else if (put(f, r->out, C_PHONE, norm) < 0)
            return oom(err);
    } else if (r->indiv) {
        missing(k, C_PHONE);
    }
    return 0;
}

/* The identity numbers of the row (the person's, or the organisation's
 * codes) against the one in the certificate. */
static void check_cert_identity(row *r, const certrow *cert)
{
    int match = 0, given = 0, vi = r->vi;
    const int idcols[] = {C_ID_NUMBER, C_TAX_CODE, C_BUDGET_CODE, C_AGENCY_CODE};
    for (int j = 0; j < (r->indiv ? 1 : 4); j++) {
        char *u = uid_norm(val(r->f, idcols[j]));
        if (u != NULL && *u) {
            given = 1;
            match |= value_hash(r->f, u) == cert->uid;
        }
        free(u);
    }
    if (given && !match)
        bad(&r->k, r->indiv ? C_ID_NUMBER : C_ORG_NAME,
            "the identity number in certificate %s is not this %s",
            "số định danh trong chứng thư %s không phải của %s này", r->serial,
            r->indiv ? (vi ? "người" : "person") : (vi ? "tổ chức" : "organization"));
}

/* The certificate to renew as --certs knows it: known, not revoked, not
 * renewed before, the same holder. */
static void check_cert(row *r)
{
    verdict_ctx *k = &r->k;
    long ci = set_get(r->f->certs, 0, r->skey);
    if (ci < 0) {
        bad(k, C_OLD_SERIAL, "no certificate with serial %s is known (--certs)",
            "không có chứng thư nào số hiệu %s (--certs)", r->serial);
        return;
    }
    const certrow *cert = r->cert = &r->f->certv[ci];
    if (cert->revoked)
        bad(k, C_OLD_SERIAL, "certificate %s is revoked", "chứng thư %s đã bị thu hồi", r->serial);
    if (cert->renewed)
        bad(k, C_OLD_SERIAL, "certificate %s was renewed before: it may be renewed only once",
            "chứng thư %s đã được gia hạn: chỉ được gia hạn một lần", r->serial);
    int col = r->indiv ? C_FULL_NAME : C_ORG_NAME;
    const char *nm = val(r->f, col);
    if (*nm) {
        char *nk = cb_text_key(nm);
        uint64_t nh = nk != NULL ? value_hash(r->f, nk) : 0;
        if (nk != NULL && nh != cert->cn && (r->indiv || nh != cert->o))
            bad(k, col, "%s '%s' is not the name in certificate %s",
                "%s '%s' không trùng tên trong chứng thư %s", cname(k, col), nm, r->serial);
        free(nk);
    }
    if (cert->has_uid)
        check_cert_identity(r, cert);
}

/* old_serial: a serial, asked for once in the batch, and for a renewal the
 * certificate it names (--certs) and the ledger's word (--ledger). */
static int check_old_serial(row *r, cb_err *err)
{
    cb_forms *f = r->f;
    verdict_ctx *k = &r->k;
    const char *os = val(f, C_OLD_SERIAL);
    if (*os) {
        if (cb_serial_key(os, r->skey, sizeof r->skey) < 0 ||
            cb_serial_display(os, r->serial, sizeof r->serial) < 0) {
            bad(k, C_OLD_SERIAL, "serial '%s' is not hexadecimal", "số hiệu '%s' không phải số hexa", os);
            r->skey[0] = '\0';
        } else if (put(f, r->out, C_OLD_SERIAL, r->serial) < 0) {
            return oom(err);
        }
    } else if (r->renew) {
        missing(k, C_OLD_SERIAL);
    }
    if (*r->skey == '\0')
        return 0;
    find_seen(r, SEEN_SERIAL, r->skey);
    r->has_serial = 1;
    if (*r->wbuf)
        bad(k, C_OLD_SERIAL, "certificate %s is already asked for on line %s",
            "chứng thư %s đã được đề nghị ở dòng %s", r->serial, r->wbuf);
    if (!r->renew)
        return 0;
    if (f->ncert > 0)
        check_cert(r);
    long l;
    if ((l = set_get(f->ledger, LEDGER_PRODUCT, r->skey)) >= 0)
        bad(k, C_OLD_SERIAL,
            "certificate %s is itself a renewal (ledger line %ld): it may be renewed only once",
            "chứng thư %s đã là chứng thư gia hạn (dòng %ld của sổ cấp): chỉ được gia hạn một lần",
            r->serial, l);
    else if ((l = set_get(f->ledger, LEDGER_RENEWED, r->skey)) >= 0)
        bad(k, C_OLD_SERIAL, "certificate %s was already renewed (ledger line %ld)",
            "chứng thư %s đã được gia hạn (dòng %ld của sổ cấp)", r->serial, l);
    return 0;
}

/* old_not_after and the 60 days of NĐ 130/2018 Điều 63. */
static int check_expiry(row *r, cb_err *err)
{
    verdict_ctx *k = &r->k;
    const char *na = val(r->f, C_OLD_NOT_AFTER);
    const certrow *cert = r->cert;
    if (*na) {
        if (parse_date_or_instant(na, &r->expiry) == 0) {
            r->have_expiry = 1;
            if (strlen(na) <= 10) {   /* a date, not an instant: written as ISO */
                char iso[11];
                cb_date_format(r->expiry, iso);
                if (put(r->f, r->out, C_OLD_NOT_AFTER, iso) < 0)
                    return oom(err);
            }
        } else {
            bad(k, C_OLD_NOT_AFTER, "expiry of the certificate to renew '%s' is not a date",
                "ngày hết hạn của chứng thư cũ '%s' không phải ngày hợp lệ", na);
        }
    } else if (r->renew && !(cert != NULL && cert->has_expiry)) {
        missing(k, C_OLD_NOT_AFTER);
    }
    /* The certificate itself, when --certs has it, is the truth. */
    if (cert != NULL && cert->has_expiry) {
        r->expiry = cert->expiry;
        r->have_expiry = 1;
    }
    if (!(r->renew && r->have_expiry && r->have_received))
        return 0;
    long left = (long)r->expiry - (long)r->received;
    if (left >= 60)
        return 0;
    char e2[11], r2[11];
    cb_date_format(r->expiry, e2);
    cb_date_format(r->received, r2);
    if (left < 0)
        bad(k, C_OLD_NOT_AFTER,
            "the certificate expired on %s, before the date received (%s): it cannot be renewed, ask for a new one",
            "chứng thư đã hết hạn ngày %s, trước ngày tiếp nhận (%s): không gia hạn được, cần đề nghị cấp mới",
            e2, r2);
    else
        bad(k, C_OLD_NOT_AFTER,
            "only %ld days of validity left on %s (expires %s): a renewal needs at least 60 (NĐ 130/2018 Điều 63)",
            "chỉ còn %ld ngày hiệu lực vào ngày %s (hết hạn %s): gia hạn cần ít nhất 60 ngày (NĐ 130/2018 Điều 63)",
            left, r2, e2);
    return 0;
}

/* The renewal: the certificate to renew and its expiry. */
static int check_renewal(row *r, cb_err *err)
{
    if (check_old_serial(r, err) < 0)
        return -1;
    return check_expiry(r, err);
}

/* device_type (TOKEN when not said), the carrier of a SIM, the head of the
 * agency's confirmation, and the date received (said last among the
 * missing, as the form has it). */
static int check_device_and_confirmation(row *r, cb_err *err)
{
    cb_forms *f = r->f;
    verdict_ctx *k = &r->k;
    const char *dt = val(f, C_DEVICE_TYPE);
    char dtu[16] = "TOKEN";
    if (*dt) {
        size_t n = strlen(dt);
        if (n < sizeof dtu) {
            for (size_t j = 0; j <= n; j++)
                dtu[j] = (char)(dt[j] >= 'a' && dt[j] <= 'z' ? dt[j] - 32 : dt[j]);
        }
        if (n >= sizeof dtu || (strcmp(dtu, "TOKEN") && strcmp(dtu, "SIM") && strcmp(dtu, "SOFT") &&
                                strcmp(dtu, "RSSP") && strcmp(dtu, "HSM"))) {
            bad(k, C_DEVICE_TYPE, "device type '%s' is not TOKEN, SIM, SOFT, RSSP or HSM",
                "loại thiết bị '%s' không phải TOKEN, SIM, SOFT, RSSP hay HSM", dt);
            strcpy(dtu, "TOKEN");
        }
    }
    if (put(f, r->out, C_DEVICE_TYPE, dtu) < 0)
        return oom(err);
    if (strcmp(dtu, "SIM") == 0 && *val(f, C_CARRIER) == '\0')
        bad(k, C_CARRIER, "a SIM device needs the mobile carrier", "thiết bị SIM cần ghi nhà mạng");
    if (*val(f, C_CONFIRMED_BY) == '\0')
        bad(k, C_CONFIRMED_BY, "no one confirmed the request: the head of the agency must confirm it",
            "chưa có xác nhận của thủ trưởng cơ quan");
    if (*val(f, C_RECEIVED_DATE) == '\0')
        missing(k, C_RECEIVED_DATE);
    return 0;
}

/* validity_months (Nghị định 68/2024 Điều 9) and renewal_count. */
static void check_validity(row *r)
{
    verdict_ctx *k = &r->k;
    const char *vm = val(r->f, C_VALIDITY_MONTHS);
    if (*vm) {
        long m = all_digits(vm) && strlen(vm) < 6 ? atol(vm) : -1;
        if (m <= 0)
            bad(k, C_VALIDITY_MONTHS, "validity '%s' is not a number of months",
                "thời hạn '%s' không phải số tháng", vm);
        else if (r->issue && m > 60)
            bad(k, C_VALIDITY_MONTHS,
                "%ld months asked for: a new certificate is valid 5 years (60 months) at most (NĐ 68/2024 Điều 9)",
                "đề nghị %ld tháng: chứng thư cấp mới có thời hạn tối đa 5 năm (60 tháng) (NĐ 68/2024 Điều 9)",
                m);
        else if (r->renew && m > 36)
            bad(k, C_VALIDITY_MONTHS,
                "%ld months asked for: a renewal extends by 3 years (36 months) at most (NĐ 68/2024 Điều 9)",
                "đề nghị %ld tháng: gia hạn tối đa 3 năm (36 tháng) (NĐ 68/2024 Điều 9)", m);
    }
    const char *rc = val(r->f, C_RENEWAL_COUNT);
    if (*rc) {
        if (!all_digits(rc))
            bad(k, C_RENEWAL_COUNT, "renewal count '%s' is not a number",
                "số lần gia hạn '%s' không phải một số", rc);
        else if (r->renew && atol(rc) > 0)
            bad(k, C_RENEWAL_COUNT,
                "the certificate was renewed before: it may be renewed only once (NĐ 130/2018 Điều 63)",
                "chứng thư đã được gia hạn: chỉ được gia hạn một lần (NĐ 130/2018 Điều 63)");
    }
}

/* A valid row: its keys remembered for the duplicates of later rows, the
 * computed columns written. */
static int commit(row *r, cb_err *err)
{
    cb_forms *f = r->f;
    cb_record *out = r->out;
    const char *keys[CB_DUPSET_KINDS] = {[SEEN_ID] = val(f, C_REQUEST_ID),
                                         [SEEN_PERSON] = r->has_person ? val(f, C_ID_NUMBER) : NULL,
                                         [SEEN_SERIAL] = r->has_serial ? r->skey : NULL};
    if (cb_dupset_add(f->seen, keys, r->cur_input, r->in->line, err) < 0)
        return -1;
    const char *akey = r->agency ? r->agency->key : agency_key_of(f, val(f, C_AGENCY));
    if (akey == NULL)
        return oom(err);
    static const char *const forms[] = {"", "01", "02", "03", "04"};
    char iso[11], due[11];
    cb_date_format(r->received, iso);
    cb_date_format(cb_calendar_add_workdays(f->o.cal, r->received, r->issue ? 4 : 3), due);
    if (put(f, out, C_REQUEST_TYPE, r->issue ? "issue" : "renew") < 0 ||
        put(f, out, C_SUBJECT_TYPE, r->indiv ? "individual" : "organization") < 0 ||
        (r->form && put(f, out, C_FORM, forms[r->form]) < 0) ||
        put(f, out, C_RECEIVED_DATE, iso) < 0 || put(f, out, C_DUE_DATE, due) < 0 ||
        put(f, out, C_AGENCY_KEY, akey) < 0 ||
        put(f, out, C_AGENCY_NAME, r->agency ? r->agency->name : val(f, C_AGENCY)) < 0 ||
        put(f, out, C_AGENCY_EMAIL, r->agency ? r->agency->email : "") < 0 ||
        (f->in_idx[C_AGENCY] < 0 && put(f, out, C_AGENCY, val(f, C_AGENCY)) < 0))
        return oom(err);
    if (r->have_birth) {
        cb_date_format(r->birth, iso);
        if (put(f, out, C_BIRTH_DATE, iso) < 0)
            return oom(err);
    }
    if (r->have_issued) {
        cb_date_format(r->issued, iso);
        if (put(f, out, C_ID_ISSUE_DATE, iso) < 0)
            return oom(err);
    }
    return 0;
}

int cb_forms_check(cb_forms *f, const cb_record *in, const char *input, cb_record *out,
                   cb_forms_verdict *v, cb_err *err)
{
    v->field = "";
    v->reason[0] = '\0';
    if (!f->bound)
        return cb_err_set(err, EX_SOFTWARE, "cb_forms_check before cb_forms_bind");
    if (cb_record_copy(out, in) < 0)
        return oom(err);
    row r;
    row_init(&r, f, in, out, v, input);
    if (r.cur_input < 0)
        return oom(err);
    if (clean_values(&r, err) < 0)
        return -1;
    classify(&r);
    check_request(&r);
    check_person(&r);
    if (check_agency(&r, err) < 0 ||
        check_contact(&r, err) < 0 || check_renewal(&r, err) < 0 ||
        check_device_and_confirmation(&r, err) < 0)
        return -1;
    check_validity(&r);
    if (r.k.nbad > 0) {
        v->field = r.k.first_col >= 0 ? cols[r.k.first_col].name : "";
        return 0;
    }
    return commit(&r, err) < 0 ? -1 : 1;
}
