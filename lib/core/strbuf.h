/* A growing NUL-terminated string, for the text the library builds piece
 * by piece (words of a pipeline step, lines of a run log). */
#ifndef CB_STRBUF_H
#define CB_STRBUF_H

#include <stddef.h>

typedef struct cb_buf {
    char *s;       /* NULL until something is added */
    size_t len, cap;
} cb_buf;

/* Appends s[0..n); 0, or -1 when out of memory (the buffer is unchanged). */
int cb_buf_add(cb_buf *b, const char *s, size_t n);
int cb_buf_addc(cb_buf *b, char ch);
/* The string (never NULL unless out of memory), which the caller frees;
 * the buffer is empty again. */
char *cb_buf_take(cb_buf *b);
void cb_buf_free(cb_buf *b);

#endif
