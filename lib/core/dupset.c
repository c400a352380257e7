/* The keys a batch has seen: see dupset.h.
 *
 * The arena is the truth and the table only an index into it: the table is
 * rebuilt from the arena when it grows (the old one freed first, so the
 * peak is one table), and a slot names a row, not a byte, so that 24 bits
 * of row number and 8 bits of hash fit in 32. Rows are found from their
 * number through the arena offset of every GROUP-th row and a walk over at
 * most GROUP-1 rows, done only when a slot's 8 bits already match.
 *
 * A row in the arena: one byte (bits 0-2 which kinds it holds, bits 3-7
 * its line minus the last row's, 0 when the input and line follow as
 * varints: the first row of a group, a new input, a jump), then each key
 * it holds, in kind order, packed as pack() says and front-coded: the
 * number of its first bytes that are those of the key of its kind in the
 * row before it in the group, and the bytes after them. Request ids and
 * serials given in order share most of their bytes with the one before. */
#include "dupset.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GROUP 16
#define MAX_ROWS 0xFFFFFEu            /* row + 1 in 24 bits */
#define LOAD_NUM 7                    /* grow past 7/8 full */
#define LOAD_DEN 8

typedef struct probe {
    unsigned char *buf;               /* the last key looked up, packed */
    size_t len, cap;
    uint64_t h;
    char *raw;                        /* and as it was given */
    size_t rawlen, rawcap;
} probe;

struct cb_dupset {
    uint8_t key[CB_DUPSET_KINDS][16];
    unsigned char *arena;
    size_t alen, acap;
    uint32_t *group;                  /* arena offset of rows 0, GROUP, 2 GROUP... */
    size_t ngroup, gcap;
    uint32_t *slot;                   /* (row + 1) << 8 | 8 bits of hash; 0 empty */
    size_t cap, nkeys, rows;
    int last_input;
    long last_line;
    probe pr[CB_DUPSET_KINDS], tmp;
    unsigned char *wlast[CB_DUPSET_KINDS];   /* the writer's last key of each kind in its group */
    size_t wlen[CB_DUPSET_KINDS];
    unsigned char *cur[CB_DUPSET_KINDS];     /* a reader's, walking a group */
    size_t clen[CB_DUPSET_KINDS];
    size_t keycap;                           /* of wlast[] and cur[]: the longest packed key */
};

/* ---- SipHash-2-4 ---- */

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
#endif
}

#define SIPROUND(v0, v1, v2, v3)                                                        \
    do {                                                                                \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                      \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                          \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                          \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                      \
    } while (0)

/* c rounds a word and d at the end: SipHash-c-d. */
static inline uint64_t siphash(const uint8_t k[16], const void *m, size_t n, int c, int d)
{
    const uint8_t *p = m;
    uint64_t k0 = le64(k), k1 = le64(k + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull,
             v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    size_t whole = n - n % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t w = le64(p + i);
        v3 ^= w;
        for (int r = 0; r < c; r++)
            SIPROUND(v0, v1, v2, v3);
        v0 ^= w;
    }
    uint64_t b = (uint64_t)n << 56;
    uint8_t last[8] = {0};
    memcpy(last, p + whole, n - whole);
    b |= le64(last) & 0x00FFFFFFFFFFFFFFull;
    v3 ^= b;
    for (int r = 0; r < c; r++)
        SIPROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t cb_siphash24(const uint8_t k[16], const void *m, size_t n)
{
    return siphash(k, m, n, 2, 4);
}

uint64_t cb_siphash13(const uint8_t k[16], const void *m, size_t n)
{
    return siphash(k, m, n, 1, 3);
}

/* ---- packing ----
 *
 * A key is packed one of three ways, chosen from the key alone so that two
 * keys are equal exactly when their packed bytes are: all of it digits or
 * upper-case hex, two to a byte (identity numbers, serials); a tail of four
 * or more such characters after a prefix kept as it is ("HS-" + 0000001);
 * or all of it as it is. The first byte says which (bits 6-7) and a length
 * (bits 0-5, 63 when a varint follows). */

enum { RAW, NIBBLES, PREFIX_NIBBLES };

static int nibble(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t put_varint(unsigned char *p, size_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static size_t get_varint(const unsigned char *p, size_t *v)
{
    size_t n = 0, x = 0;
    int shift = 0;
    do {
        x |= (size_t)(p[n] & 0x7F) << shift;
        shift += 7;
    } while (p[n++] & 0x80);
    *v = x;
    return n;
}

static size_t put_head(unsigned char *p, int how, size_t len)
{
    if (len < 63) {
        p[0] = (unsigned char)(how << 6 | (int)len);
        return 1;
    }
    p[0] = (unsigned char)(how << 6 | 63);
    return 1 + put_varint(p + 1, len);
}

/* c is a digit or A-F. */
static unsigned hexval(unsigned char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'A' + 10);
}

static size_t put_nibbles(unsigned char *p, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    for (; i + 1 < n; i += 2)
        p[i / 2] = (unsigned char)(hexval(u[i]) << 4 | hexval(u[i + 1]));
    if (i < n)
        p[i / 2] = (unsigned char)(hexval(u[i]) << 4);
    return (n + 1) / 2;
}

/* At most n + 21 bytes into p. */
static size_t pack(const char *s, size_t n, unsigned char *p)
{
    size_t tail = 0;
    while (tail < n && nibble((unsigned char)s[n - 1 - tail]) >= 0)
        tail++;
    if (tail == n) {
        size_t k = put_head(p, NIBBLES, n);
        return k + put_nibbles(p + k, s, n);
    }
    if (tail >= 4) {
        size_t pre = n - tail, k = put_head(p, PREFIX_NIBBLES, pre);
        memcpy(p + k, s, pre);
        k += pre;
        k += put_varint(p + k, tail);
        return k + put_nibbles(p + k, s + pre, tail);
    }
    size_t k = put_head(p, RAW, n);
    memcpy(p + k, s, n);
    return k + n;
}

/* ---- rows ---- */

typedef struct rowpos {
    int mask, input;
    long line;
    const unsigned char *next;        /* the row after it */
} rowpos;

/* The front coding of a key: one byte of two 4-bit counts (bytes shared,
 * bytes after them), or 0xFF and the two as varints. */
static size_t put_front(unsigned char *p, size_t shared, size_t rest)
{
    if (shared < 16 && rest < 16 && !(shared == 15 && rest == 15)) {
        p[0] = (unsigned char)(shared << 4 | rest);
        return 1;
    }
    p[0] = 0xFF;
    size_t k = 1 + put_varint(p + 1, shared);
    return k + put_varint(p + k, rest);
}

static size_t get_front(const unsigned char *p, size_t *shared, size_t *rest)
{
    if (p[0] != 0xFF) {
        *shared = p[0] >> 4;
        *rest = p[0] & 15;
        return 1;
    }
    size_t k = 1 + get_varint(p + 1, shared);
    return k + get_varint(p + k, rest);
}

/* The row at p, the one before it having been at input, line; its keys
 * into d->cur[]. first: p begins a group. */
static void row_parse(cb_dupset *d, const unsigned char *p, int first, int input, long line,
                      rowpos *r)
{
    int delta = p[0] >> 3;
    r->mask = p[0] & 7;
    p++;
    if (delta == 0) {
        size_t v;
        p += get_varint(p, &v);
        input = (int)v;
        p += get_varint(p, &v);
        line = (long)v;
    } else {
        line += delta;
    }
    r->input = input;
    r->line = line;
    for (int k = 0; k < CB_DUPSET_KINDS; k++) {
        if (first)
            d->clen[k] = 0;
        if (!(r->mask & (1 << k)))
            continue;
        size_t shared, rest;
        p += get_front(p, &shared, &rest);
        memcpy(d->cur[k] + shared, p, rest);
        d->clen[k] = shared + rest;
        p += rest;
    }
    r->next = p;
}

static void row_at(cb_dupset *d, size_t row, rowpos *r)
{
    row_parse(d, d->arena + d->group[row / GROUP], 1, 0, 0, r);
    for (size_t i = row - row % GROUP; i < row; i++)
        row_parse(d, r->next, 0, r->input, r->line, r);
}

/* ---- the table ---- */

static size_t home(uint64_t h, size_t cap)
{
    return (size_t)(((h >> 32) * (uint64_t)cap) >> 32);
}

static void slot_put(cb_dupset *d, uint64_t h, size_t row)
{
    size_t i = home(h, d->cap);
    while (d->slot[i] != 0)
        i = i + 1 == d->cap ? 0 : i + 1;
    d->slot[i] = (uint32_t)(row + 1) << 8 | (uint32_t)(h & 0xFF);
    d->nkeys++;
}

static uint64_t key_hash(const cb_dupset *d, int kind, const unsigned char *p, size_t n)
{
    return cb_siphash13(d->key[kind], p, n);
}

/* A table of cap slots holding every key of the arena. Each key's slot is
 * asked of the cache AHEAD keys before it is written: the keys come in
 * arena order and their slots anywhere, so one at a time each would wait
 * for memory. */
#define AHEAD 16
static int rebuild(cb_dupset *d, size_t cap)
{
    free(d->slot);
    d->slot = calloc(cap, sizeof *d->slot);
    d->cap = d->slot ? cap : 0;
    d->nkeys = 0;
    if (d->slot == NULL)
        return -1;
    struct { uint64_t h; size_t row; } ring[AHEAD];
    size_t n_in = 0;
    rowpos r = {.next = d->arena};
    for (size_t row = 0; row < d->rows; row++) {
        row_parse(d, r.next, row % GROUP == 0, r.input, r.line, &r);
        for (int k = 0; k < CB_DUPSET_KINDS; k++) {
            if (!(r.mask & (1 << k)))
                continue;
            uint64_t h = key_hash(d, k, d->cur[k], d->clen[k]);
            __builtin_prefetch(&d->slot[home(h, d->cap)], 1);
            if (n_in >= AHEAD)
                slot_put(d, ring[n_in % AHEAD].h, ring[n_in % AHEAD].row);
            ring[n_in % AHEAD].h = h;
            ring[n_in % AHEAD].row = row;
            n_in++;
        }
    }
    for (size_t i = n_in > AHEAD ? n_in - AHEAD : 0; i < n_in; i++)
        slot_put(d, ring[i % AHEAD].h, ring[i % AHEAD].row);
    return 0;
}

static int grow_buf(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    unsigned char *p = realloc(*buf, n);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

/* The key packed into d->pr[kind] with its hash, computed once for the
 * prefetch, the lookup and the add of the same key. */
static probe *probe_key(cb_dupset *d, int kind, const char *key, size_t len)
{
    probe *t = &d->tmp, *pr = &d->pr[kind];
    if (pr->raw != NULL && pr->rawlen == len && memcmp(pr->raw, key, len) == 0)
        return pr;
    if (grow_buf(&t->buf, &t->cap, len + 21) < 0 ||
        grow_buf((unsigned char **)&t->raw, &t->rawcap, len + 1) < 0)
        return NULL;
    t->len = pack(key, len, t->buf);
    memcpy(t->raw, key, len);
    t->rawlen = len;
    t->h = key_hash(d, kind, t->buf, t->len);
    probe swap = *pr;
    *pr = *t;
    *t = swap;
    return pr;
}

cb_dupset *cb_dupset_new(void)
{
    cb_dupset *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    /* Keyed so that a sheet made to collide cannot slow a run down; the
     * key never changes what is found, so a fixed one will do without. */
    if (getentropy(d->key, sizeof d->key) != 0)
        for (size_t i = 0; i < sizeof d->key; i++)
            ((uint8_t *)d->key)[i] = (uint8_t)(i * 37 + 11);
    return d;
}

void cb_dupset_free(cb_dupset *d)
{
    if (d == NULL)
        return;
    free(d->arena);
    free(d->group);
    free(d->slot);
    for (int k = 0; k < CB_DUPSET_KINDS; k++) {
        free(d->pr[k].buf);
        free(d->pr[k].raw);
        free(d->wlast[k]);
        free(d->cur[k]);
    }
    free(d->tmp.buf);
    free(d->tmp.raw);
    free(d);
}

size_t cb_dupset_rows(const cb_dupset *d)
{
    return d->rows;
}

void cb_dupset_prefetch(cb_dupset *d, int kind, const char *key, size_t len)
{
    if (d->cap == 0 || len == 0)
        return;
    probe *p = probe_key(d, kind, key, len);
    if (p != NULL)
        __builtin_prefetch(&d->slot[home(p->h, d->cap)]);
}

int cb_dupset_find(cb_dupset *d, int kind, const char *key, size_t len, int *input, long *line)
{
    if (d->nkeys == 0 || len == 0)
        return 0;
    probe *p = probe_key(d, kind, key, len);
    if (p == NULL)    /* no room to pack it: then nothing packed can equal it */
        return 0;
    uint32_t tag = (uint32_t)(p->h & 0xFF);
    for (size_t i = home(p->h, d->cap); d->slot[i] != 0; i = i + 1 == d->cap ? 0 : i + 1) {
        if ((d->slot[i] & 0xFF) != tag)
            continue;
        rowpos r;
        row_at(d, (d->slot[i] >> 8) - 1, &r);
        if ((r.mask & (1 << kind)) && d->clen[kind] == p->len && memcmp(d->cur[kind], p->buf, p->len) == 0) {
            *input = r.input;
            *line = r.line;
            return 1;
        }
    }
    return 0;
}

/* Appends the row's bytes to the arena. */
/* Room in wlast[] and cur[] for a packed key of len bytes. */
static int key_room(cb_dupset *d, size_t len)
{
    if (len <= d->keycap)
        return 0;
    size_t cap = d->keycap ? d->keycap : 64;
    while (cap < len)
        cap *= 2;
    for (int k = 0; k < CB_DUPSET_KINDS; k++) {
        unsigned char *a = realloc(d->wlast[k], cap), *b = a ? realloc(d->cur[k], cap) : NULL;
        if (a != NULL)
            d->wlast[k] = a;
        if (b == NULL)
            return -1;
        d->cur[k] = b;
    }
    d->keycap = cap;
    return 0;
}

/* Appends key, front-coded against the writer's last key of its kind. */
static unsigned char *put_key(cb_dupset *d, unsigned char *p, int kind, const probe *key)
{
    size_t shared = 0;
    while (shared < key->len && shared < d->wlen[kind] && key->buf[shared] == d->wlast[kind][shared])
        shared++;
    p += put_front(p, shared, key->len - shared);
    memcpy(p, key->buf + shared, key->len - shared);
    memcpy(d->wlast[kind], key->buf, key->len);
    d->wlen[kind] = key->len;
    return p + key->len - shared;
}

static int append_row(cb_dupset *d, probe *const pk[CB_DUPSET_KINDS], int input, long line)
{
    size_t need = 1 + 20;
    int mask = 0;
    for (int k = 0; k < CB_DUPSET_KINDS; k++)
        if (pk[k] != NULL) {
            need += pk[k]->len + 21;
            mask |= 1 << k;
            if (key_room(d, pk[k]->len) < 0)
                return -1;
        }
    if (grow_buf(&d->arena, &d->acap, d->alen + need) < 0 || d->alen + need > UINT32_MAX)
        return -1;
    if (d->rows % GROUP == 0) {
        if (d->ngroup == d->gcap) {
            size_t n = d->gcap ? 2 * d->gcap : 256;
            uint32_t *g = realloc(d->group, n * sizeof *g);
            if (g == NULL)
                return -1;
            d->group = g;
            d->gcap = n;
        }
        d->group[d->ngroup++] = (uint32_t)d->alen;
        for (int k = 0; k < CB_DUPSET_KINDS; k++)
            d->wlen[k] = 0;
    }
    unsigned char *p = d->arena + d->alen;
    long delta = line - d->last_line;
    if (d->rows % GROUP != 0 && input == d->last_input && delta >= 1 && delta <= 31) {
        *p++ = (unsigned char)(delta << 3 | mask);
    } else {
        *p++ = (unsigned char)mask;
        p += put_varint(p, (size_t)input);
        p += put_varint(p, (size_t)line);
    }
    for (int k = 0; k < CB_DUPSET_KINDS; k++)
        if (pk[k] != NULL)
            p = put_key(d, p, k, pk[k]);
    d->alen = (size_t)(p - d->arena);
    d->last_input = input;
    d->last_line = line;
    return 0;
}

int cb_dupset_add(cb_dupset *d, const char *const keys[CB_DUPSET_KINDS], int input, long line,
                  cb_err *err)
{
    if (d->rows >= MAX_ROWS)
        return cb_err_set(err, EX_SOFTWARE, "more than %u rows in one batch", MAX_ROWS);
    if (input < 0 || line < 0)
        return cb_err_set(err, EX_SOFTWARE, "cb_dupset_add: negative input or line");
    probe *pk[CB_DUPSET_KINDS];
    size_t nk = 0;
    for (int k = 0; k < CB_DUPSET_KINDS; k++) {
        size_t len = keys[k] ? strlen(keys[k]) : 0;
        pk[k] = len ? probe_key(d, k, keys[k], len) : NULL;
        if (len && pk[k] == NULL)
            return cb_err_sys(err, EX_OSERR, "out of memory");
        nk += pk[k] != NULL;
    }
    if (append_row(d, pk, input, line) < 0)
        return cb_err_sys(err, EX_OSERR, "out of memory");
    size_t row = d->rows++;
    if ((d->nkeys + nk) * LOAD_DEN > d->cap * LOAD_NUM) {
        /* Twice as many slots, between 44% and 88% full: each rebuild
         * hashes every key again, and growing by half made three times as
         * many of them as there are keys, a tenth of a row's time. */
        size_t cap = d->cap < 1024 ? 1024 : 2 * d->cap;
        if (rebuild(d, cap) < 0)
            return cb_err_sys(err, EX_OSERR, "out of memory");
        return 0;
    }
    for (int k = 0; k < CB_DUPSET_KINDS; k++)
        if (pk[k] != NULL)
            slot_put(d, pk[k]->h, row);
    return 0;
}
