/* A loop over indexes on several threads: see parallel.h. */
#include "parallel.h"

#include <pthread.h>

typedef struct pf_state {
    void (*fn)(void *, size_t);
    void *arg;
    size_t n;
    size_t next;
    pthread_mutex_t lock;
} pf_state;

static void *pf_worker(void *p)
{
    pf_state *st = p;
    for (;;) {
        pthread_mutex_lock(&st->lock);
        size_t i = st->next++;
        pthread_mutex_unlock(&st->lock);
        if (i >= st->n)
            break;
        st->fn(st->arg, i);
    }
    return NULL;
}

int cb_parallel_for(size_t n, int nthreads, void (*fn)(void *arg, size_t i), void *arg,
                    cb_err *err)
{
    if (nthreads <= 1 || n <= 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i);
        return 0;
    }
    if ((size_t)nthreads > n)
        nthreads = (int)n;
    pf_state st = {fn, arg, n, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t tid[256];
    int started = 0;
    if (nthreads > 256)
        nthreads = 256;
    for (; started < nthreads - 1; started++)
        if (pthread_create(&tid[started], NULL, pf_worker, &st) != 0)
            break;
    pf_worker(&st);  /* the caller works too */
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&st.lock);
    (void)err;
    return 0;
}
