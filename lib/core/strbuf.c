/* Growing string: see strbuf.h. */
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

int cb_buf_add(cb_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *t = realloc(b->s, cap);
        if (t == NULL)
            return -1;
        b->s = t;
        b->cap = cap;
    }
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

int cb_buf_addc(cb_buf *b, char ch)
{
    return cb_buf_add(b, &ch, 1);
}

char *cb_buf_take(cb_buf *b)
{
    if (b->s == NULL && cb_buf_add(b, "", 0) < 0)
        return NULL;
    char *s = b->s;
    *b = (cb_buf){0};
    return s;
}

void cb_buf_free(cb_buf *b)
{
    free(b->s);
    *b = (cb_buf){0};
}
