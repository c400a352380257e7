/* Unit tests for the string map and hash: the FNV-1a values of known
 * strings (from the FNV specification's test vectors), lookups, the first
 * value kept, growth, and embedded use; the key map under it. */
#include <stdio.h>
#include <string.h>

#include "strmap.h"
#include "tap.h"

int main(void)
{
    /* FNV-1a 64-bit test vectors: "" and "a". */
    ok(cb_str_hash("") == 0xcbf29ce484222325ULL, "FNV-1a of the empty string is the offset basis");
    ok(cb_str_hash("a") == 0xaf63dc4c8601ec8cULL, "FNV-1a of \"a\" is af63dc4c8601ec8c");

    cb_strmap *m = cb_strmap_new();
    ok(cb_strmap_get(m, "x") == NULL, "an empty map has nothing");
    is_int(cb_strmap_put(m, "HS-001", "line 2"), 0, "a value is stored");
    is_int(cb_strmap_put(m, "HS-001", "line 9"), 0, "storing a key again is not an error");
    is_str(cb_strmap_get(m, "HS-001"), "line 2", "and the first value stays");
    char k[32], v[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key%d", i);
        snprintf(v, sizeof v, "v%d", i * 3);
        cb_strmap_put(m, k, v);
    }
    is_int(cb_strmap_count(m), 5001, "5001 keys after growing");
    is_str(cb_strmap_get(m, "key4321"), "v12963", "a key stored before the map grew is found");
    is_str(cb_strmap_get(m, "HS-001"), "line 2", "the first key too");
    ok(cb_strmap_get(m, "key5000") == NULL, "a key never stored is not found");
    cb_strmap_free(m);

    cb_strmap e = {0};
    is_int(cb_strmap_put(&e, "Sở Tài chính", "sở tài chính"), 0, "an embedded map takes UTF-8 keys");
    is_str(cb_strmap_get(&e, "Sở Tài chính"), "sở tài chính", "and gives them back");
    cb_strmap_clear(&e);
    ok(cb_strmap_count(&e) == 0 && cb_strmap_get(&e, "Sở Tài chính") == NULL, "cleared, it is empty and usable");

    cb_keymap km = {0};
    size_t v2 = 0, old = 99;
    ok(!cb_keymap_get(&km, "HS-001", &v2), "an empty key map finds nothing");
    is_int(cb_keymap_add(&km, "HS-001", 7, &old), 1, "a key is added");
    is_int(old, 99, "and nothing was found before it");
    is_int(cb_keymap_add(&km, "HS-001", 8, &old), 0, "adding it again says it is there");
    is_int(old, 7, "with the position first given");
    for (size_t i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "row%zu", i);
        cb_keymap_add(&km, k, i, NULL);
    }
    ok(cb_keymap_get(&km, "row2999", &v2) && v2 == 2999, "a key added after growing maps to its position");
    ok(cb_keymap_get(&km, "HS-001", &v2) && v2 == 7, "the first key survives the growth");
    is_int(km.n, 3001, "3001 keys held");
    ok(km.n * 2 <= km.cap, "the table is at most half full");
    cb_keymap_clear(&km);
    ok(km.n == 0 && !cb_keymap_get(&km, "row1", &v2), "cleared, it is empty");
    return done_testing();
}
