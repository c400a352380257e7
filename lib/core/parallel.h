/* A loop whose iterations run on several threads: each index is taken
 * once, by whichever thread is free, so the work (signatures, key pairs)
 * spreads over the cores while each result stays in its own slot and the
 * caller writes them in input order afterwards. */
#ifndef CB_PARALLEL_H
#define CB_PARALLEL_H

#include <stddef.h>

#include "cb_err.h"

/* Calls fn(arg, i) once for each i in [0, n) on nthreads threads (at
 * most 256, the caller's among them; the caller's alone, in order, when
 * nthreads <= 1). A thread that cannot be started leaves its share to
 * the others. Returns 0. */
int cb_parallel_for(size_t n, int nthreads, void (*fn)(void *arg, size_t i), void *arg,
                    cb_err *err);

#endif
