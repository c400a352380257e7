/* Unit tests for the duplicate-key set: SipHash-2-4 against the reference
 * vectors of its paper (key 00..0f), SipHash-1-3 against CPython's, keys found with the line and input of
 * the row that holds them, kinds kept apart, packings that must stay apart
 * ("0012" and "012", "HS-0001" and "HS-001"), long keys, and 300,000 rows
 * (the table rebuilt many times) all found again with their own lines. */
#include <stdio.h>
#include <string.h>

#include "dupset.h"
#include "tap.h"

static int found_at(cb_dupset *d, int kind, const char *key, int *in, long *line)
{
    return cb_dupset_find(d, kind, key, strlen(key), in, line);
}

static void siphash_vectors(void)
{
    uint8_t k[16], m[15];
    for (int i = 0; i < 16; i++)
        k[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        m[i] = (uint8_t)i;
    ok(cb_siphash24(k, m, 0) == 0x726fdb47dd0e0e31ull, "SipHash-2-4 of the empty message is 726fdb47dd0e0e31");
    ok(cb_siphash24(k, m, 15) == 0xa129ca6149be45e5ull, "SipHash-2-4 of 00..0e is a129ca6149be45e5 (the paper's example)");
    /* SipHash-1-3 as CPython 3.11 hashes bytes with PYTHONHASHSEED=0 (a
     * zero key): hash(bytes(range(8))) & (2**64 - 1), and so on. */
    uint8_t z[16] = {0};
    ok(cb_siphash13(z, m, 8) == 0xead411e67ebe2eeaull, "SipHash-1-3 of 00..07 under the zero key is Python's ead411e67ebe2eea");
    ok(cb_siphash13(z, m, 15) == 0xf30eb725bb91c9eaull, "SipHash-1-3 of 00..0e under the zero key is Python's f30eb725bb91c9ea");
    ok(cb_siphash13(z, "HS-0000001", 10) == 0xb80de5057a347746ull, "SipHash-1-3 of HS-0000001 under the zero key is Python's b80de5057a347746");
}

static void small_set(void)
{
    cb_err err = {0};
    cb_dupset *d = cb_dupset_new();
    int in = -1;
    long line = -1;
    ok(d != NULL && !found_at(d, 0, "HS-001", &in, &line), "an empty set holds nothing");
    const char *r1[3] = {"HS-001", "068150000001", "10A3F"};
    const char *r2[3] = {"HS-0001", "0012", NULL};
    const char *r3[3] = {"x", "a very long key, longer than sixty-three characters, packed with a varint length", "ABCDEF0123"};
    is_int(cb_dupset_add(d, r1, 0, 2, &err), 0, "a row is added");
    is_int(cb_dupset_add(d, r2, 0, 5, &err), 0, "a second row");
    is_int(cb_dupset_add(d, r3, 1, 2, &err), 0, "a row of a second input");
    ok(found_at(d, 0, "HS-001", &in, &line) && in == 0 && line == 2, "a request id is found with its line");
    ok(found_at(d, 1, "068150000001", &in, &line) && line == 2, "an identity number is found");
    ok(found_at(d, 2, "10A3F", &in, &line) && line == 2, "a serial is found");
    ok(!found_at(d, 0, "068150000001", &in, &line), "a key of one kind is not found as another kind");
    ok(found_at(d, 0, "HS-0001", &in, &line) && line == 5, "HS-0001 is its own key, on line 5");
    ok(!found_at(d, 0, "HS-01", &in, &line), "HS-01 is neither");
    ok(!found_at(d, 1, "012", &in, &line) && found_at(d, 1, "0012", &in, &line),
       "leading zeros count: 012 is not 0012");
    ok(!found_at(d, 2, "10a3f", &in, &line), "case counts (the caller normalises)");
    ok(!found_at(d, 2, "10A3F0", &in, &line) && !found_at(d, 2, "10A3", &in, &line),
       "a serial one digit longer or shorter is another");
    ok(found_at(d, 1, r3[1], &in, &line) && in == 1 && line == 2, "a long key is found, in the second input");
    ok(found_at(d, 0, "x", &in, &line) && found_at(d, 2, "ABCDEF0123", &in, &line), "short and all-hex keys too");
    is_int(cb_dupset_rows(d), 3, "three rows");
    cb_dupset_free(d);
}

static void many_rows(void)
{
    cb_err err = {0};
    cb_dupset *d = cb_dupset_new();
    enum { N = 300000 };
    char id[32], person[32], serial[32];
    int bad = 0;
    for (long i = 0; i < N && !bad; i++) {
        snprintf(id, sizeof id, "HS-%07ld", i);
        snprintf(person, sizeof person, "0681%08ld", i * 7);
        snprintf(serial, sizeof serial, "%lX", 0x100000 + i);
        const char *keys[3] = {id, person, i % 3 ? serial : NULL};
        long line = 2 + i * 2 + (i % 100 == 0 ? 50 : 0);   /* jumps past the delta */
        bad = cb_dupset_add(d, keys, (int)(i / 100000), line, &err) != 0;
    }
    ok(!bad, "300000 rows are added");
    int wrong = 0, in;
    long line;
    for (long i = 0; i < N; i++) {
        snprintf(id, sizeof id, "HS-%07ld", i);
        snprintf(person, sizeof person, "0681%08ld", i * 7);
        snprintf(serial, sizeof serial, "%lX", 0x100000 + i);
        long want = 2 + i * 2 + (i % 100 == 0 ? 50 : 0);
        if (!found_at(d, 0, id, &in, &line) || line != want || in != (int)(i / 100000))
            wrong++;
        if (!found_at(d, 1, person, &in, &line) || line != want)
            wrong++;
        if (found_at(d, 2, serial, &in, &line) != (i % 3 != 0))
            wrong++;
        snprintf(person, sizeof person, "0681%08ld", i * 7 + 1);
        if (i % 7 != 6 && found_at(d, 1, person, &in, &line))
            wrong++;
        snprintf(id, sizeof id, "HS-%07ld", N + i);
        if (found_at(d, 0, id, &in, &line))
            wrong++;
    }
    is_int(wrong, 0, "each key is found with its own row's line and input, and no other key is");
    cb_dupset_free(d);
}

int main(void)
{
    siphash_vectors();
    small_set();
    many_rows();
    return done_testing();
}
