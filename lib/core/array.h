/* Growing arrays: the one rule by which the library's arrays (events,
 * rows, spellings, lines) make room for one more element, doubling so
 * that n appends cost O(n) copies in all. */
#ifndef CB_ARRAY_H
#define CB_ARRAY_H

#include <stddef.h>

/* Makes room for element n of the array *arrp (a T ** passed as void *)
 * of *cap elements of size bytes: nothing when n < *cap, else the array
 * is reallocated to twice *cap (first when empty) and *cap updated. 0, or
 * -1 when out of memory (the array is then unchanged). */
int cb_array_grow(void *arrp, size_t n, size_t *cap, size_t size, size_t first);

#endif
