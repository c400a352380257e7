/* A string-to-string map that only grows, and the string hash the library's
 * tables share: the sets a run keeps (request ids seen, old serials taken,
 * a value's normalised forms computed once). */
#ifndef CB_STRMAP_H
#define CB_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a over a NUL-terminated string. */
uint64_t cb_str_hash(const char *s);

typedef struct cb_strmap {
    size_t n, cap;
    char **keys;
    char **vals;
} cb_strmap;

/* A map embedded in a struct starts zeroed (or with cb_strmap_init) and is
 * emptied with cb_strmap_clear; cb_strmap_new/free allocate one. */
void cb_strmap_init(cb_strmap *m);
void cb_strmap_clear(cb_strmap *m);
cb_strmap *cb_strmap_new(void);
void cb_strmap_free(cb_strmap *m);
/* The value of key, or NULL. */
const char *cb_strmap_get(const cb_strmap *m, const char *key);
/* Stores copies; the first value of a key stays. -1 when out of memory. */
int cb_strmap_put(cb_strmap *m, const char *key, const char *value);

#endif
