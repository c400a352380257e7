/* The province's request ledger: see reqledger.h. */
#include "reqledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "csvio.h"
#include "date.h"
#include "issue.h"
#include "ledgerfile.h"
#include "strmap.h"

#define NCOLS 6
static const char *const columns[NCOLS] = {"recorded_at", "night",      "event",
                                           "request_id",  "old_serial", "detail"};

const char *const cb_reqledger_events[] = {"received", "filtered", "rejected", "proposed",
                                           "renewed",  "delivered", NULL};

int cb_reqledger_event_known(const char *name)
{
    for (size_t i = 0; cb_reqledger_events[i]; i++)
        if (strcmp(cb_reqledger_events[i], name) == 0)
            return 1;
    return 0;
}

typedef struct stored {
    char *f[NCOLS];
    cb_reqevent ev;   /* points into f */
} stored;

struct cb_reqledger {
    char *path;
    int fd;
    FILE *fp;          /* NULL when read only */
    cb_csv_writer w;
    stored *ev;
    size_t n, cap;
    cb_strmap index;   /* lookup keys -> event number, as text */
};

/* Keys of the index: the unit separator cannot occur in a CSV field that
 * means anything here. */
static char *key3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + (c ? strlen(c) : 0) + 4;
    char *k = malloc(n);
    if (k != NULL)
        snprintf(k, n, "%s\x1f%s%s%s", a, b, c ? "\x1f" : "", c ? c : "");
    return k;
}

static int index_put(cb_reqledger *l, char *key, size_t i)
{
    char num[24];
    snprintf(num, sizeof num, "%zu", i);
    int rc = key == NULL ? -1 : cb_strmap_put(&l->index, key, num);
    free(key);
    return rc;
}

static const cb_reqevent *index_get(const cb_reqledger *l, char *key)
{
    const char *v = key ? cb_strmap_get(&l->index, key) : NULL;
    free(key);
    return v ? &l->ev[strtoul(v, NULL, 10)].ev : NULL;
}

static int index_event(cb_reqledger *l, size_t i)
{
    const cb_reqevent *e = &l->ev[i].ev;
    if (index_put(l, key3(e->event, e->request_id, NULL), i) < 0 ||
        index_put(l, key3(e->event, e->request_id, e->detail), i) < 0)
        return -1;
    if (strcmp(e->event, "proposed") == 0) {
        char serial[160];
        cb_serial_normalize(e->old_serial, serial, sizeof serial);
        if (*serial && index_put(l, key3("proposed-serial", serial, NULL), i) < 0)
            return -1;
    }
    return 0;
}

static int remember(cb_reqledger *l, const char *const f[NCOLS])
{
    if (cb_array_grow(&l->ev, l->n, &l->cap, sizeof *l->ev, 64) < 0)
        return -1;
    stored *s = &l->ev[l->n];
    for (int i = 0; i < NCOLS; i++)
        if ((s->f[i] = strdup(f[i] ? f[i] : "")) == NULL) {
            while (i-- > 0)
                free(s->f[i]);
            return -1;
        }
    s->ev = (cb_reqevent){.recorded_at = s->f[0], .night = s->f[1], .event = s->f[2],
                          .request_id = s->f[3], .old_serial = s->f[4], .detail = s->f[5]};
    return index_event(l, l->n++);
}

/* Whether the file ends with a line end: a last line without one was cut
 * by a crash, its event never completed. */
static int ends_whole(int fd, off_t size, off_t *whole)
{
    char c;
    off_t end = size;
    while (end > 0) {
        if (pread(fd, &c, 1, end - 1) != 1)
            return -1;
        if (c == '\n')
            break;
        end--;
    }
    *whole = end;
    return 0;
}

static int load_row(void *ctx, const char *const *f, long line, cb_err *err)
{
    cb_reqledger *l = ctx;
    if (!cb_reqledger_event_known(f[2]))
        return cb_err_set(err, EX_DATAERR, "%s:%ld: unknown event '%s'", l->path, line, f[2]);
    if (remember(l, f) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

static int load(cb_reqledger *l, int drop_last, cb_err *err)
{
    int rc = cb_ledger_file_read(l->path, "request ledger", columns, NCOLS, 0, 0, load_row, l, err);
    if (rc == 0 && drop_last && l->n > 0) {
        /* Read only, the torn line cannot be cut: forget its event. */
        l->n--;
        for (int i = 0; i < NCOLS; i++)
            free(l->ev[l->n].f[i]);
        cb_strmap_clear(&l->index);
        for (size_t i = 0; i < l->n && rc == 0; i++)
            if (index_event(l, i) < 0)
                rc = cb_err_set(err, EX_OSERR, "out of memory");
    }
    return rc;
}

static void ledger_free(cb_reqledger *l)
{
    if (l->fp)
        fclose(l->fp);
    else if (l->fd >= 0)
        close(l->fd);
    for (size_t i = 0; i < l->n; i++)
        for (int k = 0; k < NCOLS; k++)
            free(l->ev[i].f[k]);
    free(l->ev);
    cb_strmap_clear(&l->index);
    free(l->path);
    free(l);
}

static int open_locked(cb_reqledger *l, int for_writing, cb_err *err)
{
    l->fd = open(l->path, for_writing ? O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC : O_RDONLY | O_CLOEXEC,
                 0644);
    if (l->fd < 0) {
        if (!for_writing && errno == ENOENT)
            return 0;
        return cb_err_sys(err, for_writing ? EX_CANTCREAT : EX_NOINPUT,
                          "cannot open the request ledger %s", l->path);
    }
    /* A reader waits for a writer's batch to be whole; two writers never wait. */
    if (flock(l->fd, for_writing ? LOCK_EX | LOCK_NB : LOCK_SH) != 0) {
        if (errno == EWOULDBLOCK)
            return cb_err_set(err, EX_TEMPFAIL, "the request ledger %s is in use by another run",
                              l->path);
        return cb_err_sys(err, EX_IOERR, "cannot lock the request ledger %s", l->path);
    }
    return 0;
}

cb_reqledger *cb_reqledger_open(const char *path, int for_writing, cb_err *err)
{
    cb_reqledger *l = calloc(1, sizeof *l);
    if (l == NULL || (l->path = strdup(path)) == NULL) {
        free(l);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    if (open_locked(l, for_writing, err) < 0) {
        ledger_free(l);
        return NULL;
    }
    struct stat st = {0};
    off_t whole = 0;
    if (l->fd >= 0 && (fstat(l->fd, &st) != 0 || ends_whole(l->fd, st.st_size, &whole) != 0)) {
        cb_err_sys(err, EX_IOERR, "cannot read %s", path);
        ledger_free(l);
        return NULL;
    }
    if (for_writing && whole != st.st_size) {
        if (ftruncate(l->fd, whole) != 0) {
            cb_err_sys(err, EX_IOERR, "cannot repair the end of %s", path);
            ledger_free(l);
            return NULL;
        }
        st.st_size = whole;
    }
    if (st.st_size > 0 && load(l, whole != st.st_size, err) < 0) {
        ledger_free(l);
        return NULL;
    }
    if (!for_writing)
        return l;
    if ((l->fp = fdopen(l->fd, "a")) == NULL) {
        cb_err_sys(err, EX_IOERR, "cannot open the request ledger %s", path);
        ledger_free(l);
        return NULL;
    }
    cb_csv_writer_init(&l->w, l->fp);
    if (st.st_size == 0 &&
        (cb_csv_write_fields(&l->w, columns, NCOLS) < 0 || cb_reqledger_sync(l, err) < 0)) {
        ledger_free(l);
        return NULL;
    }
    return l;
}

const cb_reqevent *cb_reqledger_proposal(const cb_reqledger *l, const char *request_id,
                                         const char *old_serial)
{
    const cb_reqevent *e = NULL;
    if (request_id && *request_id)
        e = index_get(l, key3("proposed", request_id, NULL));
    if (e == NULL && old_serial && *old_serial) {
        char serial[160];
        cb_serial_normalize(old_serial, serial, sizeof serial);
        if (*serial)
            e = index_get(l, key3("proposed-serial", serial, NULL));
    }
    return e;
}

const cb_reqevent *cb_reqledger_find(const cb_reqledger *l, const char *event,
                                     const char *request_id, const char *detail)
{
    return index_get(l, key3(event, request_id, detail));
}

const cb_reqevent *cb_reqledger_at(const cb_reqledger *l, size_t i)
{
    return i < l->n ? &l->ev[i].ev : NULL;
}

size_t cb_reqledger_count(const cb_reqledger *l)
{
    return l->n;
}

int cb_reqledger_append(cb_reqledger *l, const cb_reqevent *e, cb_err *err)
{
    if (l->fp == NULL)
        return cb_err_set(err, EX_SOFTWARE, "the request ledger %s is open read only", l->path);
    if (!cb_reqledger_event_known(e->event))
        return cb_err_set(err, EX_SOFTWARE, "unknown request event '%s'", e->event);
    char now[32];
    if (e->recorded_at == NULL)
        cb_instant_format((int64_t)time(NULL), now);
    const char *f[NCOLS] = {e->recorded_at ? e->recorded_at : now, e->night, e->event,
                            e->request_id, e->old_serial, e->detail};
    for (int i = 0; i < NCOLS; i++)
        if (f[i] == NULL)
            f[i] = "";
    if (cb_csv_write_fields(&l->w, f, NCOLS) < 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the request ledger %s", l->path);
    if (remember(l, f) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

/* The directory of the ledger, resolved. */
static char *ledger_dir(const char *ledger)
{
    char *copy = strdup(ledger), *slash = copy ? strrchr(copy, '/') : NULL;
    if (copy == NULL)
        return NULL;
    if (slash)
        *slash = '\0';
    char *dir = realpath(slash ? (*copy ? copy : "/") : ".", NULL);
    free(copy);
    return dir;
}

char *cb_reqledger_name_of(const char *ledger, const char *file)
{
    char *dir = ledger_dir(ledger), *abs = realpath(file, NULL), *name = NULL;
    size_t n = dir ? strlen(dir) : 0;
    if (abs && dir && !strncmp(abs, dir, n) && abs[n] == '/')
        name = strdup(abs + n + 1);
    else if (abs)
        name = strdup(abs);
    free(dir);
    free(abs);
    return name;
}

char *cb_reqledger_path_of(const char *ledger, const char *name)
{
    char *dir = name[0] == '/' ? NULL : ledger_dir(ledger);
    const char *base = name[0] == '/' ? "" : dir ? dir : ".";
    size_t len = strlen(name) + strlen(base) + 2;
    char *path = malloc(len);
    if (path != NULL)
        snprintf(path, len, "%s%s%s", base, *base ? "/" : "", name);
    free(dir);
    return path;
}

int cb_reqledger_sync(cb_reqledger *l, cb_err *err)
{
    if (l->fp == NULL)
        return 0;
    if (fflush(l->fp) != 0 || ferror(l->fp) || fsync(l->fd) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot write the request ledger %s", l->path);
    return 0;
}

int cb_reqledger_close(cb_reqledger *l, cb_err *err)
{
    if (l == NULL)
        return 0;
    int rc = cb_reqledger_sync(l, err);
    ledger_free(l);
    return rc;
}
