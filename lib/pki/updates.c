/* Routing the returned update file: see updates.h. The requests are held in
 * memory (one entry each, with two hash indexes: the public key of the old
 * certificate and e-mail+name); the certificates stream through one at a
 * time. */
#include "updates.h"
#include "serial.h"
#include "strmap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>
#include <utf8proc.h>

#include "atomic.h"
#include "certinfo.h"
#include "csvio.h"
#include "date.h"
#include "pemscan.h"
#include "record.h"
#include "vntext.h"

/* ---- Serials, names, keys ---------------------------------------------- */

/* The serial as the manifest and the file names show it, the way
 * `openssl x509 -serial` prints it (cut to size). */
static void serial_hex(const X509 *cert, char *buf, size_t size)
{
    char *h = cb_asn1_int_hex(X509_get0_serialNumber(cert));
    snprintf(buf, size, "%s", h ? h : "");
    free(h);
}

int cb_update_safe_name(const char *s, size_t max, char *out, size_t out_size)
{
    if (out_size == 0)
        return -1;
    if (max > out_size - 1)
        max = out_size - 1;
    char *slug = cb_slug(s, max);
    if (slug == NULL)
        return -1;
    /* Names starting with '_' are ours (_unmatched): data never gets one. */
    const char *p = slug;
    while (*p == '_' || *p == '-' || *p == '.')
        p++;
    snprintf(out, out_size, "%s", *p ? p : "unnamed");
    free(slug);
    return 0;
}

char *cb_update_name_key(const char *s)
{
    return cb_text_key(s);
}

static char *email_key(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *k = strdup(s);
    if (k == NULL)
        return NULL;
    size_t n = strlen(k);
    while (n && (k[n - 1] == ' ' || k[n - 1] == '\t'))
        k[--n] = '\0';
    for (char *p = k; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return k;
}

/* ---- The router -------------------------------------------------------- */

#define NONE ((size_t)-1)

typedef struct req {
    cb_update_request pub;
    char *name_key;       /* of full_name or org_name */
    char *email_key;
    size_t next_key;      /* next request with the same old public key */
    size_t next_name;     /* next request with the same e-mail and name */
} req;

typedef struct pending {
    char *tmp, *final;
    size_t slot;        /* the result it belongs to */
    size_t req;         /* the request it answers, or NONE */
} pending;

struct cb_updates {
    char *out_dir;
    cb_update_format fmt;
    int64_t verify_at;
    cb_trust *trust;          /* the caller's */
    req *reqs;
    size_t nreq, capreq;
    cb_keymap by_id;
    cb_keymap by_key;        /* hex SHA-256 of the old certificate's public key */
    cb_keymap by_name;       /* e-mail "\n" name key */
    cb_keymap old_serials;   /* serial -> index in old_keys */
    char (*old_keys)[65];
    size_t nold, capold;
    int indexed;
    int dirfd;                /* out_dir, for syncfs */
    cb_update_result *queue;  /* results of the current batch */
    size_t qn, qcap, qready, qnext;
    pending *pend;            /* files written, not yet named */
    size_t npend, cappend;
    unsigned long tmp_seq;
    long pid;
    EVP_MD *sha256;           /* fetched once: an implicit fetch per call takes locks */
    cb_keymap dirs;              /* agency folders already made and checked */
};

static void drop_pending(pending *p);

const char *cb_update_status_name(cb_update_status st)
{
    static const char *const names[] = {"delivered", "unchanged", "unmatched", "duplicate",
                                        "untrusted", "conflict", "unreadable", "chain", "missing"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

int cb_update_status_is_reject(cb_update_status st)
{
    return st != CB_UPD_DELIVERED && st != CB_UPD_UNCHANGED && st != CB_UPD_CHAIN &&
           st != CB_UPD_MISSING;
}

/* The temporaries a killed run left in the agency folders
 * (DIR/<agency>/.split-updates.tmp.PID.N) go before this run writes: a
 * re-run leaves none behind. */
static int sweep_temps(const char *out_dir, cb_err *err)
{
    DIR *d = opendir(out_dir);
    if (d == NULL)
        return cb_err_sys(err, EX_CANTCREAT, "cannot read %s", out_dir);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        size_t n = strlen(out_dir) + strlen(de->d_name) + 2;
        char *sub = malloc(n);
        if (sub == NULL) {
            rc = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
        snprintf(sub, n, "%s/%s", out_dir, de->d_name);
        if (cb_atomic_sweep(sub, "split-updates", err) < 0)
            rc = -1;
        free(sub);
    }
    closedir(d);
    return rc;
}

cb_updates *cb_updates_new(const char *out_dir, cb_update_format fmt, int64_t verify_at,
                           cb_err *err)
{
    cb_updates *u = calloc(1, sizeof *u);
    if (u != NULL)
        u->dirfd = -1;
    if (u == NULL || (u->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
        (u->out_dir = strdup(out_dir)) == NULL) {
        cb_updates_free(u);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    size_t n = strlen(u->out_dir);
    while (n > 1 && u->out_dir[n - 1] == '/')
        u->out_dir[--n] = '\0';
    u->fmt = fmt;
    u->pid = (long)getpid();
    u->verify_at = verify_at;
    if (mkdir(u->out_dir, 0755) != 0 && errno != EEXIST) {
        cb_err_sys(err, EX_CANTCREAT, "cannot create %s", u->out_dir);
        cb_updates_free(u);
        return NULL;
    }
    u->dirfd = open(u->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (u->dirfd < 0) {
        cb_err_sys(err, EX_CANTCREAT, "cannot open %s", u->out_dir);
        cb_updates_free(u);
        return NULL;
    }
    if (sweep_temps(u->out_dir, err) < 0) {
        cb_updates_free(u);
        return NULL;
    }
    return u;
}

void cb_updates_free(cb_updates *u)
{
    if (u == NULL)
        return;
    for (size_t i = 0; i < u->nreq; i++) {
        cb_update_request *p = &u->reqs[i].pub;
        free(p->request_id);
        free(p->old_serial);
        free(p->holder);
        free(p->email);
        free(p->agency);
        free(p->agency_key);
        free(p->agency_code);
        free(u->reqs[i].name_key);
        free(u->reqs[i].email_key);
    }
    free(u->reqs);
    for (size_t i = 0; i < u->npend; i++)
        drop_pending(&u->pend[i]);
    free(u->pend);
    free(u->queue);
    if (u->dirfd >= 0)
        close(u->dirfd);
    cb_keymap_clear(&u->dirs);
    EVP_MD_free(u->sha256);
    cb_keymap_clear(&u->by_id);
    cb_keymap_clear(&u->by_key);
    cb_keymap_clear(&u->by_name);
    cb_keymap_clear(&u->old_serials);
    free(u->old_keys);
    free(u->out_dir);
    free(u);
}

size_t cb_updates_request_count(const cb_updates *u)
{
    return u->nreq;
}

void cb_updates_set_trust(cb_updates *u, cb_trust *trust)
{
    u->trust = trust;
}

static char *dup_field(const cb_record *rec, int col)
{
    const char *s = col >= 0 ? cb_record_get(rec, col) : "";
    while (*s == ' ' || *s == '\t')
        s++;
    char *d = strdup(s);
    if (d == NULL)
        return NULL;
    size_t n = strlen(d);
    while (n && (d[n - 1] == ' ' || d[n - 1] == '\t' || d[n - 1] == '\r' || d[n - 1] == '\n'))
        d[--n] = '\0';
    return d;
}

int cb_updates_load_requests(cb_updates *u, char *const *files, int nfiles, cb_err *err)
{
    cb_csv_reader *rd = cb_csv_reader_open(files, nfiles, 0, err);
    if (rd == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(rd);
    int c_id = cb_header_find(h, "request_id"), c_old = cb_header_find(h, "old_serial"),
        c_full = cb_header_find(h, "full_name"), c_org = cb_header_find(h, "org_name"),
        c_mail = cb_header_find(h, "email"), c_ag = cb_header_find(h, "agency"),
        c_agk = cb_header_find(h, "agency_key"), c_agc = cb_header_find(h, "agency_code"),
        c_st = cb_header_find(h, "subject_type");
    if (c_id < 0 && !cb_csv_reader_empty(rd)) {   /* an empty file is zero requests */
        cb_err_set(err, EX_DATAERR, "%s: the requests have no request_id column", cb_csv_reader_name(rd));
        cb_csv_reader_close(rd);
        return -1;
    }
    cb_record *rec = cb_record_new();
    int rc, ret = 0;
    while (rec != NULL && (rc = cb_csv_reader_next(rd, rec, err)) != CB_CSV_EOF) {
        if (rc == CB_CSV_FATAL) {
            ret = -1;
            break;
        }
        if (rc == CB_CSV_MALFORMED) {
            ret = cb_err_set(err, EX_DATAERR, "%s:%ld: %s", cb_csv_reader_name(rd), rec->line, err->msg);
            break;
        }
        if (u->nreq == u->capreq) {
            size_t cap = u->capreq ? u->capreq * 2 : 256;
            req *p = realloc(u->reqs, cap * sizeof *p);
            if (p == NULL) {
                ret = cb_err_set(err, EX_OSERR, "out of memory");
                break;
            }
            u->reqs = p;
            u->capreq = cap;
        }
        req *q = &u->reqs[u->nreq];
        memset(q, 0, sizeof *q);
        q->next_key = q->next_name = NONE;
        cb_update_request *p = &q->pub;
        p->line = rec->line;
        /* An organisation's certificate carries the organisation's name. */
        const char *st = c_st >= 0 ? cb_record_get(rec, c_st) : "";
        int org = strcmp(st, "organization") == 0 ||
                  (c_full < 0 || *cb_record_get(rec, c_full) == '\0');
        p->request_id = dup_field(rec, c_id);
        char *old = dup_field(rec, c_old);
        p->holder = dup_field(rec, org ? c_org : c_full);
        p->email = dup_field(rec, c_mail);
        p->agency = dup_field(rec, c_ag);
        p->agency_key = dup_field(rec, c_agk);
        p->agency_code = dup_field(rec, c_agc);
        u->nreq++;   /* freed with the others from here on */
        if (p->agency_key != NULL && *p->agency_key == '\0' && p->agency != NULL) {
            /* raw forms: group as validate-form would */
            free(p->agency_key);
            p->agency_key = cb_agency_key(p->agency);
        }
        if (old != NULL && *old) {
            /* as certificates show it, to match theirs; a value that is
             * not a serial stays as typed and matches none */
            p->old_serial = malloc(strlen(old) + 4);
            if (p->old_serial && cb_serial_display(old, p->old_serial, strlen(old) + 4) < 0)
                strcpy(p->old_serial, old);
        } else {
            p->old_serial = old, old = NULL;
        }
        free(old);
        if (p->request_id == NULL || p->old_serial == NULL || p->holder == NULL || p->email == NULL ||
            p->agency == NULL || p->agency_key == NULL || p->agency_code == NULL ||
            (q->name_key = cb_update_name_key(p->holder)) == NULL ||
            (q->email_key = email_key(p->email)) == NULL) {
            ret = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
        if (*p->request_id == '\0') {
            ret = cb_err_set(err, EX_DATAERR, "%s:%ld: request_id: the request has no request_id",
                             cb_csv_reader_name(rd), rec->line);
            break;
        }
        size_t first;
        int added = cb_keymap_add(&u->by_id, p->request_id, u->nreq - 1, &first);
        if (added < 0) {
            ret = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
        if (added == 0) {
            ret = cb_err_set(err, EX_DATAERR, "%s:%ld: request_id: %s appears already on line %ld",
                             cb_csv_reader_name(rd), rec->line, p->request_id, u->reqs[first].pub.line);
            break;
        }
    }
    if (rec == NULL)
        ret = cb_err_set(err, EX_OSERR, "out of memory");
    cb_record_free(rec);
    cb_csv_reader_close(rd);
    u->indexed = 0;
    return ret;
}

static void key_hex(const EVP_MD *sha256, X509 *cert, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (sha256 == NULL || !X509_pubkey_digest(cert, sha256, md, &n) || n != 32) {
        out[0] = '\0';
        return;
    }
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static int add_old_cert(cb_updates *u, X509 *x, cb_err *err)
{
    char serial[48];
    serial_hex(x, serial, sizeof serial);
    if (u->nold == u->capold) {
        size_t cap = u->capold ? u->capold * 2 : 256;
        char(*p)[65] = realloc(u->old_keys, cap * sizeof *p);
        if (p == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        u->old_keys = p;
        u->capold = cap;
    }
    key_hex(u->sha256, x, u->old_keys[u->nold]);
    int added = cb_keymap_add(&u->old_serials, serial, u->nold, NULL);
    if (added < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (added)
        u->nold++;
    u->indexed = 0;
    return 0;
}

static int load_old_file(cb_updates *u, const char *path, unsigned long *skipped, cb_err *err)
{
    cb_certs_reader *r = cb_certs_open(path, err);
    if (r == NULL)
        return -1;
    X509 *x;
    long line, index;
    int rc, ret = 0;
    while ((rc = cb_certs_next(r, &x, &line, &index, err)) != CB_CERTS_EOF) {
        if (rc == CB_CERTS_FATAL) {
            ret = -1;
            break;
        }
        if (rc == CB_CERTS_UNREADABLE) {
            if (skipped)
                (*skipped)++;
            continue;
        }
        ret = add_old_cert(u, x, err);
        X509_free(x);
        if (ret < 0)
            break;
    }
    cb_certs_close(r);
    return ret;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cb_updates_load_old_certs(cb_updates *u, const char *path, unsigned long *skipped, cb_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
    if (!S_ISDIR(st.st_mode))
        return load_old_file(u, path, skipped, err);
    DIR *d = opendir(path);
    if (d == NULL)
        return cb_err_sys(err, EX_NOINPUT, "cannot open %s", path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int ret = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (p == NULL) {
                ret = cb_err_set(err, EX_OSERR, "out of memory");
                break;
            }
            names = p;
        }
        size_t len = strlen(path) + strlen(de->d_name) + 2;
        if ((names[n] = malloc(len)) == NULL) {
            ret = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
        snprintf(names[n++], len, "%s/%s", path, de->d_name);
    }
    closedir(d);
    /* Sorted, so the first of two copies of a serial is always the same. */
    if (ret == 0 && n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (ret == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            ret = load_old_file(u, names[i], skipped, err);
        free(names[i]);
    }
    free(names);
    return ret;
}

/* Links each request to the public key of its old certificate and to its
 * e-mail and name, keeping input order within a key so the first pending
 * request is the one answered first. */
static int build_index(cb_updates *u, cb_err *err)
{
    cb_keymap_clear(&u->by_key);
    cb_keymap_clear(&u->by_name);
    for (size_t i = 0; i < u->nreq; i++) {
        req *q = &u->reqs[i];
        q->next_key = q->next_name = NONE;
        size_t oi, head;
        if (*q->pub.old_serial && cb_keymap_get(&u->old_serials, q->pub.old_serial, &oi) &&
            u->old_keys[oi][0]) {
            int a = cb_keymap_add(&u->by_key, u->old_keys[oi], i, &head);
            if (a < 0)
                goto oom;
            if (a == 0) {
                while (u->reqs[head].next_key != NONE)
                    head = u->reqs[head].next_key;
                u->reqs[head].next_key = i;
            }
        }
        if (*q->email_key && *q->name_key) {
            size_t len = strlen(q->email_key) + strlen(q->name_key) + 2;
            char *k = malloc(len);
            if (k == NULL)
                goto oom;
            snprintf(k, len, "%s\n%s", q->email_key, q->name_key);
            int a = cb_keymap_add(&u->by_name, k, i, &head);
            free(k);
            if (a < 0)
                goto oom;
            if (a == 0) {
                while (u->reqs[head].next_name != NONE)
                    head = u->reqs[head].next_name;
                u->reqs[head].next_name = i;
            }
        }
    }
    u->indexed = 1;
    return 0;
oom:
    return cb_err_set(err, EX_OSERR, "out of memory");
}

static void subject_text(X509 *cert, int nid, char *out, size_t size)
{
    out[0] = '\0';
    const X509_NAME *name = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    if (i < 0)
        return;
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n < 0)
        return;
    snprintf(out, size, "%.*s", n, (char *)utf8);
    OPENSSL_free(utf8);
}

static void cert_email(X509 *cert, char *out, size_t size)
{
    subject_text(cert, NID_pkcs9_emailAddress, out, size);
    if (*out)
        return;
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_EMAIL) {
            snprintf(out, size, "%.*s", ASN1_STRING_length(g->d.rfc822Name),
                     (const char *)ASN1_STRING_get0_data(g->d.rfc822Name));
            break;
        }
    }
    GENERAL_NAMES_free(gens);
}

/* A pending request on a chain: the first not yet answered whose old
 * certificate is not this very certificate. *seen is the first one of the
 * chain, for telling a duplicate from no match. */
static size_t first_pending(const cb_updates *u, size_t i, int by_key, const char *serial, size_t *seen)
{
    for (; i != NONE; i = by_key ? u->reqs[i].next_key : u->reqs[i].next_name) {
        const req *q = &u->reqs[i];
        if (strcmp(q->pub.old_serial, serial) == 0)
            continue;   /* the old certificate sent back is no renewal */
        if (*seen == NONE)
            *seen = i;
        if (!q->pub.answered)
            return i;
    }
    return NONE;
}

/* ---- Storing, in batches ------------------------------------------------
 * Each file is written to a hidden temporary name in its final directory;
 * once a batch is written, one syncfs() makes all of it durable, then each
 * temporary file is linked to its final name (link() never replaces a file)
 * and a second syncfs() makes the names durable. A name therefore never
 * points at data that could be lost in a crash, as with fsync-then-rename per
 * file, but without two fsyncs per certificate, which made a 100,000
 * certificate run wait on the disk for most of its time. */

#define BATCH_RESULTS 2048

/* 1 when the two files hold the same bytes, 0 when not, -1 when one cannot
 * be read. */
static int same_files(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = -1;
    if (fa != NULL && fb != NULL) {
        unsigned char ba[8192], bb[8192];
        same = 1;
        for (;;) {
            size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
            if (na != nb || memcmp(ba, bb, na) != 0) {
                same = 0;
                break;
            }
            if (na == 0)
                break;
        }
        if (ferror(fa) || ferror(fb))
            same = -1;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static int same_content(const char *path, const unsigned char *data, size_t len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return -1;
    int same = 1;
    unsigned char buf[8192];
    size_t off = 0, n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
        if (off + n > len || memcmp(buf, data + off, n) != 0) {
            same = 0;
            break;
        }
        off += n;
    }
    if (same && off != len)
        same = 0;
    int bad = ferror(fp);
    fclose(fp);
    return bad ? -1 : same;
}

/* Flushes the file system of the output directory. */
static int sync_out(cb_updates *u, cb_err *err)
{
    if (syscall(SYS_syncfs, u->dirfd) == 0)
        return 0;
    if (errno == ENOSYS) {
        sync();
        return 0;
    }
    return cb_err_sys(err, EX_IOERR, "cannot flush %s to disk", u->out_dir);
}

static void drop_pending(pending *p)
{
    if (p->tmp)
        unlink(p->tmp);
    free(p->tmp);
    free(p->final);
    p->tmp = p->final = NULL;
}

static void set_conflict(cb_update_result *res, const char *path)
{
    res->status = CB_UPD_CONFLICT;
    snprintf(res->reason, sizeof res->reason,
             "%.400s already exists and holds another certificate: left alone", path);
}

/* Makes the batch durable and gives each file its name; the batch's results
 * become final. */
static int commit(cb_updates *u, cb_err *err)
{
    int ret = 0;
    if (u->npend) {
        if (sync_out(u, err) < 0)
            ret = -1;
        for (size_t i = 0; i < u->npend; i++) {
            pending *p = &u->pend[i];
            cb_update_result *res = &u->queue[p->slot];
            if (ret == 0 && link(p->tmp, p->final) != 0) {
                int same = errno == EEXIST ? same_files(p->tmp, p->final) : -1;
                if (same < 0) {
                    ret = cb_err_sys(err, EX_CANTCREAT, "cannot create %s", p->final);
                } else if (!same && res->status != CB_UPD_CONFLICT) {
                    set_conflict(res, p->final);
                    if (p->req != NONE)
                        u->reqs[p->req].pub.answered = 0;
                } else if (same && res->status == CB_UPD_DELIVERED) {
                    res->status = CB_UPD_UNCHANGED;
                }
            }
            drop_pending(p);
        }
        u->npend = 0;
        if (ret == 0 && sync_out(u, err) < 0)
            ret = -1;
    }
    u->qready = u->qn;
    return ret;
}

/* A temporary file in dir holding data; its name into *tmp (malloc'd). */
static int write_temp(cb_updates *u, const char *dir, const unsigned char *data, size_t len, char **tmp,
                      cb_err *err)
{
    size_t n = strlen(dir) + 64;
    char *t = malloc(n);
    if (t == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(t, n, "%s/.split-updates.tmp.%ld.%lu", dir, u->pid, u->tmp_seq++);
        fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        cb_err_sys(err, EX_CANTCREAT, "cannot create a file in %s", dir);
        free(t);
        return -1;
    }
    fchmod(fd, 0644);   /* whatever the umask: the holder's office reads these */
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (close(fd) != 0 || off != len) {
        cb_err_sys(err, EX_IOERR, "cannot write %s", t);
        unlink(t);
        free(t);
        return -1;
    }
    *tmp = t;
    return 0;
}

/* DIR/sub, created if missing; it must be a real directory, not a link
 * someone left there. */
static int ensure_dir(const char *path, cb_err *err)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return cb_err_sys(err, EX_CANTCREAT, "cannot create %s", path);
    struct stat st;
    if (lstat(path, &st) != 0)
        return cb_err_sys(err, EX_CANTCREAT, "cannot create %s", path);
    if (!S_ISDIR(st.st_mode))
        return cb_err_set(err, EX_CANTCREAT, "%s exists and is not a directory", path);
    return 0;
}

static const char unmatched_dir[] = "_unmatched";

/* Stores the certificate under DIR/sub for result slot; sets res->path and
 * res->status to delivered (pending the batch commit), unchanged or
 * conflict. Returns 0, or -1. */
static int store(cb_updates *u, X509 *cert, const char *sub, const char *holder, size_t slot, size_t reqi,
                 cb_err *err)
{
    cb_update_result *res = &u->queue[slot];
    char dir[4096], agency[160], name[160];
    /* Only our own folder keeps its '_': a request's agency_key of
     * "_unmatched" (or any "_x") is data and is made safe like any name. */
    if (sub == unmatched_dir)
        snprintf(agency, sizeof agency, "%s", sub);
    else if (cb_update_safe_name(sub, 120, agency, sizeof agency) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (cb_update_safe_name(holder, 100, name, sizeof name) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", u->out_dir, agency) >= sizeof dir)
        return cb_err_set(err, EX_CANTCREAT, "%s: directory name too long", u->out_dir);
    size_t known;
    if (!cb_keymap_get(&u->dirs, dir, &known)) {
        if (ensure_dir(dir, err) < 0)
            return -1;
        if (cb_keymap_add(&u->dirs, dir, 1, NULL) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }
    size_t first_pend = u->npend;
    res->status = CB_UPD_UNCHANGED;
    res->path[0] = '\0';
    for (int f = CB_UPD_PEM; f <= CB_UPD_DER; f <<= 1) {
        if (!(u->fmt & f))
            continue;
        char path[sizeof res->path];
        if ((size_t)snprintf(path, sizeof path, "%s/%s-%s.%s", dir, name, res->serial,
                             f == CB_UPD_PEM ? "pem" : "cer") >= sizeof path)
            return cb_err_set(err, EX_CANTCREAT, "%s: file name too long", dir);
        if (res->path[0] == '\0')
            memcpy(res->path, path, sizeof path);
        unsigned char *data = NULL;
        long len;
        BIO *mem = NULL;
        if (f == CB_UPD_PEM) {
            char *p;
            mem = BIO_new(BIO_s_mem());
            if (mem == NULL || !PEM_write_bio_X509(mem, cert) || (len = BIO_get_mem_data(mem, &p)) <= 0) {
                BIO_free(mem);
                return cb_err_set(err, EX_SOFTWARE, "cannot encode certificate %s", res->serial);
            }
            data = (unsigned char *)p;
        } else {
            int n = i2d_X509(cert, &data);
            if (n <= 0)
                return cb_err_set(err, EX_SOFTWARE, "cannot encode certificate %s", res->serial);
            len = n;
        }
        struct stat st;
        int rc = 0;
        if (lstat(path, &st) == 0) {
            int same = S_ISREG(st.st_mode) ? same_content(path, data, (size_t)len) : 0;
            if (same < 0)
                rc = cb_err_sys(err, EX_IOERR, "cannot read %s", path);
            else if (!same)
                set_conflict(res, path);
        } else if (u->npend == u->cappend &&
                   (u->cappend = u->cappend ? u->cappend * 2 : 64,
                    (u->pend = realloc(u->pend, u->cappend * sizeof *u->pend)) == NULL)) {
            rc = cb_err_set(err, EX_OSERR, "out of memory");
        } else {
            pending *p = &u->pend[u->npend];
            *p = (pending){NULL, strdup(path), slot, reqi};
            if (p->final == NULL)
                rc = cb_err_set(err, EX_OSERR, "out of memory");
            else if (write_temp(u, dir, data, (size_t)len, &p->tmp, err) < 0)
                rc = -1, free(p->final);
            else
                u->npend++, res->status = CB_UPD_DELIVERED;
        }
        if (mem)
            BIO_free(mem);
        else
            OPENSSL_free(data);
        if (rc < 0)
            return -1;
        if (res->status == CB_UPD_CONFLICT) {
            while (u->npend > first_pend)
                drop_pending(&u->pend[--u->npend]);
            return 0;
        }
    }
    return 0;
}

/* A new result at the end of the queue, or NULL when out of memory. Results
 * already handed out are forgotten first. */
static cb_update_result *new_result(cb_updates *u, const char *source, long line)
{
    if (u->qnext == u->qn && u->npend == 0)
        u->qn = u->qready = u->qnext = 0;
    if (u->qn == u->qcap) {
        size_t cap = u->qcap ? u->qcap * 2 : BATCH_RESULTS + 8;
        cb_update_result *q = realloc(u->queue, cap * sizeof *q);
        if (q == NULL)
            return NULL;
        u->queue = q;
        u->qcap = cap;
    }
    cb_update_result *res = &u->queue[u->qn++];
    memset(res, 0, sizeof *res);
    res->matched_by = "";
    res->line = line;
    snprintf(res->source, sizeof res->source, "%s", source ? source : "");
    return res;
}

/* After each item: results with nothing pending are final at once. */
static int settle(cb_updates *u, cb_err *err)
{
    if (u->npend == 0) {
        u->qready = u->qn;
        return 0;
    }
    if (u->qn - u->qnext >= BATCH_RESULTS)
        return commit(u, err);
    return 0;
}

int cb_updates_add_unreadable(cb_updates *u, const char *source, long line, const char *reason,
                              cb_err *err)
{
    cb_update_result *res = new_result(u, source, line);
    if (res == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    res->status = CB_UPD_UNREADABLE;
    snprintf(res->reason, sizeof res->reason, "%s", reason);
    return settle(u, err);
}

int cb_updates_route(cb_updates *u, X509 *cert, const char *source, long line, cb_err *err)
{
    if (!u->indexed && build_index(u, err) < 0)
        return -1;
    cb_update_result *res = new_result(u, source, line);
    if (res == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    size_t slot = (size_t)(res - u->queue);
    serial_hex(cert, res->serial, sizeof res->serial);
    subject_text(cert, NID_commonName, res->subject_cn, sizeof res->subject_cn);
    cert_email(cert, res->email, sizeof res->email);
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm))
        cb_instant_format(cb_instant_from_utc_tm(&tm), res->not_after);

    if (u->trust == NULL)
        return cb_err_set(err, EX_SOFTWARE, "no trust anchors to check certificates against");
    /* A CA certificate sent along may be the intermediate of the next ones. */
    cb_trust_result tr;
    if (cb_trust_add_intermediate(u->trust, cert, err) < 0 ||
        cb_trust_verify(u->trust, cert, u->verify_at, &tr, err) < 0)
        return -1;
    if (tr.verdict != CB_TRUST_OK) {
        res->status = CB_UPD_UNTRUSTED;
        snprintf(res->trust_problem, sizeof res->trust_problem, "%s", tr.problem);
        snprintf(res->reason, sizeof res->reason, "the certificate does not verify against the CA: %.440s",
                 tr.problem);
        return settle(u, err);
    }
    /* Bundles exported "with the certification path" carry the CA
     * certificates too: when they verify, they belong to no holder and are
     * no reject. */
    if (X509_get_extension_flags(cert) & EXFLAG_CA) {
        res->status = CB_UPD_CHAIN;
        snprintf(res->reason, sizeof res->reason,
                 "a CA certificate sent with the bundle: not a holder's, not written");
        return settle(u, err);
    }

    size_t hit = NONE, seen = NONE, head;
    char key[65];
    key_hex(u->sha256, cert, key);
    if (key[0] && cb_keymap_get(&u->by_key, key, &head)) {
        hit = first_pending(u, head, 1, res->serial, &seen);
        if (hit != NONE)
            res->matched_by = "public_key";
    }
    if (hit == NONE && res->email[0] && res->subject_cn[0]) {
        char *ek = email_key(res->email), *nk = cb_update_name_key(res->subject_cn);
        size_t len = ek && nk ? strlen(ek) + strlen(nk) + 2 : 0;
        char *k = len ? malloc(len) : NULL;
        if (k != NULL) {
            snprintf(k, len, "%s\n%s", ek, nk);
            if (cb_keymap_get(&u->by_name, k, &head)) {
                hit = first_pending(u, head, 0, res->serial, &seen);
                if (hit != NONE)
                    res->matched_by = "email_name";
            }
        }
        free(k);
        free(ek);
        free(nk);
        if (k == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }

    if (hit != NONE) {
        req *q = &u->reqs[hit];
        res->req = &q->pub;
        /* One folder per agency however its name was typed: the key. */
        const char *agency = *q->pub.agency_key ? q->pub.agency_key : q->pub.agency;
        if (store(u, cert, agency, *q->pub.holder ? q->pub.holder : res->subject_cn, slot, hit, err) < 0)
            return -1;
        if (res->status != CB_UPD_CONFLICT)
            q->pub.answered = 1;
        return settle(u, err);
    }
    const char *holder = res->subject_cn[0] ? res->subject_cn : res->email;
    if (store(u, cert, unmatched_dir, holder, slot, NONE, err) < 0)
        return -1;
    if (res->status == CB_UPD_CONFLICT)
        return settle(u, err);
    if (seen != NONE) {
        res->req = &u->reqs[seen].pub;
        res->status = CB_UPD_DUPLICATE;
        snprintf(res->reason, sizeof res->reason,
                 "request %s already got a certificate in this run: kept in _unmatched",
                 u->reqs[seen].pub.request_id);
    } else {
        res->status = CB_UPD_UNMATCHED;
        snprintf(res->reason, sizeof res->reason,
                 "no pending request matches this certificate (by the old certificate's public key, "
                 "or by e-mail and name): kept in _unmatched");
    }
    return settle(u, err);
}

int cb_updates_flush(cb_updates *u, cb_err *err)
{
    return commit(u, err);
}

const cb_update_result *cb_updates_next_ready(cb_updates *u)
{
    return u->qnext < u->qready ? &u->queue[u->qnext++] : NULL;
}

int cb_updates_next_missing(cb_updates *u, size_t *pos, cb_update_result *res)
{
    for (; *pos < u->nreq; (*pos)++) {
        req *q = &u->reqs[*pos];
        if (q->pub.answered)
            continue;
        memset(res, 0, sizeof *res);
        res->status = CB_UPD_MISSING;
        res->req = &q->pub;
        res->matched_by = "";
        snprintf(res->reason, sizeof res->reason, "no certificate came back for this request");
        (*pos)++;
        return 1;
    }
    return 0;
}

/* ---- The manifest ------------------------------------------------------ */

const char *const cb_update_manifest_columns[CB_UPDATE_MANIFEST_NCOLS] = {
    "request_id", "old_serial", "serial", "subject_cn", "holder", "email", "agency", "agency_key",
    "agency_code", "path", "not_after", "status", "matched_by", "reason", "source", "trust_problem",
};

int cb_update_manifest_row(const cb_update_result *res, cb_record *rec)
{
    const cb_update_request *q = res->req;
    const char *email = q && *q->email ? q->email : res->email;
    const char *v[CB_UPDATE_MANIFEST_NCOLS] = {
        q ? q->request_id : "", q ? q->old_serial : "", res->serial, res->subject_cn,
        q ? q->holder : "", email, q ? q->agency : "", q ? q->agency_key : "",
        q ? q->agency_code : "", res->path, res->not_after, cb_update_status_name(res->status),
        res->matched_by ? res->matched_by : "", res->reason, res->source, res->trust_problem,
    };
    cb_record_clear(rec);
    for (int i = 0; i < CB_UPDATE_MANIFEST_NCOLS; i++)
        if (cb_record_set_str(rec, i, v[i]) < 0)
            return -1;
    return 0;
}

const char *cb_update_input_name(const cb_update_result *res, char *buf, size_t size)
{
    snprintf(buf, size, "%s", res->source);
    char *hash = strrchr(buf, '#');
    if (hash)
        *hash = '\0';
    return buf;
}
