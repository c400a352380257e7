/* The library's one hash map, and the string hash its tables share.
 *
 * cb_keymap maps strings to positions (size_t): a table that keeps its
 * records in an array finds them by key through it (requests by id, agencies
 * by key, old certificates by serial). cb_strmap, string to string, is built
 * on it: the sets a run keeps (request ids seen, old serials taken, a value's
 * normalised forms computed once). Both only grow. Open addressing with
 * linear probing, kept at most half full. */
#ifndef CB_STRMAP_H
#define CB_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a over a NUL-terminated string. */
uint64_t cb_str_hash(const char *s);

typedef struct cb_keymap_slot {
    char *key;
    size_t val;
} cb_keymap_slot;

typedef struct cb_keymap {
    size_t n, cap;
    cb_keymap_slot *s;
} cb_keymap;

/* A keymap starts zeroed; cb_keymap_clear frees its keys and empties it. */
void cb_keymap_clear(cb_keymap *m);
/* 1 and *val set when key is there, else 0. */
int cb_keymap_get(const cb_keymap *m, const char *key, size_t *val);
/* Adds key -> val (a copy of key) unless key is there: 1 added, 0 already
 * there (*old, when not NULL, gets its value), -1 out of memory. */
int cb_keymap_add(cb_keymap *m, const char *key, size_t val, size_t *old);

typedef struct cb_strmap {
    cb_keymap index;     /* key -> position in vals */
    char **vals;
    size_t cap;          /* of vals */
} cb_strmap;

/* A map embedded in a struct starts zeroed (or with cb_strmap_init) and is
 * emptied with cb_strmap_clear; cb_strmap_new/free allocate one. */
void cb_strmap_init(cb_strmap *m);
void cb_strmap_clear(cb_strmap *m);
cb_strmap *cb_strmap_new(void);
void cb_strmap_free(cb_strmap *m);
/* How many keys it holds. */
size_t cb_strmap_count(const cb_strmap *m);
/* The value of key, or NULL. */
const char *cb_strmap_get(const cb_strmap *m, const char *key);
/* Stores copies; the first value of a key stays. -1 when out of memory. */
int cb_strmap_put(cb_strmap *m, const char *key, const char *value);

#endif
