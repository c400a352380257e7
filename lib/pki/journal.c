/* The batch journal and PIN files: see journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "atomic.h"
#include "csvio.h"
#include "strmap.h"

static const char *const jcols[6] = {"request_id", "serial", "key_file", "pins_file", "pin", "p12"};

struct cb_journal {
    char *path;
    FILE *fp;
    cb_csv_writer w;
};

char *cb_journal_path(const char *ledger_path)
{
    char *p = malloc(strlen(ledger_path) + sizeof ".journal");
    if (p)
        sprintf(p, "%s.journal", ledger_path);
    return p;
}

cb_journal *cb_journal_create(const char *path, cb_err *err)
{
    cb_journal *j = calloc(1, sizeof *j);
    if (j == NULL || (j->path = strdup(path)) == NULL) {
        free(j);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || (j->fp = fdopen(fd, "w")) == NULL) {
        cb_err_sys(err, EX_CANTCREAT, "cannot create the batch journal %s", path);
        if (fd >= 0)
            close(fd);
        free(j->path);
        free(j);
        return NULL;
    }
    fchmod(fd, 0600);
    cb_csv_writer_init(&j->w, j->fp);
    /* The name must be durable before anything depends on it. */
    if (cb_csv_write_fields(&j->w, jcols, 6) < 0 || cb_journal_sync(j, err) < 0 ||
        cb_fsync_parent(path) != 0) {
        if (err->code == 0)
            cb_err_sys(err, EX_IOERR, "cannot write the batch journal %s", path);
        cb_journal_close(j);
        unlink(path);
        return NULL;
    }
    return j;
}

int cb_journal_add(cb_journal *j, const cb_journal_entry *e, cb_err *err)
{
    size_t blen = 4 * ((e->p12_len + 2) / 3) + 1;
    char *b64 = malloc(blen);
    if (b64 == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    EVP_EncodeBlock((unsigned char *)b64, e->p12, (int)e->p12_len);
    const char *f[6] = {e->request_id, e->serial, e->key_file, e->pins_file, e->pin, b64};
    int rc = cb_csv_write_fields(&j->w, f, 6);
    OPENSSL_cleanse(b64, blen);
    free(b64);
    if (rc < 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the batch journal %s", j->path);
    return 0;
}

int cb_journal_sync(cb_journal *j, cb_err *err)
{
    if (fflush(j->fp) != 0 || ferror(j->fp) || fsync(fileno(j->fp)) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the batch journal %s", j->path);
    return 0;
}

void cb_journal_close(cb_journal *j)
{
    if (j == NULL)
        return;
    fclose(j->fp);
    free(j->path);
    free(j);
}

/* ---- PIN files ---- */

static void wipe_record(cb_record *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i].s)
            OPENSSL_cleanse(r->f[i].s, r->f[i].cap);
}

/* Copies the rows of an existing PIN file into w, remembering their ids. */
static int pins_copy(const char *path, cb_csv_writer *w, cb_strmap *ids, cb_err *err)
{
    char *files[1] = {(char *)path};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    int c[3] = {cb_header_find(h, "request_id"), cb_header_find(h, "file"), cb_header_find(h, "pin")};
    cb_record *rec = cb_record_new();
    int rc = 0, st;
    if (rec == NULL || c[0] < 0 || c[2] < 0)
        rc = cb_err_set(err, rec ? EX_DATAERR : EX_OSERR, "%s: not a PIN file (request_id, file, pin)",
                        path);
    while (rc == 0 && (st = cb_csv_reader_next(r, rec, err)) != CB_CSV_EOF) {
        if (st != CB_CSV_RECORD) {
            rc = st == CB_CSV_FATAL ? -1 : cb_err_set(err, EX_DATAERR, "%s:%ld: %s", path, rec->line, err->msg);
            break;
        }
        const char *f[3] = {cb_record_get(rec, c[0]), cb_record_get(rec, c[1]), cb_record_get(rec, c[2])};
        if (cb_csv_write_fields(w, f, 3) < 0)
            rc = cb_err_sys(err, EX_IOERR, "cannot write %s", path);
        else if (cb_strmap_put(ids, f[0], "") < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
        wipe_record(rec);
    }
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

int cb_pins_merge(const char *path, const char *const *rows, size_t n, size_t *added, cb_err *err)
{
    static const char *const ph[3] = {"request_id", "file", "pin"};
    *added = 0;
    if (cb_atomic_sweep_path(path, err) < 0)
        return -1;
    cb_strmap *ids = cb_strmap_new();
    cb_atomic a;
    if (ids == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (cb_atomic_open(&a, path, 0600, err) < 0) {
        cb_strmap_free(ids);
        return -1;
    }
    cb_csv_writer w;
    cb_csv_writer_init(&w, a.fp);
    int rc = cb_csv_write_fields(&w, ph, 3) < 0 ? cb_err_sys(err, EX_IOERR, "cannot write %s", path) : 0;
    if (rc == 0 && access(path, F_OK) == 0)
        rc = pins_copy(path, &w, ids, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (cb_strmap_get(ids, rows[3 * i]))
            continue;
        if (cb_csv_write_fields(&w, rows + 3 * i, 3) < 0)
            rc = cb_err_sys(err, EX_IOERR, "cannot write %s", path);
        else if (cb_strmap_put(ids, rows[3 * i], "") < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
        else
            (*added)++;
    }
    cb_strmap_free(ids);
    if (rc < 0 || *added == 0) {
        cb_atomic_abort(&a);
        return rc;
    }
    return cb_atomic_commit(&a, 0, err);
}

/* ---- finishing a journal ---- */

typedef struct jentry {
    char *f[6];
    unsigned char *p12;
    size_t p12_len;
} jentry;

static void jentry_wipe(jentry *e)
{
    for (int i = 0; i < 6; i++)
        if (e->f[i]) {
            OPENSSL_cleanse(e->f[i], strlen(e->f[i]));
            free(e->f[i]);
        }
    if (e->p12) {
        OPENSSL_cleanse(e->p12, e->p12_len);
        free(e->p12);
    }
}

/* Reads the entries the ledger committed; counts the others. */
static int journal_read(const char *path, const cb_ledger *l, jentry **out, size_t *n,
                        cb_journal_report *rep, cb_err *err)
{
    char *files[1] = {(char *)path};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    int c[6];
    for (int i = 0; i < 6; i++)
        if ((c[i] = cb_header_find(h, jcols[i])) < 0) {
            cb_csv_reader_close(r);
            return cb_err_set(err, EX_DATAERR, "%s: not a batch journal (no column %s)", path, jcols[i]);
        }
    cb_record *rec = cb_record_new();
    size_t cap = 0;
    int rc = rec ? 0 : cb_err_set(err, EX_OSERR, "out of memory"), st;
    while (rc == 0 && (st = cb_csv_reader_next(r, rec, err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            rc = -1;
            break;
        }
        rep->entries++;
        /* A torn or uncommitted entry was never issued: roll it back. */
        if (st != CB_CSV_RECORD ||
            (l && !cb_ledger_committed(l, cb_record_get(rec, c[0]), cb_record_get(rec, c[1])))) {
            rep->rolled_back++;
            wipe_record(rec);
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            jentry *ne = realloc(*out, cap * sizeof *ne);
            if (ne == NULL) {
                rc = cb_err_set(err, EX_OSERR, "out of memory");
                break;
            }
            *out = ne;
        }
        jentry *e = &(*out)[*n];
        memset(e, 0, sizeof *e);
        (*n)++;
        for (int i = 0; i < 6; i++)
            if ((e->f[i] = strdup(cb_record_get(rec, c[i]))) == NULL)
                rc = cb_err_set(err, EX_OSERR, "out of memory");
        size_t b64 = rc == 0 ? strlen(e->f[5]) : 0;
        e->p12 = rc == 0 ? malloc(b64 / 4 * 3 + 3) : NULL;
        int len = e->p12 ? EVP_DecodeBlock(e->p12, (unsigned char *)e->f[5], (int)b64) : -1;
        if (rc == 0 && len <= 0)
            rc = cb_err_set(err, EX_DATAERR, "%s:%ld: a damaged PKCS#12 in the batch journal", path, rec->line);
        else if (rc == 0)
            /* DecodeBlock counts the padding as zero bytes; DER ignores them. */
            e->p12_len = (size_t)len - (b64 >= 1 && e->f[5][b64 - 1] == '=') - (b64 >= 2 && e->f[5][b64 - 2] == '=');
        wipe_record(rec);
    }
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

static int publish_key(const jentry *e, cb_journal_report *rep, cb_err *err)
{
    if (cb_atomic_sweep_path(e->f[2], err) < 0)
        return -1;
    if (access(e->f[2], F_OK) == 0)
        return 0;  /* published before the crash */
    if (cb_atomic_write_file(e->f[2], e->p12, e->p12_len, 0600, 1, err) < 0)
        return -1;
    rep->keys++;
    return 0;
}

/* The PIN rows of the entries going to one PIN file, merged at once. */
static int publish_pins(jentry *e, size_t n, size_t from, cb_journal_report *rep, cb_err *err)
{
    const char **rows = calloc(3 * (n - from), sizeof *rows);
    if (rows == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    size_t k = 0;
    for (size_t i = from; i < n; i++)
        if (strcmp(e[i].f[3], e[from].f[3]) == 0) {
            rows[3 * k] = e[i].f[0];
            rows[3 * k + 1] = e[i].f[2];
            rows[3 * k + 2] = e[i].f[4];
            k++;
        }
    size_t added = 0;
    int rc = cb_pins_merge(e[from].f[3], rows, k, &added, err);
    rep->pins += added;
    free(rows);
    return rc;
}

/* 1 when the journal holds no more than a part of its header line: the
 * run that made it was killed before it staged anything. */
static int journal_unborn(const char *path)
{
    char head[128], want[128];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return 0;
    size_t n = fread(head, 1, sizeof head, fp);
    fclose(fp);
    int w = snprintf(want, sizeof want, "%s,%s,%s,%s,%s,%s\n", jcols[0], jcols[1], jcols[2], jcols[3],
                     jcols[4], jcols[5]);
    return n <= (size_t)w && memcmp(head, want, n) == 0;
}

int cb_journal_finish(const char *path, const cb_ledger *l, cb_journal_report *rep, cb_err *err)
{
    memset(rep, 0, sizeof *rep);
    if (access(path, F_OK) != 0)
        return errno == ENOENT ? 0 : cb_err_sys(err, EX_IOERR, "cannot read the batch journal %s", path);
    jentry *e = NULL;
    size_t n = 0;
    int rc = journal_unborn(path) ? 0 : journal_read(path, l, &e, &n, rep, err);
    /* Keys first: a PIN row names a file that exists. */
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = publish_key(&e[i], rep, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int first = 1;
        for (size_t k = 0; k < i && first; k++)
            first = strcmp(e[k].f[3], e[i].f[3]) != 0;
        if (first)
            rc = publish_pins(e, n, i, rep, err);
    }
    for (size_t i = 0; i < n; i++)
        jentry_wipe(&e[i]);
    free(e);
    if (rc < 0)
        return -1;
    if (unlink(path) != 0 || cb_fsync_parent(path) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot remove the finished batch journal %s", path);
    return 0;
}
