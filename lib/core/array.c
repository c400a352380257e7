/* Growing arrays: see array.h. */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int cb_array_grow(void *arrp, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : (first ? first : 1);
    if (nc <= n)
        nc = n + 1;
    if (size == 0 || nc > SIZE_MAX / size)
        return -1;
    /* The caller's pointer is a T *, read and written as bytes. */
    void *arr;
    memcpy(&arr, arrp, sizeof arr);
    void *p = realloc(arr, nc * size);
    if (p == NULL)
        return -1;
    memcpy(arrp, &p, sizeof p);
    *cap = nc;
    return 0;
}
