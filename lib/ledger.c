/* The append-only issuance ledger: see ledger.h. */
#include "ledger.h"

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
#include "serial.h"
#include "issue.h"

static const char *const columns[] = {"request_id", "subject",   "request_type", "old_serial",
                                      "serial",     "not_after", "sha256",       "issued_at"};
static const char *const order[] = {"request_id", "request_type", "old_serial", "serial",
                                    "subject",    "not_after",    "sha256",     "issued_at"};

struct cb_ledger {
    char *path;
    int fd;
    FILE *fp;
    cb_csv_writer w;
    size_t count;
    cb_strmap by_request;   /* request_id -> serial */
    cb_strmap renewed;      /* old serial -> request_id */
    cb_strmap from_renewal; /* serial made by a renewal -> request_id */
};

static int remember(cb_ledger *l, const char *rid, const char *type, const char *old,
                    const char *serial)
{
    char o[160], s[160];
    cb_serial_key(old, o, sizeof o);
    cb_serial_key(serial, s, sizeof s);
    if (cb_strmap_put(&l->by_request, rid, serial) < 0)
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

static int load(cb_ledger *l, cb_err *err)
{
    char *files[1] = {l->path};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    int col[8];
    for (int i = 0; i < 8; i++)
        if ((col[i] = cb_header_find(h, columns[i])) < 0 && i != 1) {
            cb_csv_reader_close(r);
            return cb_err_set(err, EX_DATAERR, "%s:1: not a ledger: no column %s", l->path,
                              columns[i]);
        }
    cb_record *rec = cb_record_new();
    int rc = 0, st;
    while (rec && (st = cb_csv_reader_next(r, rec, err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            rc = -1;
            break;
        }
        if (st == CB_CSV_MALFORMED) {
            rc = cb_err_set(err, EX_DATAERR, "%s:%ld: damaged ledger line: %s", l->path,
                            rec->line, err->msg);
            break;
        }
        const char *rid = cb_record_get(rec, col[0]);
        if (*rid == '\0')
            continue;
        if (remember(l, rid, cb_record_get(rec, col[2]), cb_record_get(rec, col[3]),
                     cb_record_get(rec, col[4])) < 0) {
            rc = cb_err_set(err, EX_OSERR, "out of memory");
            break;
        }
    }
    if (rec == NULL)
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

static void ledger_free(cb_ledger *l)
{
    if (l->fp)
        fclose(l->fp);
    else if (l->fd >= 0)
        close(l->fd);
    cb_strmap_clear(&l->by_request);
    cb_strmap_clear(&l->renewed);
    cb_strmap_clear(&l->from_renewal);
    free(l->path);
    free(l);
}


cb_ledger *cb_ledger_open(const char *path, cb_err *err)
{
    cb_ledger *l = calloc(1, sizeof *l);
    if (l == NULL || (l->path = strdup(path)) == NULL) {
        free(l);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
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
    if (drop_torn_tail(l, err) < 0 || fstat(l->fd, &st) != 0) {
        ledger_free(l);
        return NULL;
    }
    if (st.st_size > 0 && load(l, err) < 0) {
        ledger_free(l);
        return NULL;
    }
    l->fp = fdopen(l->fd, "a");
    if (l->fp == NULL) {
        cb_err_sys(err, EX_IOERR, "cannot open the ledger %s", path);
        ledger_free(l);
        return NULL;
    }
    cb_csv_writer_init(&l->w, l->fp);
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

size_t cb_ledger_count(const cb_ledger *l)
{
    return l->count;
}

int cb_ledger_append(cb_ledger *l, const cb_ledger_entry *e, cb_err *err)
{
    const char *f[8] = {e->request_id, e->request_type, e->old_serial ? e->old_serial : "",
                        e->serial,     e->subject,      e->not_after,
                        e->sha256,     e->issued_at};
    if (cb_csv_write_fields(&l->w, f, 8) < 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the ledger %s", l->path);
    if (remember(l, e->request_id, e->request_type, f[2], e->serial) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

int cb_ledger_sync(cb_ledger *l, cb_err *err)
{
    if (fflush(l->fp) != 0 || ferror(l->fp) || fsync(l->fd) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the ledger %s", l->path);
    return 0;
}

int cb_ledger_close(cb_ledger *l, cb_err *err)
{
    if (l == NULL)
        return 0;
    int rc = cb_ledger_sync(l, err);
    ledger_free(l);
    return rc;
}
