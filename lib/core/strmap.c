/* The hash map and the string hash: see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t cb_str_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;   /* the FNV offset basis */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* ---- cb_keymap ---- */

/* The slot of key, or the empty slot where it would go; cap > 0. */
static cb_keymap_slot *slot_of(cb_keymap_slot *s, size_t cap, const char *key)
{
    size_t i = (size_t)cb_str_hash(key) & (cap - 1);
    while (s[i].key != NULL && strcmp(s[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &s[i];
}

static int grow(cb_keymap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    cb_keymap_slot *s = calloc(cap, sizeof *s);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->s[i].key != NULL)
            *slot_of(s, cap, m->s[i].key) = m->s[i];
    free(m->s);
    m->s = s;
    m->cap = cap;
    return 0;
}

void cb_keymap_clear(cb_keymap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->s[i].key);
    free(m->s);
    memset(m, 0, sizeof *m);
}

int cb_keymap_get(const cb_keymap *m, const char *key, size_t *val)
{
    if (m->cap == 0)
        return 0;
    const cb_keymap_slot *sl = slot_of(m->s, m->cap, key);
    if (sl->key == NULL)
        return 0;
    *val = sl->val;
    return 1;
}

int cb_keymap_add(cb_keymap *m, const char *key, size_t val, size_t *old)
{
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
        return -1;
    cb_keymap_slot *sl = slot_of(m->s, m->cap, key);
    if (sl->key != NULL) {
        if (old)
            *old = sl->val;
        return 0;
    }
    if ((sl->key = strdup(key)) == NULL)
        return -1;
    sl->val = val;
    m->n++;
    return 1;
}

/* ---- cb_strmap ---- */

void cb_strmap_init(cb_strmap *m)
{
    memset(m, 0, sizeof *m);
}

void cb_strmap_clear(cb_strmap *m)
{
    for (size_t i = 0; i < m->index.n; i++)
        free(m->vals[i]);
    free(m->vals);
    cb_keymap_clear(&m->index);
    cb_strmap_init(m);
}

cb_strmap *cb_strmap_new(void)
{
    return calloc(1, sizeof(cb_strmap));
}

void cb_strmap_free(cb_strmap *m)
{
    if (m == NULL)
        return;
    cb_strmap_clear(m);
    free(m);
}

size_t cb_strmap_count(const cb_strmap *m)
{
    return m->index.n;
}

const char *cb_strmap_get(const cb_strmap *m, const char *k)
{
    size_t i;
    return cb_keymap_get(&m->index, k, &i) ? m->vals[i] : NULL;
}

int cb_strmap_put(cb_strmap *m, const char *k, const char *v)
{
    size_t n = m->index.n;
    if (n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        char **vals = realloc(m->vals, cap * sizeof *vals);
        if (vals == NULL)
            return -1;
        m->vals = vals;
        m->cap = cap;
    }
    char *copy = strdup(v);
    if (copy == NULL)
        return -1;
    int added = cb_keymap_add(&m->index, k, n, NULL);
    if (added <= 0) {
        free(copy);
        return added;
    }
    m->vals[n] = copy;
    return 0;
}
