/* String map and hash: see strmap.h. Open addressing, kept at most half
 * full. */
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

void cb_strmap_init(cb_strmap *m)
{
    memset(m, 0, sizeof *m);
}

void cb_strmap_clear(cb_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->keys[i]);
        free(m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
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

const char *cb_strmap_get(const cb_strmap *m, const char *k)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = cb_str_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == NULL)
            return NULL;
        if (strcmp(m->keys[i], k) == 0)
            return m->vals[i];
    }
}

int cb_strmap_put(cb_strmap *m, const char *k, const char *v)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        char **nk = calloc(nc, sizeof *nk), **nv = calloc(nc, sizeof *nv);
        if (nk == NULL || nv == NULL) {
            free(nk);
            free(nv);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->keys[i] == NULL)
                continue;
            size_t j = cb_str_hash(m->keys[i]) & (nc - 1);
            while (nk[j] != NULL)
                j = (j + 1) & (nc - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = nc;
    }
    size_t i = cb_str_hash(k) & (m->cap - 1);
    while (m->keys[i] != NULL) {
        if (strcmp(m->keys[i], k) == 0)
            return 0;
        i = (i + 1) & (m->cap - 1);
    }
    char *kc = strdup(k), *vc = strdup(v);
    if (kc == NULL || vc == NULL) {
        free(kc);
        free(vc);
        return -1;
    }
    m->keys[i] = kc;
    m->vals[i] = vc;
    m->n++;
    return 0;
}
