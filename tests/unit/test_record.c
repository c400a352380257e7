/* Unit tests for lib/core/record.c: the header (columns by name) and the record
 * (fields by index, empty beyond the end, buffers kept between records). */
#include <string.h>

#include "record.h"
#include "tap.h"

int main(void)
{
    /* Header */
    cb_header *h = cb_header_new();
    ok(h != NULL, "new header");
    is_int(h->n, 0, "a new header has no columns");
    is_int(cb_header_add(h, "serial"), 0, "first column gets index 0");
    is_int(cb_header_add(h, "subject_cn"), 1, "second column gets index 1");
    is_int(cb_header_find(h, "subject_cn"), 1, "column found by name");
    is_int(cb_header_find(h, "Subject_CN"), -1, "names are matched exactly (case counts)");
    is_int(cb_header_find(h, "subject"), -1, "a prefix is not a match");
    is_int(cb_header_find(h, "missing"), -1, "an absent column is -1");
    is_int(cb_header_ensure(h, "serial"), 0, "ensure of a present column gives its index");
    is_int(h->n, 2, "ensure of a present column adds nothing");
    is_int(cb_header_ensure(h, "days_left"), 2, "ensure of an absent column appends it");
    is_int(h->n, 3, "and the header grows by one");
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        cb_header_add(h, name);
    }
    is_int(h->n, 43, "a header grows past its first allocation");
    is_int(cb_header_find(h, "c39"), 42, "and columns stay findable");
    cb_header *hc = cb_header_copy(h);
    ok(hc != NULL && hc->n == h->n, "header copy has the same columns");
    ok(hc != NULL && hc->names[0] != h->names[0] && strcmp(hc->names[0], "serial") == 0,
       "header copy owns its own strings");
    cb_header_free(h);
    is_int(cb_header_find(hc, "days_left"), 2, "the copy outlives the original");
    cb_header_free(hc);
    cb_header_free(NULL);
    ok(1, "freeing a NULL header is harmless");

    /* Record */
    cb_record *r = cb_record_new();
    ok(r != NULL, "new record");
    is_int(r->n, 0, "a new record has no fields");
    is_str(cb_record_get(r, 0), "", "field 0 of an empty record is empty");
    is_str(cb_record_get(r, -1), "", "a negative index is empty, not a crash");
    is_int(cb_record_len(r, 5), 0, "length of an absent field is 0");
    is_int(cb_record_set_str(r, 0, "a"), 0, "set field 0");
    is_int(cb_record_set_str(r, 3, "d"), 0, "set field 3 beyond the end");
    is_int(r->n, 4, "the record now has 4 fields");
    is_str(cb_record_get(r, 1), "", "skipped field 1 is empty");
    is_str(cb_record_get(r, 2), "", "skipped field 2 is empty");
    is_str(cb_record_get(r, 3), "d", "field 3 holds what was set");
    is_str(cb_record_get(r, 4), "", "field 4 (out of range) is empty");
    is_str(cb_record_get(r, 1000), "", "field 1000 (out of range) is empty");
    is_int(cb_record_set(r, -1, "x", 1), -1, "set with a negative index fails");

    /* Embedded NUL and lengths */
    is_int(cb_record_set(r, 1, "ab\0cd", 5), 0, "set a field with an embedded NUL");
    is_int(cb_record_len(r, 1), 5, "its length is 5, not strlen");
    ok(memcmp(cb_record_get(r, 1), "ab\0cd", 6) == 0, "the bytes and the terminator are kept");

    /* Growing a field, then shrinking it */
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    is_int(cb_record_set_str(r, 2, big), 0, "set a 999-byte field");
    is_int(cb_record_len(r, 2), 999, "its length is 999");
    is_int(cb_record_set_str(r, 2, "short"), 0, "set it again shorter");
    is_str(cb_record_get(r, 2), "short", "the shorter value replaces the longer");
    is_int(cb_record_len(r, 2), 5, "and its length is 5");

    /* Clearing keeps buffers, and old values never show through */
    const char *p3 = cb_record_get(r, 3);
    cb_record_clear(r);
    is_int(r->n, 0, "clear forgets the fields");
    is_str(cb_record_get(r, 3), "", "a cleared field reads empty");
    cb_record_set_str(r, 5, "f");
    is_str(cb_record_get(r, 3), "", "after clear, a field skipped over reads empty, not its old value");
    is_str(cb_record_get(r, 2), "", "so does another skipped one");
    is_int(cb_record_len(r, 2), 0, "with length 0");
    ok(cb_record_get(r, 3) == p3, "the buffer of field 3 was kept (no reallocation)");

    /* Setting a field from part of itself */
    cb_record_set_str(r, 0, "hello world");
    is_int(cb_record_set(r, 0, cb_record_get(r, 0) + 6, 5), 0, "set a field from a part of itself");
    is_str(cb_record_get(r, 0), "world", "overlapping copy is right");

    /* Copy */
    cb_record *c = cb_record_new();
    cb_record_set_str(c, 9, "stale");
    r->line = 42;
    is_int(cb_record_copy(c, r), 0, "copy a record");
    is_int(c->n, r->n, "the copy has the same number of fields");
    is_int(c->line, 42, "the copy has the same line");
    int same = 1;
    for (size_t i = 0; i < r->n; i++)
        same &= cb_record_len(c, (int)i) == cb_record_len(r, (int)i) &&
                memcmp(cb_record_get(c, (int)i), cb_record_get(r, (int)i), cb_record_len(r, (int)i)) == 0;
    ok(same, "every field of the copy is equal");
    is_str(cb_record_get(c, 9), "", "a field the copy had before is gone");
    cb_record_set_str(r, 5, "changed");
    is_str(cb_record_get(c, 5), "f", "the copy does not share storage with the original");
    cb_record *e = cb_record_new();
    is_int(cb_record_copy(c, e), 0, "copy an empty record");
    is_int(c->n, 0, "the copy is empty");
    cb_record_free(e);
    cb_record_free(c);

    /* Many fields */
    cb_record_clear(r);
    for (int i = 0; i < 100; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        cb_record_set_str(r, i, v);
    }
    is_int(r->n, 100, "a record grows to 100 fields");
    is_str(cb_record_get(r, 99), "v99", "field 99 is right");
    is_str(cb_record_get(r, 0), "v0", "field 0 is right after growing");
    cb_record_free(r);
    cb_record_free(NULL);
    ok(1, "freeing a NULL record is harmless");

    return done_testing();
}
