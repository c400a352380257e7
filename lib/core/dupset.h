/* The keys a batch has seen, for the duplicate checks of validate-form
 * (a request id, a person, an old serial used twice), in a few dozen
 * bytes a row: a nation's batch must fit beside everything else.
 *
 * Each row that passes is appended to an arena, its keys packed (digits
 * and upper-case hex two to a byte) with its line as a delta from the row
 * before; an open-addressing table of 32-bit slots (row number and 8 bits
 * of a keyed SipHash-1-3) indexes the keys. A slot only says where to look: a
 * key is found only when its packed bytes equal the row's, so a hash
 * collision costs a comparison and can never make a row a duplicate. */
#ifndef CB_DUPSET_H
#define CB_DUPSET_H

#include <stddef.h>
#include <stdint.h>

#include "cb_err.h"

/* The kinds of key a row may hold, each compared only with its own kind. */
#define CB_DUPSET_KINDS 3

typedef struct cb_dupset cb_dupset;

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of m[0..n) under key k. */
uint64_t cb_siphash24(const uint8_t k[16], const void *m, size_t n);
/* SipHash-1-3, the same with one round a word and three at the end: the
 * table's index, where a collision costs only time (as Python's and Rust's
 * hash tables use it against inputs made to collide), and the set hashes
 * every key again each time the table doubles. */
uint64_t cb_siphash13(const uint8_t k[16], const void *m, size_t n);

/* A set keyed at random (getentropy), or NULL when out of memory. */
cb_dupset *cb_dupset_new(void);
void cb_dupset_free(cb_dupset *d);

/* Whether an earlier row holds key (len bytes, not empty) as a key of this
 * kind: 1 and that row's *input and *line, or 0. */
int cb_dupset_find(cb_dupset *d, int kind, const char *key, size_t len, int *input, long *line);

/* Asks the cache for the key's slot ahead of cb_dupset_find. */
void cb_dupset_prefetch(cb_dupset *d, int kind, const char *key, size_t len);

/* Adds a row of input (an index the caller keeps) at line: keys[k] (or
 * NULL or "" for none) of each kind, none of them in the set yet. 0, or
 * -1 with err (out of memory, or more rows than the slots can number). */
int cb_dupset_add(cb_dupset *d, const char *const keys[CB_DUPSET_KINDS], int input, long line,
                  cb_err *err);

/* Rows added. */
size_t cb_dupset_rows(const cb_dupset *d);

#endif
