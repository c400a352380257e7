/* The append-only issuance ledger: see ledger.h. */
#include "ledger.h"

#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csvio.h"
#include "ledgerfile.h"
#include "serial.h"
#include "certindex.h"
#include "strbuf.h"

static const char *const columns[] = {"request_id", "subject",   "request_type", "old_serial",
                                      "serial",     "not_after", "sha256",       "issued_at"};
static const char *const order[] = {"request_id", "request_type", "old_serial", "serial",
                                    "subject",    "not_after",    "sha256",     "issued_at"};

struct cb_ledger {
    char *path;
    int fd;
    FILE *fp;               /* lines waiting for sync (a memory stream) */
    char *pend;
    size_t pend_len;
    cb_csv_writer w;
    char *store_path;       /* LEDGER.certs.pem */
    int store_fd;           /* opened at the first certificate appended */
    cb_buf store_pend;      /* certificates waiting for sync */
    cb_certindex *certs;    /* the store, read at the first lookup */
    int broken;             /* a sync failed: what is on disk is unknown */
    size_t count;
    cb_strmap by_request;   /* request_id -> serial */
    cb_strmap renewed;      /* old serial -> request_id */
    cb_strmap from_renewal; /* serial made by a renewal -> request_id */
    cb_strmap by_serial;    /* serial -> request_id */
    cb_strmap issued_at;    /* request_id -> issued_at */
};

static int remember(cb_ledger *l, const char *rid, const char *type, const char *old,
                    const char *serial, const char *issued_at)
{
    char o[160], s[160];
    cb_serial_key(old, o, sizeof o);
    cb_serial_key(serial, s, sizeof s);
    if (cb_strmap_put(&l->by_request, rid, serial) < 0 ||
        (*s && cb_strmap_put(&l->by_serial, s, rid) < 0) ||
        cb_strmap_put(&l->issued_at, rid, issued_at) < 0)
        return -1;
    if (strcmp(type, "renew") == 0) {
        if (*o && cb_strmap_put(&l->renewed, o, rid) < 0)
            return -1;
        if (*s && cb_strmap_put(&l->from_renewal, s, rid) < 0)
            return -1;
    }
    l->count++;
    return 0;
}

/* Cuts a certificate the store holds only in part (a crash while it was
 * appended): everything after the last END line goes. */
static int drop_torn_cert(int fd, const char *path, cb_err *err)
{
    static const char end_line[] = "-----END CERTIFICATE-----\n";
    const size_t el = sizeof end_line - 1;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot read %s", path);
    char buf[65536 + 64];
    off_t hi = st.st_size, keep = 0;
    while (hi > 0) {
        off_t lo = hi > 65536 ? hi - 65536 : 0;
        size_t want = (size_t)(hi - lo) + (hi < st.st_size ? el - 1 : 0);
        if (lo + (off_t)want > st.st_size)
            want = (size_t)(st.st_size - lo);
        if (pread(fd, buf, want, lo) != (ssize_t)want)
            return cb_err_sys(err, EX_IOERR, "cannot read %s", path);
        for (size_t i = want; i >= el; i--)
            if (memcmp(buf + i - el, end_line, el) == 0) {
                keep = lo + (off_t)i;
                goto found;
            }
        hi = lo;
    }
found:
    if (keep != st.st_size && ftruncate(fd, keep) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot repair the end of %s", path);
    return 0;
}

static int store_open(cb_ledger *l, int create, cb_err *err)
{
    l->store_fd = open(l->store_path, O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (l->store_fd < 0) {
        if (!create && errno == ENOENT)
            return 0;
        return cb_err_sys(err, EX_CANTCREAT, "cannot open %s", l->store_path);
    }
    if (create) {
        /* The store's name must be durable before a ledger line needs it. */
        if (cb_fsync_parent(l->store_path) != 0)
            return cb_err_sys(err, EX_IOERR, "cannot sync the directory of %s", l->store_path);
    }
    return drop_torn_cert(l->store_fd, l->store_path, err);
}

/* Cuts a last line left without its line end by a crash. */
static int drop_torn_tail(cb_ledger *l, cb_err *err)
{
    struct stat st;
    if (fstat(l->fd, &st) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot read %s", l->path);
    off_t end = st.st_size;
    char c;
    while (end > 0) {
        if (pread(l->fd, &c, 1, end - 1) != 1)
            return cb_err_sys(err, EX_IOERR, "cannot read %s", l->path);
        if (c == '\n')
            break;
        end--;
    }
    if (end != st.st_size && ftruncate(l->fd, end) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot repair the end of %s", l->path);
    return 0;
}

static int load_row(void *ctx, const char *const *f, long line, cb_err *err)
{
    (void)line;
    if (*f[0] == '\0')
        return 0;
    if (remember(ctx, f[0], f[2], f[3], f[4], f[7]) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

/* The subject column came later: a ledger without it is still read. */
static int load(cb_ledger *l, cb_err *err)
{
    return cb_ledger_file_read(l->path, "ledger", columns, 8, 1ul << 1, 0, load_row, l, err);
}

static int pending_open(cb_ledger *l, cb_err *err)
{
    l->fp = open_memstream(&l->pend, &l->pend_len);
    if (l->fp == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    cb_csv_writer_init(&l->w, l->fp);
    return 0;
}

static void ledger_free(cb_ledger *l)
{
    if (l->fp)
        fclose(l->fp);
    free(l->pend);
    if (l->fd >= 0)
        close(l->fd);
    if (l->store_fd >= 0)
        close(l->store_fd);
    cb_buf_free(&l->store_pend);
    cb_certindex_free(l->certs);
    free(l->store_path);
    cb_strmap_clear(&l->by_request);
    cb_strmap_clear(&l->renewed);
    cb_strmap_clear(&l->from_renewal);
    cb_strmap_clear(&l->by_serial);
    cb_strmap_clear(&l->issued_at);
    free(l->path);
    free(l);
}


cb_ledger *cb_ledger_open(const char *path, cb_err *err)
{
    cb_ledger *l = calloc(1, sizeof *l);
    if (l == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    l->fd = l->store_fd = -1;
    l->path = strdup(path);
    l->store_path = malloc(strlen(path) + sizeof ".certs.pem");
    if (l->path == NULL || l->store_path == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        ledger_free(l);
        return NULL;
    }
    sprintf(l->store_path, "%s.certs.pem", path);
    l->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (l->fd < 0) {
        cb_err_sys(err, EX_CANTCREAT, "cannot open the ledger %s", path);
        ledger_free(l);
        return NULL;
    }
    if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            cb_err_set(err, EX_TEMPFAIL, "the ledger %s is in use by another run", path);
        else
            cb_err_sys(err, EX_IOERR, "cannot lock the ledger %s", path);
        ledger_free(l);
        return NULL;
    }
    struct stat st;
    if (drop_torn_tail(l, err) < 0 || fstat(l->fd, &st) != 0 || store_open(l, 0, err) < 0) {
        ledger_free(l);
        return NULL;
    }
    if (st.st_size > 0 && load(l, err) < 0) {
        ledger_free(l);
        return NULL;
    }
    if (pending_open(l, err) < 0) {
        ledger_free(l);
        return NULL;
    }
    if (st.st_size == 0 && (cb_csv_write_fields(&l->w, order, 8) < 0 || cb_ledger_sync(l, err) < 0)) {
        ledger_free(l);
        return NULL;
    }
    return l;
}

const char *cb_ledger_find_request(const cb_ledger *l, const char *request_id)
{
    return cb_strmap_get(&l->by_request, request_id);
}

const char *cb_ledger_find_renewal_of(const cb_ledger *l, const char *old_serial)
{
    char o[160];
    cb_serial_key(old_serial, o, sizeof o);
    return *o ? cb_strmap_get(&l->renewed, o) : NULL;
}

int cb_ledger_is_renewed(const cb_ledger *l, const char *serial)
{
    char s[160];
    cb_serial_key(serial, s, sizeof s);
    return *s && cb_strmap_get(&l->from_renewal, s) != NULL;
}

const char *cb_ledger_find_serial(const cb_ledger *l, const char *serial)
{
    char s[CB_SERIAL_MAX];
    cb_serial_key(serial, s, sizeof s);
    return *s ? cb_strmap_get(&l->by_serial, s) : NULL;
}

const char *cb_ledger_issued_at(const cb_ledger *l, const char *request_id)
{
    return cb_strmap_get(&l->issued_at, request_id);
}

size_t cb_ledger_count(const cb_ledger *l)
{
    return l->count;
}

const char *cb_ledger_path(const cb_ledger *l)
{
    return l->path;
}

int cb_ledger_committed(const cb_ledger *l, const char *request_id, const char *serial)
{
    const char *s = cb_strmap_get(&l->by_request, request_id);
    return !l->broken && s != NULL && strcmp(s, serial) == 0;
}

int cb_ledger_cert(cb_ledger *l, const char *serial, const unsigned char **der, size_t *len,
                   cb_err *err)
{
    if (l->certs == NULL) {
        if ((l->certs = cb_certindex_new()) == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        cb_err e2 = {0};
        if (access(l->store_path, F_OK) == 0 && cb_certindex_add_path(l->certs, l->store_path, &e2) < 0 &&
            e2.code != EX_DATAERR) {
            *err = e2;
            return -1;
        }
        cb_certindex_seal(l->certs);
    }
    return cb_certindex_find_der(l->certs, serial, der, len);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cb_ledger_append(cb_ledger *l, const cb_ledger_entry *e, cb_err *err)
{
    if (e->cert_pem && e->cert_pem_len) {
        if (l->store_fd < 0 && store_open(l, 1, err) < 0)
            return -1;
        if (cb_buf_add(&l->store_pend, e->cert_pem, e->cert_pem_len) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }
    const char *f[8] = {e->request_id, e->request_type, e->old_serial ? e->old_serial : "",
                        e->serial,     e->subject,      e->not_after,
                        e->sha256,     e->issued_at};
    if (cb_csv_write_fields(&l->w, f, 8) < 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the ledger %s", l->path);
    if (remember(l, e->request_id, e->request_type, f[2], e->serial, e->issued_at) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

/* The certificates first, synced; then the lines that commit them. */
int cb_ledger_sync(cb_ledger *l, cb_err *err)
{
    if (l->broken)
        return cb_err_set(err, EX_IOERR, "cannot write the ledger %s: an earlier write failed", l->path);
    if (l->store_pend.len &&
        (write_all(l->store_fd, l->store_pend.s, l->store_pend.len) < 0 || fsync(l->store_fd) != 0)) {
        l->broken = 1;
        return cb_err_sys(err, EX_IOERR, "cannot write %s", l->store_path);
    }
    l->store_pend.len = 0;
    if (fflush(l->fp) != 0 || ferror(l->fp)) {
        l->broken = 1;
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    if (l->pend_len && (write_all(l->fd, l->pend, l->pend_len) < 0 || fsync(l->fd) != 0)) {
        l->broken = 1;
        return cb_err_sys(err, EX_IOERR, "cannot write the ledger %s", l->path);
    }
    fclose(l->fp);
    free(l->pend);
    l->fp = NULL;
    l->pend = NULL;
    l->pend_len = 0;
    return pending_open(l, err);
}

int cb_ledger_close(cb_ledger *l, cb_err *err)
{
    if (l == NULL)
        return 0;
    int rc = l->broken ? 0 : cb_ledger_sync(l, err);
    ledger_free(l);
    return rc;
}
