/* The certificates vouched for on an earlier night: see trustcache.h. */
#include "trustcache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "array.h"
#include "atomic.h"

#define MAGIC "CBTRUST1"
#define HEAD 16                 /* the magic and the count */
#define TAIL 32                 /* the SHA-256 over the rest */

struct cb_trustcache {
    char *path;
    void *map;                  /* the file read, or NULL */
    size_t map_len;
    const unsigned char *keys;  /* in the map, n of them, strictly increasing */
    size_t n;
    unsigned char *hit;         /* one bit a key: met in this run */
    unsigned long hits;
    pthread_mutex_t mu;         /* for what follows */
    unsigned char *added;
    size_t nadded, cap;
};

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

/* 1 when the mapped file is a whole cache: its magic, its count, its keys in
 * order and its checksum. */
static int well_formed(const unsigned char *m, size_t len)
{
    if (len < HEAD + TAIL || (len - HEAD - TAIL) % CB_TRUSTCACHE_KEY != 0 || memcmp(m, MAGIC, 8) != 0 ||
        get_le64(m + 8) != (len - HEAD - TAIL) / CB_TRUSTCACHE_KEY)
        return 0;
    unsigned char sum[32];
    unsigned int n = 0;
    if (EVP_Digest(m, len - TAIL, sum, &n, EVP_sha256(), NULL) != 1 || memcmp(sum, m + len - TAIL, 32) != 0)
        return 0;
    size_t count = (len - HEAD - TAIL) / CB_TRUSTCACHE_KEY;
    for (size_t i = 1; i < count; i++)
        if (memcmp(m + HEAD + (i - 1) * CB_TRUSTCACHE_KEY, m + HEAD + i * CB_TRUSTCACHE_KEY, CB_TRUSTCACHE_KEY) >= 0)
            return 0;
    return 1;
}

/* Maps the file at c->path when it is a whole cache. Anything else leaves
 * the cache empty with why set: a cache only saves work, and a night must
 * not fail for want of one. */
static void load(cb_trustcache *c, cb_err *why)
{
    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            cb_err_sys(why, EX_NOINPUT, "cannot open it");
        return;
    }
    struct stat st;
    void *m = MAP_FAILED;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        cb_err_set(why, EX_NOINPUT, "not a regular file");
    else if (st.st_size > 0 && (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
        cb_err_sys(why, EX_IOERR, "cannot read it");
    close(fd);
    if (m == MAP_FAILED)  /* made empty on purpose: start again */
        return;
    if (!well_formed(m, (size_t)st.st_size)) {
        munmap(m, (size_t)st.st_size);
        cb_err_set(why, EX_DATAERR, "cut short, changed, or not a trust cache");
        return;
    }
    c->map = m;
    c->map_len = (size_t)st.st_size;
    c->keys = (const unsigned char *)m + HEAD;
    c->n = (c->map_len - HEAD - TAIL) / CB_TRUSTCACHE_KEY;
}

cb_trustcache *cb_trustcache_open(const char *path, cb_err *why, cb_err *err)
{
    why->code = EX_OK;
    why->msg[0] = '\0';
    cb_trustcache *c = calloc(1, sizeof *c);
    if (c == NULL || (c->path = strdup(path)) == NULL) {
        free(c);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    load(c, why);
    if (c->n > 0 && (c->hit = calloc((c->n + 7) / 8, 1)) == NULL) {
        cb_trustcache_free(c);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    return c;
}

void cb_trustcache_free(cb_trustcache *c)
{
    if (c == NULL)
        return;
    if (c->map != NULL)
        munmap(c->map, c->map_len);
    pthread_mutex_destroy(&c->mu);
    free(c->hit);
    free(c->added);
    free(c->path);
    free(c);
}

int cb_trustcache_known(cb_trustcache *c, const unsigned char key[CB_TRUSTCACHE_KEY])
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = memcmp(c->keys + mid * CB_TRUSTCACHE_KEY, key, CB_TRUSTCACHE_KEY);
        if (d == 0) {
            __atomic_fetch_or(&c->hit[mid / 8], (unsigned char)(1u << (mid % 8)), __ATOMIC_RELAXED);
            __atomic_fetch_add(&c->hits, 1, __ATOMIC_RELAXED);
            return 1;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int cb_trustcache_add(cb_trustcache *c, const unsigned char key[CB_TRUSTCACHE_KEY])
{
    pthread_mutex_lock(&c->mu);
    int rc = cb_array_grow(&c->added, c->nadded, &c->cap, CB_TRUSTCACHE_KEY, 1024);
    if (rc == 0)
        memcpy(c->added + c->nadded++ * CB_TRUSTCACHE_KEY, key, CB_TRUSTCACHE_KEY);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

unsigned long cb_trustcache_hits(const cb_trustcache *c)
{
    return __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
}

unsigned long cb_trustcache_added(const cb_trustcache *c)
{
    return (unsigned long)c->nadded;
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, CB_TRUSTCACHE_KEY);
}

/* The keys of the run in order, each once: those of the file met in this
 * run merged with those added. emit(NULL) only counts. */
typedef struct merge_out {
    EVP_MD_CTX *md;
    FILE *fp;
    uint64_t count;
    int failed;
} merge_out;

static void put_key(merge_out *o, const unsigned char *k, const unsigned char **last)
{
    if (*last != NULL && memcmp(*last, k, CB_TRUSTCACHE_KEY) == 0)
        return;
    *last = k;
    o->count++;
    if (o->fp != NULL && (fwrite(k, CB_TRUSTCACHE_KEY, 1, o->fp) != 1 || EVP_DigestUpdate(o->md, k, CB_TRUSTCACHE_KEY) != 1))
        o->failed = 1;
}

static void merge(const cb_trustcache *c, merge_out *o)
{
    size_t i = 0, j = 0;
    const unsigned char *last = NULL;
    for (;;) {
        while (i < c->n && !(c->hit[i / 8] & (1u << (i % 8))))
            i++;
        const unsigned char *a = i < c->n ? c->keys + i * CB_TRUSTCACHE_KEY : NULL;
        const unsigned char *b = j < c->nadded ? c->added + j * CB_TRUSTCACHE_KEY : NULL;
        if (a == NULL && b == NULL)
            return;
        if (b == NULL || (a != NULL && memcmp(a, b, CB_TRUSTCACHE_KEY) <= 0)) {
            put_key(o, a, &last);
            i++;
        } else {
            put_key(o, b, &last);
            j++;
        }
    }
}

int cb_trustcache_save(cb_trustcache *c, cb_err *err)
{
    if (c->nadded > 1)
        qsort(c->added, c->nadded, CB_TRUSTCACHE_KEY, key_cmp);
    merge_out o = {0};
    merge(c, &o);
    unsigned char head[HEAD], sum[32];
    memcpy(head, MAGIC, 8);
    put_le64(head + 8, o.count);
    cb_atomic at;
    if (cb_atomic_open(&at, c->path, 0644, err) < 0)
        return -1;
    o.count = 0;
    o.fp = at.fp;
    unsigned int n = 0;
    if ((o.md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(o.md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(o.md, head, HEAD) != 1 || fwrite(head, HEAD, 1, at.fp) != 1)
        o.failed = 1;
    if (!o.failed)
        merge(c, &o);
    if (!o.failed && (EVP_DigestFinal_ex(o.md, sum, &n) != 1 || fwrite(sum, sizeof sum, 1, at.fp) != 1))
        o.failed = 1;
    EVP_MD_CTX_free(o.md);
    if (o.failed) {
        cb_err_sys(err, EX_IOERR, "cannot write %s", c->path);
        cb_atomic_abort(&at);
        return -1;
    }
    return cb_atomic_commit(&at, 0, err);
}
