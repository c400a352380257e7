/* Publication of issued certificates: see publish.h. */
#define _GNU_SOURCE   /* renameat2(RENAME_EXCHANGE), nftw */
#include "publish.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "array.h"
#include "atomic.h"
#include "audit.h"
#include "calendar.h"
#include "certinfo.h"
#include "csvio.h"
#include "serial.h"
#include "ledger.h"
#include "publdap.h"
#include "pubsite.h"
#include "strmap.h"
#include "updates.h"
#include "vntext.h"

/* The publication ledger's columns, in file order. */
enum { P_SERIAL, P_RID, P_AGENCY, P_AGENCY_CODE, P_HANDED, P_RECEIVED, P_DUE, P_EFFECTIVE,
       P_PUBLISHED, P_LATE, P_CERT, NPUB };
static const char *const pub_cols[NPUB] = {
    "serial",        "request_id",   "agency",   "agency_code",  "handed_over_date",
    "received_date", "due_date",     "effective_at", "published_at", "late", "certificate"};

/* The request columns publish reads. */
enum { Q_RID, Q_SERIAL, Q_AGENCY, Q_AGENCY_CODE, Q_HANDED, Q_RECEIVED, Q_EFFECTIVE, NREQ };
static const char *const req_cols[NREQ] = {"request_id",       "serial",        "agency",
                                           "agency_code",      "handed_over_date",
                                           "received_date",    "effective_at"};

typedef struct pub_row {
    char *f[NPUB];
} pub_row;

typedef struct der_item {
    unsigned char *der;
    size_t len;
} der_item;

struct cb_publisher {
    cb_pub_opts o;
    char *published_path;
    cb_ledger *ledger;
    cb_calendar *cal;
    cb_crlset *crls;
    int fd;                  /* the publication ledger, locked */
    pub_row *rows;
    size_t nrows, cap, on_disk, first_new;
    cb_strmap by_serial;     /* normalised serial -> row index */
    der_item *issued;
    size_t nissued, issued_cap;
    cb_strmap issued_ix;     /* normalised serial -> issued index */
    int col[NREQ];
};

#define MSG(p, en, vi) ((p)->o.lang_vi ? (vi) : (en))

char *cb_publication_ledger_path(const char *ledger)
{
    size_t n = strlen(ledger);
    const char *dot = strrchr(ledger, '.'), *slash = strrchr(ledger, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - ledger) : n;
    char *out = malloc(n + 32);
    if (out)
        snprintf(out, n + 32, "%.*s-published%s", (int)stem, ledger, ledger + stem);
    return out;
}

static void rows_free(cb_publisher *p)
{
    for (size_t i = 0; i < p->nrows; i++)
        for (int k = 0; k < NPUB; k++)
            free(p->rows[i].f[k]);
    free(p->rows);
}

void cb_publisher_free(cb_publisher *p)
{
    if (p == NULL)
        return;
    cb_err ignore;
    cb_ledger_close(p->ledger, &ignore);
    if (p->fd >= 0)
        close(p->fd);
    cb_calendar_free(p->cal);
    cb_crlset_free(p->crls);
    rows_free(p);
    for (size_t i = 0; i < p->nissued; i++)
        free(p->issued[i].der);
    free(p->issued);
    cb_strmap_clear(&p->by_serial);
    cb_strmap_clear(&p->issued_ix);
    free(p->published_path);
    free(p);
}

/* Adds a row (values copied) and indexes it by serial. */
static int add_row(cb_publisher *p, const char *const v[NPUB])
{
    if (cb_array_grow(&p->rows, p->nrows, &p->cap, sizeof *p->rows, 64) < 0)
        return -1;
    pub_row *r = &p->rows[p->nrows];
    int bad = 0;
    for (int k = 0; k < NPUB; k++)
        bad |= (r->f[k] = strdup(v[k] ? v[k] : "")) == NULL;
    char norm[CB_SERIAL_MAX], ix[32];
    cb_serial_key(r->f[P_SERIAL], norm, sizeof norm);
    snprintf(ix, sizeof ix, "%zu", p->nrows);
    p->nrows++;
    return bad || cb_strmap_put(&p->by_serial, norm, ix) < 0 ? -1 : 0;
}

/* A last line cut short by a crash was never synced: it is dropped, its
 * request is published again by the re-run. */
static int cut_torn_line(cb_publisher *p, cb_err *err)
{
    off_t end = lseek(p->fd, 0, SEEK_END), keep = end;
    char c;
    while (keep > 0 && pread(p->fd, &c, 1, keep - 1) == 1 && c != '\n')
        keep--;
    if (keep != end && ftruncate(p->fd, keep) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot repair the end of %s", p->published_path);
    return 0;
}

static int load_published(cb_publisher *p, cb_err *err)
{
    struct stat st;
    if (fstat(p->fd, &st) != 0 || st.st_size == 0)
        return 0;
    char *files[1] = {p->published_path};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    int col[NPUB], rc = 0, st2;
    for (int k = 0; k < NPUB && rc == 0; k++)
        if ((col[k] = cb_header_find(h, pub_cols[k])) < 0)
            rc = cb_err_set(err, EX_DATAERR, "%s:1: not a publication ledger: no column %s",
                            p->published_path, pub_cols[k]);
    cb_record *rec = cb_record_new();
    while (rc == 0 && rec && (st2 = cb_csv_reader_next(r, rec, err)) != CB_CSV_EOF) {
        if (st2 != CB_CSV_RECORD) {
            rc = st2 == CB_CSV_FATAL ? -1 : cb_err_set(err, EX_DATAERR, "%s:%ld: damaged line: %s",
                                                       p->published_path, rec->line, err->msg);
            break;
        }
        const char *v[NPUB];
        for (int k = 0; k < NPUB; k++)
            v[k] = cb_record_get(rec, col[k]);
        if (add_row(p, v) < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
    }
    if (rec == NULL)
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    cb_record_free(rec);
    cb_csv_reader_close(r);
    p->on_disk = p->first_new = p->nrows;
    return rc;
}

static int open_published(cb_publisher *p, cb_err *err)
{
    int ro = p->o.read_only;
    p->fd = open(p->published_path, ro ? O_RDONLY | O_CLOEXEC : O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (p->fd < 0 && ro && errno == ENOENT)
        return 0;
    if (p->fd < 0)
        return cb_err_sys(err, EX_CANTCREAT, "cannot open the publication ledger %s",
                          p->published_path);
    if (ro)   /* a reader waits for a run that is writing */
        return flock(p->fd, LOCK_SH) != 0 ? cb_err_sys(err, EX_IOERR, "cannot lock %s", p->published_path)
                                          : load_published(p, err);
    if (flock(p->fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK
                   ? cb_err_set(err, EX_TEMPFAIL, "the publication ledger %s is in use by another run",
                                p->published_path)
                   : cb_err_sys(err, EX_IOERR, "cannot lock %s", p->published_path);
    if (cut_torn_line(p, err) < 0)
        return -1;
    return load_published(p, err);
}

cb_publisher *cb_publisher_open(const cb_pub_opts *o, cb_err *err)
{
    cb_publisher *p = calloc(1, sizeof *p);
    if (p == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    p->o = *o;
    p->fd = -1;
    p->published_path = o->published ? strdup(o->published) : cb_publication_ledger_path(o->ledger);
    p->cal = cb_calendar_new();
    p->crls = cb_crlset_new();
    struct stat st;
    int rc = 0;
    if (!p->published_path || !p->cal || !p->crls)
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    else if (stat(o->ledger, &st) != 0)
        rc = cb_err_sys(err, EX_NOINPUT, "cannot open the ledger %s", o->ledger);
    else if (cb_calendar_load_default(p->cal, err) < 0 ||
             (o->holidays && cb_calendar_load_file(p->cal, o->holidays, err) < 0))
        rc = -1;
    else if ((p->ledger = cb_ledger_open(o->ledger, err)) == NULL)
        rc = -1;
    else
        rc = open_published(p, err);
    if (rc < 0) {
        cb_publisher_free(p);
        return NULL;
    }
    return p;
}

int cb_publisher_load_issued(cb_publisher *p, const char *path, cb_err *err)
{
    cb_certs_reader *r = cb_certs_open(path, err);
    if (r == NULL)
        return -1;
    int rc = 0, st;
    X509 *x;
    long line, index;
    while (rc == 0 && (st = cb_certs_next(r, &x, &line, &index, err)) != CB_CERTS_EOF) {
        if (st == CB_CERTS_FATAL) {
            rc = -1;
            break;
        }
        if (st == CB_CERTS_UNREADABLE) {
            rc = cb_err_set(err, EX_DATAERR, "%s:%ld: %s", path, line, err->msg);
            break;
        }
        char *hex = cb_asn1_int_hex(X509_get0_serialNumber(x)), norm[CB_SERIAL_MAX], ix[32];
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);
        X509_free(x);
        if (hex == NULL || len <= 0 ||
            cb_array_grow(&p->issued, p->nissued, &p->issued_cap, sizeof *p->issued, 64) < 0) {
            free(hex);
            OPENSSL_free(der);
            rc = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
        cb_serial_key(hex, norm, sizeof norm);
        free(hex);
        snprintf(ix, sizeof ix, "%zu", p->nissued);
        p->issued[p->nissued].der = malloc((size_t)len);
        if (p->issued[p->nissued].der)
            memcpy(p->issued[p->nissued].der, der, (size_t)len);
        OPENSSL_free(der);
        p->issued[p->nissued].len = (size_t)len;
        if (p->issued[p->nissued++].der == NULL || cb_strmap_put(&p->issued_ix, norm, ix) < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
    }
    cb_certs_close(r);
    return rc;
}

int cb_publisher_load_crl(cb_publisher *p, const char *path, cb_err *err)
{
    return cb_crlset_load(p->crls, path, err);
}

int cb_publisher_set_header(cb_publisher *p, const cb_header *h, cb_err *err)
{
    for (int k = 0; k < NREQ; k++)
        p->col[k] = cb_header_find(h, req_cols[k]);
    if (p->col[Q_RID] < 0 && p->col[Q_SERIAL] < 0)
        return cb_err_set(err, EX_DATAERR, "the requests have neither a request_id nor a serial column");
    return 0;
}

size_t cb_publisher_count(const cb_publisher *p)
{
    return p->nrows;
}

static const char *get(const cb_publisher *p, const cb_record *rec, int q)
{
    return p->col[q] < 0 ? "" : cb_record_get(rec, p->col[q]);
}

static int reject(cb_pub_result *res, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reject(cb_pub_result *res, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
    res->status = CB_PUB_REJECTED;
    res->field = field;
    return 0;
}

/* The certificate a request names, by serial or by request id; both given
 * must agree with the ledger. 1 when found, 0 when rejected. */
static int resolve(cb_publisher *p, const cb_record *rec, cb_pub_result *res)
{
    const char *rid = get(p, rec, Q_RID), *ser = get(p, rec, Q_SERIAL);
    if (*ser) {
        const char *owner = cb_ledger_find_serial(p->ledger, ser);
        if (owner == NULL)
            return reject(res, "serial", MSG(p, "no certificate with serial %s was issued (not in the ledger)",
                                             "không có chứng thư số số hiệu %s trong sổ cấp phát"), ser);
        if (*rid && strcmp(rid, owner) != 0)
            return reject(res, "serial", MSG(p, "serial %s was issued for request %s, not %s",
                                             "chứng thư số %s được cấp cho hồ sơ %s, không phải %s"),
                          ser, owner, rid);
        rid = owner;
    } else if (*rid) {
        if ((ser = cb_ledger_find_request(p->ledger, rid)) == NULL)
            return reject(res, "request_id", MSG(p, "no certificate was issued for request %s",
                                                 "hồ sơ %s chưa được cấp chứng thư số"), rid);
    } else {
        return reject(res, "request_id", "%s", MSG(p, "neither request_id nor serial is given",
                                                   "thiếu cả mã hồ sơ lẫn số hiệu chứng thư số"));
    }
    snprintf(res->request_id, sizeof res->request_id, "%s", rid);
    snprintf(res->serial, sizeof res->serial, "%s", ser);
    return 1;
}

/* The agency asking must be the one named in the certificate (O or OU):
 * only the holder's managing agency hands the device over. */
static int check_agency(cb_publisher *p, const cb_record *rec, const cb_pub_cert *c,
                        cb_pub_result *res)
{
    const char *agency = get(p, rec, Q_AGENCY);
    if (*agency == '\0')
        return reject(res, "agency", "%s", MSG(p, "the agency asking is not given",
                                               "thiếu tên cơ quan đề nghị"));
    char *k = cb_agency_key(agency), *ko = cb_agency_key(c->agency), *ku = cb_agency_key(c->unit);
    int same = k && ko && ku && (strcmp(k, ko) == 0 || (*ku && strcmp(k, ku) == 0));
    free(k);
    free(ko);
    free(ku);
    if (!same)
        return reject(res, "agency", MSG(p, "the certificate belongs to %s, not to %s",
                                         "chứng thư số thuộc %s, không thuộc %s"),
                      c->agency, agency);
    return 1;
}

static int check_dates(cb_publisher *p, const cb_record *rec, cb_pub_result *res,
                       cb_date *received, int64_t *effective)
{
    cb_date today = cb_date_of_instant(p->o.now), handed, issued_day = 0;
    const char *h = get(p, rec, Q_HANDED), *r = get(p, rec, Q_RECEIVED), *e = get(p, rec, Q_EFFECTIVE);
    const char *issued = cb_ledger_issued_at(p->ledger, res->request_id);
    int64_t t;
    if (issued && cb_instant_parse(issued, &t) == 0)
        issued_day = cb_date_of_instant(t);
    if (cb_date_parse(h, &handed) < 0)
        return reject(res, "handed_over_date", MSG(p, "'%s' is not a date of hand-over",
                                                   "'%s' không phải ngày bàn giao"), h);
    if (handed > today || (issued && handed < issued_day))
        return reject(res, "handed_over_date",
                      MSG(p, "the device cannot be handed over on %s: before the issue (%s) or after today",
                          "ngày bàn giao %s trước ngày cấp (%s) hoặc sau hôm nay"),
                      h, issued ? issued : "");
    if (cb_date_parse(r, received) < 0)
        return reject(res, "received_date", MSG(p, "'%s' is not a date of receipt",
                                                "'%s' không phải ngày tiếp nhận"), r);
    if (*received < handed || *received > today)
        return reject(res, "received_date",
                      MSG(p, "the request cannot be received on %s: before the hand-over or after today",
                          "ngày tiếp nhận %s trước ngày bàn giao hoặc sau hôm nay"), r);
    *effective = p->o.now;
    if (*e && cb_instant_parse(e, &t) < 0)
        return reject(res, "effective_at", MSG(p, "'%s' is not an instant", "'%s' không phải thời điểm"), e);
    /* effective from publication, or later when the agency asked so */
    if (*e && t > *effective)
        *effective = t;
    return 1;
}

static int load_cert(cb_publisher *p, const char *serial, cb_pub_cert *c, cb_pub_result *res,
                     cb_err *err)
{
    char norm[CB_SERIAL_MAX];
    cb_serial_key(serial, norm, sizeof norm);
    const char *ix = cb_strmap_get(&p->issued_ix, norm);
    der_item found = {0};
    const unsigned char *stored = NULL;
    if (ix != NULL) {
        found = p->issued[strtoul(ix, NULL, 10)];
    } else {
        /* the ledger's own store of what it issued (LEDGER.certs.pem) */
        int st = cb_ledger_cert(p->ledger, serial, &stored, &found.len, err);
        if (st < 0)
            return -1;
        if (st == 0)
            return reject(res, "serial", MSG(p, "certificate %s is neither in the --issued files nor in the ledger's store",
                                             "không thấy chứng thư số %s trong tệp --issued hay kho của sổ cấp phát"),
                          serial);
        found.der = (unsigned char *)stored;
    }
    const der_item *d = &found;
    cb_err e2 = {0};
    if (cb_pub_cert_init(c, d->der, d->len, "", res->request_id, &e2) < 0) {
        if (e2.code == EX_OSERR) {
            *err = e2;
            return -1;
        }
        return reject(res, "serial", "%s: %s", serial, e2.msg);
    }
    if (cb_crlset_is_revoked(p->crls, c->serial, d->der, d->len)) {
        cb_pub_cert_clear(c);
        return reject(res, "serial", MSG(p, "certificate %s is revoked", "chứng thư số %s đã bị thu hồi"),
                      serial);
    }
    return 1;
}

static char *b64(const unsigned char *der, size_t len)
{
    char *s = malloc(4 * ((len + 2) / 3) + 1);
    if (s)
        EVP_EncodeBlock((unsigned char *)s, der, (int)len);
    return s;
}

static int record_publication(cb_publisher *p, const cb_record *rec, const cb_pub_cert *c,
                              cb_date received, int64_t effective, cb_pub_result *res)
{
    cb_date due = cb_calendar_add_workdays(p->cal, received, 1);
    res->late = cb_date_of_instant(p->o.now) > due;
    cb_date_format(due, res->due_date);
    cb_instant_format(effective, res->effective_at);
    char recv[11], now[32];
    cb_date_format(received, recv);
    cb_instant_format(p->o.now, now);
    char *cert = b64(c->der, c->der_len);
    char handed[11];
    cb_date hd = 0;
    cb_date_parse(get(p, rec, Q_HANDED), &hd);
    cb_date_format(hd, handed);
    const char *v[NPUB] = {c->serial,    res->request_id,     get(p, rec, Q_AGENCY),
                           get(p, rec, Q_AGENCY_CODE), handed, recv, res->due_date,
                           res->effective_at, now, res->late ? "yes" : "no", cert};
    int rc = cert ? add_row(p, v) : -1;
    free(cert);
    snprintf(res->serial, sizeof res->serial, "%s", c->serial);
    res->status = CB_PUB_PUBLISHED;
    return rc;
}

int cb_publisher_request(cb_publisher *p, const cb_record *rec, cb_pub_result *res, cb_err *err)
{
    memset(res, 0, sizeof *res);
    if (!resolve(p, rec, res))
        return 0;
    char norm[CB_SERIAL_MAX];
    cb_serial_key(res->serial, norm, sizeof norm);
    const char *done = cb_strmap_get(&p->by_serial, norm);
    if (done) {
        const pub_row *r = &p->rows[strtoul(done, NULL, 10)];
        res->status = CB_PUB_ALREADY;
        snprintf(res->effective_at, sizeof res->effective_at, "%s", r->f[P_EFFECTIVE]);
        snprintf(res->due_date, sizeof res->due_date, "%s", r->f[P_DUE]);
        res->late = strcmp(r->f[P_LATE], "yes") == 0;
        return 0;
    }
    cb_pub_cert c;
    int st = load_cert(p, res->serial, &c, res, err);
    if (st <= 0)
        return st;
    cb_date received = 0;
    int64_t effective = 0;
    if (check_agency(p, rec, &c, res) && check_dates(p, rec, res, &received, &effective) &&
        record_publication(p, rec, &c, received, effective, res) < 0) {
        cb_pub_cert_clear(&c);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    cb_pub_cert_clear(&c);
    return 0;
}

/* ---- commit: the ledger, then the directory ---- */

static int append_rows(cb_publisher *p, cb_err *err)
{
    FILE *fp = fdopen(dup(p->fd), "a");
    if (fp == NULL)
        return cb_err_sys(err, EX_IOERR, "cannot write %s", p->published_path);
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    struct stat st;
    int bad = fstat(p->fd, &st) != 0 || (st.st_size == 0 && cb_csv_write_fields(&w, pub_cols, NPUB) < 0);
    for (size_t i = p->on_disk; i < p->nrows && !bad; i++)
        bad = cb_csv_write_fields(&w, (const char *const *)p->rows[i].f, NPUB) < 0;
    bad |= fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    if (bad)
        return cb_err_sys(err, EX_IOERR, "cannot write the publication ledger %s", p->published_path);
    p->on_disk = p->nrows;
    return 0;
}

static char *unb64(const char *s, size_t *len)
{
    size_t n = strlen(s), pad = 0;
    unsigned char *d = malloc(n / 4 * 3 + 3);
    if (d == NULL)
        return NULL;
    int r = EVP_DecodeBlock(d, (const unsigned char *)s, (int)n);
    while (n > pad && s[n - 1 - pad] == '=')
        pad++;
    if (r < 0 || n % 4 != 0 || (size_t)r < pad) {
        free(d);
        return NULL;
    }
    *len = (size_t)r - pad;
    return (char *)d;
}

int cb_publisher_certs(const cb_publisher *p, cb_pub_cert **out, size_t *n, cb_err *err)
{
    cb_pub_cert *c = calloc(p->nrows ? p->nrows : 1, sizeof *c);
    if (c == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < p->nrows; i++) {
        const pub_row *r = &p->rows[i];
        size_t len = 0;
        unsigned char *der = (unsigned char *)unb64(r->f[P_CERT], &len);
        int rc = der ? cb_pub_cert_init(&c[i], der, len, r->f[P_EFFECTIVE], r->f[P_RID], err)
                     : cb_err_set(err, EX_DATAERR, "bad base64");
        free(der);
        if (rc < 0) {
            for (size_t k = 0; k < i; k++)
                cb_pub_cert_clear(&c[k]);
            free(c);
            return cb_err_set(err, err->code, "%s: certificate %s: %s", p->published_path,
                              r->f[P_SERIAL], err->msg);
        }
    }
    *out = c;
    *n = p->nrows;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* "N certificates" in DIR/.publication tells a re-run the directory is
 * already the publication of the ledger it holds. */
static int dir_is_current(const cb_publisher *p)
{
    char path[4096], buf[64] = "", want[64];
    snprintf(path, sizeof path, "%s/.publication", p->o.out_dir);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    snprintf(want, sizeof want, "%zu certificates\n", p->nrows);
    return strcmp(buf, want) == 0;
}

static int build(cb_publisher *p, const char *tmp, cb_err *err)
{
    if (mkdir(tmp, 0755) != 0)
        return cb_err_sys(err, EX_CANTCREAT, "cannot create %s", tmp);
    cb_pub_cert *certs = NULL;
    size_t n = 0;
    if (cb_publisher_certs(p, &certs, &n, err) < 0)
        return -1;
    int rc = cb_pubsite_write(tmp, certs, n, p->o.ldap_base, err);
    for (size_t i = 0; i < n; i++)
        cb_pub_cert_clear(&certs[i]);
    free(certs);
    char stamp[4096], text[64];
    snprintf(stamp, sizeof stamp, "%s/.publication", tmp);
    int len = snprintf(text, sizeof text, "%zu certificates\n", p->nrows);
    if (rc == 0)
        rc = cb_atomic_write_file(stamp, text, (size_t)len, 0644, 1, err);
    if (rc == 0)
        rc = cb_fsync_dir(tmp, err);
    return rc;
}

/* The new directory takes the old one's place in one rename: exchanged
 * with it (Linux renameat2), or renamed into place the first time. */
static int swap_in(const char *tmp, const char *dir, cb_err *err)
{
    struct stat st;
    int exists = lstat(dir, &st) == 0;
    if (exists && renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) != 0)
        return cb_err_sys(err, EX_CANTCREAT, "cannot swap %s into place", dir);
    if (!exists && rename(tmp, dir) != 0)
        return cb_err_sys(err, EX_CANTCREAT, "cannot rename %s to %s", tmp, dir);
    return 0;
}

static char *beside(const char *dir, const char *what)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    const char *slash = memrchr(dir, '/', n);
    size_t head = slash ? (size_t)(slash - dir) + 1 : 0;
    size_t sz = n + strlen(what) + 8;
    char *out = malloc(sz);
    if (out)
        snprintf(out, sz, "%.*s.%.*s.%s", (int)head, dir, (int)(n - head), dir + head, what);
    return out;
}

int cb_publisher_commit(cb_publisher *p, int *rebuilt, cb_err *err)
{
    *rebuilt = 0;
    if (p->on_disk < p->nrows && append_rows(p, err) < 0)
        return -1;
    char *tmp = beside(p->o.out_dir, "building"), *parent = beside(p->o.out_dir, "");
    if (tmp == NULL || parent == NULL) {
        free(tmp);
        free(parent);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    /* the parent directory of out_dir, for its fsync */
    char *slash = strrchr(parent, '/');
    if (slash)
        slash[slash == parent] = '\0';
    else
        strcpy(parent, ".");
    int rc = 0, current = 0;
    /* a build a crash left unfinished goes first, whatever happens next */
    if (rm_tree(tmp) != 0)
        rc = cb_err_sys(err, EX_CANTCREAT, "cannot remove the unfinished %s", tmp);
    else if ((current = dir_is_current(p)) != 0)
        goto out;
    if (rc == 0)
        rc = build(p, tmp, err);
    if (rc == 0)
        rc = swap_in(tmp, p->o.out_dir, err);
    if (rc == 0) {
        *rebuilt = 1;
        if (rm_tree(tmp) != 0)   /* the old publication, now at tmp */
            rc = cb_err_sys(err, EX_IOERR, "cannot remove the old publication %s", tmp);
        cb_fsync_dir(parent, NULL);
    } else {
        rm_tree(tmp);
    }
out:
    free(tmp);
    free(parent);
    return rc;
}

int cb_publisher_audit(const cb_publisher *p, cb_audit *a, cb_err *err)
{
    for (size_t i = p->first_new; a && i < p->nrows; i++) {
        const pub_row *r = &p->rows[i];
        size_t len = 0;
        unsigned char *der = (unsigned char *)unb64(r->f[P_CERT], &len);
        cb_pub_cert c;
        if (der == NULL || cb_pub_cert_init(&c, der, len, r->f[P_EFFECTIVE], r->f[P_RID], err) < 0) {
            free(der);
            return err->code ? -1 : cb_err_set(err, EX_OSERR, "out of memory");
        }
        free(der);
        char detail[256];
        snprintf(detail, sizeof detail, "effective_at=%s agency=%.120s%s", r->f[P_EFFECTIVE],
                 r->f[P_AGENCY], strcmp(r->f[P_LATE], "yes") == 0 ? " late" : "");
        int rc = cb_audit_add(a, "publish", r->f[P_RID], c.serial, c.sha256, c.holder, detail, err);
        cb_pub_cert_clear(&c);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int cb_publisher_ldap(const cb_publisher *p, const cb_ldap_target *t, unsigned long *added,
                      unsigned long *replaced, cb_err *err)
{
    cb_pub_cert *certs = NULL;
    size_t n = 0, nh = 0;
    if (cb_publisher_certs(p, &certs, &n, err) < 0)
        return -1;
    const cb_pub_cert **ptr = malloc((n ? n : 1) * sizeof *ptr);
    cb_pub_holder *h = NULL;
    int rc = ptr ? 0 : cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        ptr[i] = &certs[i];
    if (rc == 0)
        rc = cb_pub_holders(ptr, n, p->o.ldap_base, &h, &nh, err);
    if (rc == 0)
        rc = cb_ldap_publish(t, h, nh, added, replaced, err);
    cb_pub_holders_free(h, nh);
    free(ptr);
    for (size_t i = 0; i < n; i++)
        cb_pub_cert_clear(&certs[i]);
    free(certs);
    return rc;
}

int cb_publisher_find(const cb_publisher *p, const char *serial, cb_publication *out)
{
    char norm[CB_SERIAL_MAX];
    cb_serial_key(serial, norm, sizeof norm);
    const char *ix = *norm ? cb_strmap_get(&p->by_serial, norm) : NULL;
    if (ix == NULL)
        return 0;
    const pub_row *r = &p->rows[strtoul(ix, NULL, 10)];
    *out = (cb_publication){r->f[P_RID],         r->f[P_HANDED],    r->f[P_RECEIVED], r->f[P_DUE],
                            r->f[P_EFFECTIVE],   r->f[P_PUBLISHED], r->f[P_LATE]};
    return 1;
}

const cb_ledger *cb_publisher_ledger(const cb_publisher *p)
{
    return p->ledger;
}

int cb_publisher_effective(const cb_publisher *p, const char *serial, int64_t at)
{
    if (cb_ledger_find_serial(p->ledger, serial) == NULL)
        return -1;
    cb_publication pb;
    int64_t eff;
    if (!cb_publisher_find(p, serial, &pb) || cb_instant_parse(pb.effective_at, &eff) < 0)
        return 0;
    return eff <= at;
}
