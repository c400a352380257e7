/* The sent-notices ledger: see notify_ledger.h. Rows are kept in file order
 * so the file only grows at the end; lookups go through a map of
 * "recipient (lower case) US event key". */
#include "notify_ledger.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "csvio.h"
#include "strmap.h"

struct row {
    char *recipient, *key, *sent_at;
};

struct cb_notify_ledger {
    char *path;
    struct row *rows;
    size_t n, cap;
    cb_strmap sent;      /* joined keys of the rows */
    int dirty;
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

static int add_row(cb_notify_ledger *l, const char *recipient, const char *key, const char *sent_at)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct row *r = realloc(l->rows, cap * sizeof *r);
        if (r == NULL)
            return -1;
        l->rows = r;
        l->cap = cap;
    }
    struct row *r = &l->rows[l->n];
    r->recipient = strdup(recipient);
    r->key = strdup(key);
    r->sent_at = strdup(sent_at);
    char *k = join_key(recipient, key);
    int bad = r->recipient == NULL || r->key == NULL || r->sent_at == NULL || k == NULL ||
              cb_strmap_put(&l->sent, k, "") < 0;
    free(k);
    if (bad) {
        free(r->recipient);
        free(r->key);
        free(r->sent_at);
        return -1;
    }
    l->n++;
    return 0;
}

cb_notify_ledger *cb_notify_ledger_open(const char *path, cb_err *err)
{
    cb_notify_ledger *l = calloc(1, sizeof *l);
    if (l == NULL || (l->path = strdup(path)) == NULL) {
        free(l);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return l;
        cb_err_sys(err, EX_IOERR, "cannot read the ledger %s", path);
        goto fail;
    }
    char *files[] = {(char *)path};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        goto fail;
    const cb_header *h = cb_csv_reader_header(r);
    int ci = cb_header_find(h, "recipient"), ck = cb_header_find(h, "event_key"),
        cs = cb_header_find(h, "sent_at");
    if (ci < 0 || ck < 0 || cs < 0) {
        cb_csv_reader_close(r);
        cb_err_set(err, EX_DATAERR, "%s: not a notify ledger (needs columns recipient, event_key, sent_at)", path);
        goto fail;
    }
    cb_record *rec = cb_record_new();
    int rc;
    while ((rc = cb_csv_reader_next(r, rec, err)) == CB_CSV_RECORD || rc == CB_CSV_MALFORMED) {
        if (rc == CB_CSV_MALFORMED) {
            cb_err_set(err, EX_DATAERR, "%s:%ld: damaged ledger row", path, rec->line);
            rc = CB_CSV_FATAL;
            break;
        }
        if (add_row(l, cb_record_get(rec, ci), cb_record_get(rec, ck), cb_record_get(rec, cs)) < 0) {
            cb_err_set(err, EX_OSERR, "out of memory");
            rc = CB_CSV_FATAL;
            break;
        }
    }
    cb_record_free(rec);
    cb_csv_reader_close(r);
    if (rc == CB_CSV_FATAL)
        goto fail;
    return l;
fail:
    cb_notify_ledger_free(l);
    return NULL;
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

int cb_notify_ledger_add(cb_notify_ledger *l, const char *recipient, const char *event_key, const char *sent_at)
{
    if (add_row(l, recipient, event_key, sent_at) < 0)
        return -1;
    l->dirty = 1;
    return 0;
}

size_t cb_notify_ledger_count(const cb_notify_ledger *l)
{
    return l->n;
}

int cb_notify_ledger_commit(cb_notify_ledger *l, cb_err *err)
{
    if (!l->dirty)
        return 0;
    cb_atomic a;
    if (cb_atomic_open(&a, l->path, 0644, err) < 0)
        return -1;
    cb_csv_writer w;
    cb_csv_writer_init(&w, a.fp);
    static const char *const head[] = {"recipient", "event_key", "sent_at"};
    int bad = cb_csv_write_fields(&w, head, 3) < 0;
    for (size_t i = 0; !bad && i < l->n; i++) {
        const char *f[] = {l->rows[i].recipient, l->rows[i].key, l->rows[i].sent_at};
        bad = cb_csv_write_fields(&w, f, 3) < 0;
    }
    if (bad) {
        cb_atomic_abort(&a);
        return cb_err_sys(err, EX_IOERR, "cannot write the ledger %s", l->path);
    }
    if (cb_atomic_commit(&a, 0, err) < 0)
        return -1;
    l->dirty = 0;
    return 0;
}

void cb_notify_ledger_free(cb_notify_ledger *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].recipient);
        free(l->rows[i].key);
        free(l->rows[i].sent_at);
    }
    cb_strmap_clear(&l->sent);
    free(l->rows);
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
