/* Header and record: see record.h. */
#include "record.h"

#include <stdlib.h>
#include <string.h>

cb_header *cb_header_new(void)
{
    return calloc(1, sizeof(cb_header));
}

void cb_header_free(cb_header *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->names[i]);
    free(h->names);
    free(h);
}

int cb_header_add(cb_header *h, const char *name)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        char **p = realloc(h->names, cap * sizeof *p);
        if (p == NULL)
            return -1;
        h->names = p;
        h->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return -1;
    h->names[h->n] = copy;
    return (int)h->n++;
}

int cb_header_find(const cb_header *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->names[i], name) == 0)
            return (int)i;
    return -1;
}

int cb_header_ensure(cb_header *h, const char *name)
{
    int i = cb_header_find(h, name);
    return i >= 0 ? i : cb_header_add(h, name);
}

cb_header *cb_header_copy(const cb_header *h)
{
    cb_header *c = cb_header_new();
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < h->n; i++) {
        if (cb_header_add(c, h->names[i]) < 0) {
            cb_header_free(c);
            return NULL;
        }
    }
    return c;
}

cb_record *cb_record_new(void)
{
    return calloc(1, sizeof(cb_record));
}

void cb_record_free(cb_record *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->cap; i++)
        free(r->f[i].s);
    free(r->f);
    free(r);
}

void cb_record_clear(cb_record *r)
{
    r->n = 0;
    r->line = 0;
}

const char *cb_record_get(const cb_record *r, int i)
{
    if (i < 0 || (size_t)i >= r->n || r->f[i].s == NULL)
        return "";
    return r->f[i].s;
}

size_t cb_record_len(const cb_record *r, int i)
{
    if (i < 0 || (size_t)i >= r->n)
        return 0;
    return r->f[i].len;
}

static int grow_fields(cb_record *r, size_t need)
{
    if (need <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 16;
    while (cap < need)
        cap *= 2;
    cb_field *p = realloc(r->f, cap * sizeof *p);
    if (p == NULL)
        return -1;
    memset(p + r->cap, 0, (cap - r->cap) * sizeof *p);
    r->f = p;
    r->cap = cap;
    return 0;
}

int cb_record_set(cb_record *r, int i, const char *s, size_t len)
{
    /* the common case: a field set again, or the next one, within the
     * room an earlier record left it */
    if (i >= 0 && (size_t)i <= r->n && (size_t)i < r->cap && len < r->f[i].cap) {
        cb_field *f = &r->f[i];
        memmove(f->s, s, len);
        f->s[len] = '\0';
        f->len = len;
        if ((size_t)i == r->n)
            r->n++;
        return 0;
    }
    if (i < 0 || grow_fields(r, (size_t)i + 1) < 0)
        return -1;
    while (r->n < (size_t)i) {          /* fields skipped over become empty */
        cb_field *e = &r->f[r->n++];
        e->len = 0;
        if (e->s)
            e->s[0] = '\0';
    }
    cb_field *f = &r->f[i];
    if (len + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 32;
        while (cap < len + 1)
            cap *= 2;
        char *p = realloc(f->s, cap);
        if (p == NULL)
            return -1;
        f->s = p;
        f->cap = cap;
    }
    if (len)
        memmove(f->s, s, len);
    f->s[len] = '\0';
    f->len = len;
    if ((size_t)i >= r->n)
        r->n = (size_t)i + 1;
    return 0;
}

int cb_record_set_str(cb_record *r, int i, const char *s)
{
    return cb_record_set(r, i, s, strlen(s));
}

int cb_record_copy(cb_record *dst, const cb_record *src)
{
    cb_record_clear(dst);
    for (size_t i = 0; i < src->n; i++) {
        const char *s = src->f[i].s ? src->f[i].s : "";
        size_t len = src->f[i].s ? src->f[i].len : 0;
        /* within the room an earlier record left: the bytes and their NUL
         * in one copy (validate-form copies every field of every row) */
        if (i < dst->cap && len < dst->f[i].cap) {
            memcpy(dst->f[i].s, s, len + 1);
            dst->f[i].len = len;
            dst->n = i + 1;
        } else if (cb_record_set(dst, (int)i, s, len) < 0) {
            return -1;
        }
    }
    dst->n = src->n;
    dst->line = src->line;
    return 0;
}
