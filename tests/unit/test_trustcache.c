/* lib/pki/trustcache: the file's form (its layout written out by hand
 * here, checksum by OpenSSL's SHA-256), absent, empty and damaged files,
 * what a run keeps (the keys it met, each once, in order), threads adding
 * at once. */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tap.h"
#include "trustcache.h"

static char dir[] = "/tmp/test_trustcache.XXXXXX";

static void key_of(unsigned n, unsigned char k[CB_TRUSTCACHE_KEY])
{
    char s[32];
    unsigned int len = 0;
    snprintf(s, sizeof s, "key %u", n);
    EVP_Digest(s, strlen(s), k, &len, EVP_sha256(), NULL);
}

static size_t slurp(const char *path, unsigned char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return 0;
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

static void spit(const char *path, const unsigned char *buf, size_t n)
{
    FILE *fp = fopen(path, "wb");
    fwrite(buf, 1, n, fp);
    fclose(fp);
}

static cb_trustcache *open_cache(const char *path, int *damaged)
{
    cb_err err = {0}, why = {0};
    cb_trustcache *c = cb_trustcache_open(path, &why, &err);
    if (c == NULL)
        printf("# %s\n", err.msg);
    *damaged = why.code != EX_OK;
    return c;
}

typedef struct adder {
    cb_trustcache *c;
    unsigned from;
} adder;

static void *add_many(void *arg)
{
    adder *a = arg;
    unsigned char k[CB_TRUSTCACHE_KEY];
    for (unsigned i = 0; i < 5000; i++) {
        key_of(a->from + i, k);
        cb_trustcache_add(a->c, k);
    }
    return NULL;
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/c.bin", dir);
    cb_err err = {0};
    int damaged = -1;
    unsigned char k1[CB_TRUSTCACHE_KEY], k2[CB_TRUSTCACHE_KEY], k3[CB_TRUSTCACHE_KEY];
    key_of(1, k1);
    key_of(2, k2);
    key_of(3, k3);

    cb_trustcache *c = open_cache(path, &damaged);
    ok(c != NULL && damaged == 0, "an absent file is an empty cache, not damaged");
    ok(!cb_trustcache_known(c, k1), "an empty cache knows nothing");
    cb_trustcache_add(c, k2);
    cb_trustcache_add(c, k1);
    cb_trustcache_add(c, k2);  /* the same certificate met twice */
    ok(cb_trustcache_save(c, &err) == 0, "saved");
    cb_trustcache_free(c);

    /* The layout, by hand: magic, count, keys in order, SHA-256 of the rest. */
    unsigned char buf[4096], want[4096], sum[32];
    size_t n = slurp(path, buf, sizeof buf);
    const unsigned char *lo = memcmp(k1, k2, 32) < 0 ? k1 : k2, *hi = lo == k1 ? k2 : k1;
    memcpy(want, "CBTRUST1", 8);
    memset(want + 8, 0, 8);
    want[8] = 2;
    memcpy(want + 16, lo, 32);
    memcpy(want + 48, hi, 32);
    unsigned int sl = 0;
    EVP_Digest(want, 80, sum, &sl, EVP_sha256(), NULL);
    memcpy(want + 80, sum, 32);
    is_int(n, 112, "two keys: 16 + 2 x 32 + 32 bytes (the key met twice is kept once)");
    ok(n == 112 && memcmp(buf, want, 112) == 0, "the file is magic, count, the keys in order and their SHA-256");

    c = open_cache(path, &damaged);
    ok(c != NULL && damaged == 0, "read back whole");
    ok(cb_trustcache_known(c, k1) && cb_trustcache_known(c, k2), "both keys known");
    ok(!cb_trustcache_known(c, k3), "another is not");
    is_int(cb_trustcache_hits(c), 2, "two hits counted");
    cb_trustcache_add(c, k3);
    ok(cb_trustcache_save(c, &err) == 0, "saved again");
    cb_trustcache_free(c);
    c = open_cache(path, &damaged);
    ok(cb_trustcache_known(c, k1) && cb_trustcache_known(c, k2) && cb_trustcache_known(c, k3),
       "the next run knows what the last one met and added");
    cb_trustcache_free(c);

    /* A run keeps only the keys it met. */
    c = open_cache(path, &damaged);
    cb_trustcache_known(c, k3);
    cb_trustcache_save(c, &err);
    cb_trustcache_free(c);
    c = open_cache(path, &damaged);
    ok(cb_trustcache_known(c, k3) && !cb_trustcache_known(c, k1) && !cb_trustcache_known(c, k2),
       "keys not met in a run fall out");
    cb_trustcache_free(c);

    /* Damage of every kind is ignored and said. */
    n = slurp(path, buf, sizeof buf);
    struct { const char *what; size_t len; int flip; } bad[] = {
        {"a changed key byte", n, 20}, {"a changed checksum byte", n, (int)n - 1}, {"a changed count", n, 8},
        {"a changed magic", n, 0}, {"cut short", n - 1, -1}, {"cut to the header", 16, -1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char b[4096];
        memcpy(b, buf, n);
        if (bad[i].flip >= 0)
            b[bad[i].flip] ^= 0x01;
        spit(path, b, bad[i].len);
        c = open_cache(path, &damaged);
        ok(c != NULL && damaged == 1 && !cb_trustcache_known(c, k3), "%s: damaged, nothing known", bad[i].what);
        cb_trustcache_free(c);
    }
    /* Keys out of order, with a right checksum: damaged too. */
    memcpy(want + 16, hi, 32);
    memcpy(want + 48, lo, 32);
    EVP_Digest(want, 80, sum, &sl, EVP_sha256(), NULL);
    memcpy(want + 80, sum, 32);
    spit(path, want, 112);
    c = open_cache(path, &damaged);
    ok(c != NULL && damaged == 1, "keys out of order: damaged");
    cb_trustcache_free(c);
    spit(path, want, 0);
    c = open_cache(path, &damaged);
    ok(c != NULL && damaged == 0, "an empty file is an empty cache, not damaged");
    cb_trustcache_free(c);

    /* Two threads adding at once: every key kept, once. */
    c = open_cache(path, &damaged);
    adder a = {c, 0}, b = {c, 2500};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, add_many, &a);
    pthread_create(&tb, NULL, add_many, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    is_int(cb_trustcache_added(c), 10000, "two threads added 10,000 keys");
    ok(cb_trustcache_save(c, &err) == 0, "saved");
    cb_trustcache_free(c);
    is_int(slurp(path, buf, sizeof buf), 4096, "the file is larger than the first 4 KiB read");
    c = open_cache(path, &damaged);
    int all = c != NULL && damaged == 0;
    unsigned char k[CB_TRUSTCACHE_KEY];
    for (unsigned i = 0; all && i < 7500; i++) {
        key_of(i, k);
        all = cb_trustcache_known(c, k);
    }
    ok(all, "all 7,500 distinct keys known (the 2,500 added by both once)");
    FILE *fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    is_int(ftell(fp), 16 + 7500 * 32 + 32, "each kept once");
    fclose(fp);
    cb_trustcache_free(c);

    /* A directory, or a file that cannot be read, is no cache: an empty
     * one, said. */
    ok(chmod(path, 0) == 0, "the cache made unreadable");
    c = open_cache(path, &damaged);
    ok(c != NULL && (damaged == 1 || geteuid() == 0), "a cache that cannot be read: empty, said (root reads it anyway)");
    cb_trustcache_free(c);
    c = open_cache(dir, &damaged);
    ok(c != NULL && damaged == 1 && !cb_trustcache_known(c, k1), "a directory: empty, said");
    cb_trustcache_free(c);

    /* An unwritable place: an error, not a crash. */
    snprintf(path, sizeof path, "%s/no/such/c.bin", dir);
    c = open_cache(path, &damaged);
    cb_trustcache_add(c, k1);
    ok(cb_trustcache_save(c, &err) < 0 && err.code != 0, "a cache that cannot be written is an error: %s", err.msg);
    cb_trustcache_free(c);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return done_testing();
}
