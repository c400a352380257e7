/* The one record type every program shares: a header (column names, looked
 * up by name) and a record (one string per column).
 *
 * A record's field buffers are kept between records, so a program that reads
 * a million rows through one cb_record allocates only while the longest
 * field grows. A pointer from cb_record_get stays valid until that same field
 * is set again or the record is cleared. */
#ifndef CB_RECORD_H
#define CB_RECORD_H

#include <stddef.h>

typedef struct cb_header {
    size_t n;
    size_t cap;
    char **names;
} cb_header;

cb_header *cb_header_new(void);
void cb_header_free(cb_header *h);
/* Appends a column; returns its index, or -1 when out of memory. */
int cb_header_add(cb_header *h, const char *name);
/* Index of the column with exactly this name, or -1. */
int cb_header_find(const cb_header *h, const char *name);
/* Index of the column, appending it when absent ("a program appends the
 * columns it computes at the end, or overwrites a column of the same name"). */
int cb_header_ensure(cb_header *h, const char *name);
cb_header *cb_header_copy(const cb_header *h);

typedef struct cb_field {
    char *s;     /* NUL-terminated */
    size_t len;
    size_t cap;
} cb_field;

typedef struct cb_record {
    size_t n;        /* fields in use */
    size_t cap;
    cb_field *f;
    long line;       /* line where the record starts in its input, 1-based */
} cb_record;

cb_record *cb_record_new(void);
void cb_record_free(cb_record *r);
/* Forgets the fields but keeps their buffers. */
void cb_record_clear(cb_record *r);
/* Field i, or "" when the record has fewer fields. Never NULL. */
const char *cb_record_get(const cb_record *r, int i);
size_t cb_record_len(const cb_record *r, int i);
/* Sets field i to s[0..len), growing the record with empty fields as needed.
 * Returns 0, or -1 when out of memory or i < 0. */
int cb_record_set(cb_record *r, int i, const char *s, size_t len);
int cb_record_set_str(cb_record *r, int i, const char *s);
/* Copies all fields of src into dst. */
int cb_record_copy(cb_record *dst, const cb_record *src);

#endif
