/* The sent-notices ledger: see notify_ledger.h. Rows are appended and
 * synced one by one; lookups go through a map of "recipient (lower case)
 * US event key". */
#include "notify_ledger.h"

#include <ctype.h>
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
#include "strmap.h"

struct cb_notify_ledger {
    char *path;
    int fd;              /* -1 when read only (a dry run) */
    FILE *pend;          /* rows not yet written (a memory stream) */
    char *pend_buf;
    size_t pend_len;
    cb_csv_writer w;
    int defer;
    size_t n;
    cb_strmap sent;      /* joined keys of the rows */
};

static char *join_key(const char *recipient, const char *key)
{
    size_t a = strlen(recipient), b = strlen(key);
    char *s = malloc(a + b + 2);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < a; i++)
        s[i] = (char)tolower((unsigned char)recipient[i]);
    s[a] = '\x1f';
    memcpy(s + a + 1, key, b + 1);
    return s;
}

static int remember(cb_notify_ledger *l, const char *recipient, const char *key)
{
    char *k = join_key(recipient, key);
    int bad = k == NULL || cb_strmap_put(&l->sent, k, "") < 0;
    free(k);
    if (bad)
        return -1;
    l->n++;
    return 0;
}

static int load(cb_notify_ledger *l, cb_err *err)
{
    char *files[] = {l->path};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        return -1;
    const cb_header *h = cb_csv_reader_header(r);
    int ci = cb_header_find(h, "recipient"), ck = cb_header_find(h, "event_key"),
        cs = cb_header_find(h, "sent_at");
    if (ci < 0 || ck < 0 || cs < 0) {
        cb_csv_reader_close(r);
        return cb_err_set(err, EX_DATAERR, "%s: not a notify ledger (needs columns recipient, event_key, sent_at)",
                          l->path);
    }
    cb_record *rec = cb_record_new();
    int rc;
    while ((rc = cb_csv_reader_next(r, rec, err)) == CB_CSV_RECORD || rc == CB_CSV_MALFORMED) {
        if (rc == CB_CSV_MALFORMED) {
            cb_err_set(err, EX_DATAERR, "%s:%ld: damaged ledger row", l->path, rec->line);
            rc = CB_CSV_FATAL;
            break;
        }
        if (remember(l, cb_record_get(rec, ci), cb_record_get(rec, ck)) < 0) {
            cb_err_set(err, EX_OSERR, "out of memory");
            rc = CB_CSV_FATAL;
            break;
        }
    }
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc == CB_CSV_FATAL ? -1 : 0;
}

/* Cuts a last row left without its line end by a crash: its letter is the
 * one in flight, which may go once more. */
static int drop_torn_tail(cb_notify_ledger *l, off_t *size, cb_err *err)
{
    struct stat st;
    if (fstat(l->fd, &st) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot read the ledger %s", l->path);
    off_t end = st.st_size;
    char c;
    while (end > 0) {
        if (pread(l->fd, &c, 1, end - 1) != 1)
            return cb_err_sys(err, EX_IOERR, "cannot read the ledger %s", l->path);
        if (c == '\n')
            break;
        end--;
    }
    if (end != st.st_size && ftruncate(l->fd, end) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot repair the end of the ledger %s", l->path);
    *size = end;
    return 0;
}

static int pending_open(cb_notify_ledger *l, cb_err *err)
{
    if ((l->pend = open_memstream(&l->pend_buf, &l->pend_len)) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    cb_csv_writer_init(&l->w, l->pend);
    return 0;
}

/* Opens for appending, locked: a second run on the same ledger is refused
 * before it sends anything. */
static int open_locked(cb_notify_ledger *l, cb_err *err)
{
    l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (l->fd < 0)
        return cb_err_sys(err, EX_CANTCREAT, "cannot open the ledger %s", l->path);
    if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return cb_err_set(err, EX_TEMPFAIL, "the ledger %s is in use by another run", l->path);
        return cb_err_sys(err, EX_IOERR, "cannot lock the ledger %s", l->path);
    }
    off_t size = 0;
    if (drop_torn_tail(l, &size, err) < 0 || pending_open(l, err) < 0)
        return -1;
    if (size > 0)
        return load(l, err);
    static const char *const head[] = {"recipient", "event_key", "sent_at"};
    if (cb_csv_write_fields(&l->w, head, 3) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return cb_notify_ledger_commit(l, err);
}

cb_notify_ledger *cb_notify_ledger_open(const char *path, int for_writing, cb_err *err)
{
    cb_notify_ledger *l = calloc(1, sizeof *l);
    if (l == NULL || (l->path = strdup(path)) == NULL) {
        free(l);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    l->fd = -1;
    int rc;
    if (for_writing)
        rc = open_locked(l, err);
    else if (access(path, F_OK) != 0)
        rc = errno == ENOENT ? 0 : cb_err_sys(err, EX_IOERR, "cannot read the ledger %s", path);
    else
        rc = load(l, err);
    if (rc < 0) {
        cb_notify_ledger_free(l);
        return NULL;
    }
    return l;
}

void cb_notify_ledger_defer(cb_notify_ledger *l, int defer)
{
    l->defer = defer;
}

int cb_notify_ledger_has(const cb_notify_ledger *l, const char *recipient, const char *event_key)
{
    char *k = join_key(recipient, event_key);
    if (k == NULL)
        return 0;
    int found = cb_strmap_get(&l->sent, k) != NULL;
    free(k);
    return found;
}

int cb_notify_ledger_add(cb_notify_ledger *l, const char *recipient, const char *event_key, const char *sent_at,
                         cb_err *err)
{
    if (l->fd < 0)
        return cb_err_set(err, EX_SOFTWARE, "the ledger %s is open read only", l->path);
    const char *f[] = {recipient, event_key, sent_at};
    if (cb_csv_write_fields(&l->w, f, 3) < 0 || remember(l, recipient, event_key) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return l->defer ? 0 : cb_notify_ledger_commit(l, err);
}

size_t cb_notify_ledger_count(const cb_notify_ledger *l)
{
    return l->n;
}

int cb_notify_ledger_commit(cb_notify_ledger *l, cb_err *err)
{
    if (l->fd < 0 || l->pend == NULL)
        return 0;
    if (fflush(l->pend) != 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    const char *p = l->pend_buf;
    size_t left = l->pend_len;
    while (left > 0) {
        ssize_t w = write(l->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return cb_err_sys(err, EX_IOERR, "cannot write the ledger %s", l->path);
        p += w;
        left -= (size_t)w;
    }
    if (l->pend_len && fsync(l->fd) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the ledger %s", l->path);
    fclose(l->pend);
    free(l->pend_buf);
    l->pend = NULL;
    l->pend_buf = NULL;
    l->pend_len = 0;
    return pending_open(l, err);
}

void cb_notify_ledger_free(cb_notify_ledger *l)
{
    if (l == NULL)
        return;
    if (l->pend)
        fclose(l->pend);
    free(l->pend_buf);
    if (l->fd >= 0)
        close(l->fd);
    cb_strmap_clear(&l->sent);
    free(l->path);
    free(l);
}

int cb_notify_parse_thresholds(const char *s, int *th, int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v <= 0 || v > 100000 || (*end != ',' && *end != '\0'))
            return -1;
        int dup = 0;
        for (int i = 0; i < n; i++)
            dup |= th[i] == (int)v;
        if (!dup) {
            if (n == max)
                return -1;
            th[n++] = (int)v;
        }
        p = *end ? end + 1 : end;
        if (*end == ',' && *p == '\0')
            return -1;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && th[j] > th[j - 1]; j--) {
            int t = th[j];
            th[j] = th[j - 1];
            th[j - 1] = t;
        }
    return n > 0 ? n : -1;
}

int cb_notify_threshold(const int *th, int n, long days_left)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (days_left <= th[i])
            best = th[i];
    return best;
}
