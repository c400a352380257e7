/* The requests proposed and not yet delivered: see reqpending.h. */
#include "reqpending.h"

#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "reqintake.h"
#include "strmap.h"

int cb_reqpending_waits(const cb_reqledger *l, const cb_reqevent *p, const char *night)
{
    const cb_reqevent *d = cb_reqledger_find(l, "delivered", p->request_id, NULL);
    return d == NULL || strcmp(d->night, night) >= 0;
}

typedef struct lists {
    char **names, **paths;   /* as the ledger keeps them, and where they are */
    int n;
} lists;

static void lists_free(lists *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->paths ? s->paths[i] : NULL);
    }
    free(s->names);
    free(s->paths);
}

/* The proposal lists the ledger names, each once, in ledger order. */
static int proposal_lists(const cb_reqledger *l, const char *ledger, lists *s)
{
    cb_strmap seen = {0};
    size_t count = cb_reqledger_count(l);
    s->names = calloc(count + 1, sizeof *s->names);
    s->paths = calloc(count + 1, sizeof *s->paths);
    int rc = s->names && s->paths ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const cb_reqevent *e = cb_reqledger_at(l, i);
        if (strcmp(e->event, "proposed") || !*e->detail || cb_strmap_get(&seen, e->detail))
            continue;
        if (cb_strmap_put(&seen, e->detail, "") < 0 || (s->names[s->n] = strdup(e->detail)) == NULL ||
            (s->paths[s->n++] = cb_reqledger_path_of(ledger, e->detail)) == NULL)
            rc = -1;
    }
    cb_strmap_clear(&seen);
    return rc;
}

/* The rows of one list whose request it proposed and that still wait. */
static int pending_rows(cb_filter *f, const cb_reqledger *l, const char *night, const char *name,
                        cb_csv_reader *r, const cb_header *u, cb_err *err)
{
    const cb_header *h = cb_csv_reader_header(r);
    int map[h->n + 1], c_rid = cb_header_find(h, "request_id"), st, rc = 0;
    for (size_t k = 0; k < h->n; k++)
        map[k] = cb_header_find(u, h->names[k]);
    cb_record *in = cb_record_new(), *rec = cb_record_new();
    while (in && rec && rc == 0 && (st = cb_csv_reader_next(r, in, err)) != CB_CSV_EOF) {
        if (st != CB_CSV_RECORD) {
            rc = cb_err_set(err, EX_DATAERR, "%s:%ld: %s", name, in->line, err->msg);
            break;
        }
        const cb_reqevent *p = cb_reqledger_find(l, "proposed", cb_record_get(in, c_rid), NULL);
        if (c_rid < 0 || p == NULL || strcmp(p->detail, name) || !cb_reqpending_waits(l, p, night))
            continue;
        cb_record_clear(rec);
        for (size_t k = 0; k < h->n; k++)
            cb_record_set(rec, map[k], cb_record_get(in, (int)k), cb_record_len(in, (int)k));
        cb_filter_in(f);
        rc = cb_filter_emit(f, rec) < 0 ? 1 : 0;
    }
    if (in == NULL || rec == NULL)
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    cb_record_free(in);
    cb_record_free(rec);
    return rc;
}

static int pending_list(cb_filter *f, const cb_reqledger *l, const char *night, const char *name,
                        char *path, const cb_header *u, cb_err *err)
{
    cb_csv_reader *r = cb_csv_reader_open(&path, 1, 0, err);
    if (r == NULL)
        return -1;
    int rc = pending_rows(f, l, night, name, r, u, err);
    cb_csv_reader_close(r);
    return rc;
}

/* The lists' columns as intake wrote them; Forms 03/04's without lists. */
static cb_header *list_header(const lists *s)
{
    return s->n > 0 ? cb_reqintake_header(s->paths, s->n) : cb_reqintake_union_header(NULL, 0);
}

int cb_reqpending_run(cb_filter *f, const char *ledger, const char *night)
{
    cb_err err = {0};
    lists s = {0};
    cb_header *u = NULL;
    int rc = 0;
    cb_reqledger *l = cb_reqledger_open(ledger, 0, &err);
    if (l == NULL)
        rc = -1;
    else if (proposal_lists(l, ledger, &s) < 0 || (u = list_header(&s)) == NULL ||
             cb_filter_set_header(f, u) < 0)
        rc = cb_err_set(&err, EX_OSERR, "out of memory");
    else if (cb_filter_open_outputs(f) < 0)
        rc = 1;
    for (int i = 0; rc == 0 && i < s.n; i++)
        rc = pending_list(f, l, night, s.names[i], s.paths[i], u, &err);
    if (rc < 0)
        cb_filter_stop(f, NULL, 0, &err);
    cb_header_free(u);
    lists_free(&s);
    cb_reqledger_close(l, &err);
    return f->rc;
}
