/* Unit tests for lib/array.c: an array grows by doubling from its first
 * size, keeps what it held, and does nothing while there is room. */
#include <stdint.h>
#include <stdlib.h>

#include "array.h"
#include "tap.h"

typedef struct pair {
    int a;
    double b;
} pair;

int main(void)
{
    pair *v = NULL;
    size_t n = 0, cap = 0;
    int ok_all = 1;
    for (int i = 0; i < 1000; i++) {
        if (cb_array_grow(&v, n, &cap, sizeof *v, 8) < 0) {
            ok_all = 0;
            break;
        }
        v[n++] = (pair){i, i / 2.0};
    }
    ok(ok_all, "a thousand elements are appended");
    int kept = 1;
    for (size_t i = 0; i < n; i++)
        kept &= v[i].a == (int)i && v[i].b == (double)i / 2.0;
    ok(kept, "and each keeps its value across the reallocations");
    is_int((int)cap, 1024, "the capacity doubled from the first size: 8, 16, ... 1024");
    pair *before = v;
    ok(cb_array_grow(&v, 1000, &cap, sizeof *v, 8) == 0 && v == before && cap == 1024,
       "with room left nothing moves");
    free(v);

    char *s = NULL;
    size_t scap = 0;
    ok(cb_array_grow(&s, 0, &scap, 1, 0) == 0 && scap == 1, "a first size of 0 still makes room for one");
    ok(cb_array_grow(&s, 5, &scap, 1, 0) == 0 && scap >= 6, "room is made for element n even past twice the capacity");
    free(s);

    long *big = NULL;
    size_t bcap = SIZE_MAX / 4;
    ok(cb_array_grow(&big, bcap, &bcap, sizeof *big, 8) < 0 && big == NULL && bcap == SIZE_MAX / 4,
       "a size that would overflow is refused and the array is left as it was");
    return done_testing();
}
