/* Unit tests for lib/parallel.c: each index runs once whatever thread
 * takes it, in order on the caller's thread alone, more threads than
 * jobs, no job at all. */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "parallel.h"
#include "tap.h"

typedef struct pool_probe {
    int *calls;
    size_t *order;
    size_t next;
    pthread_mutex_t lock;
    pthread_t *who;
} pool_probe;

static void probe(void *arg, size_t i)
{
    pool_probe *p = arg;
    pthread_mutex_lock(&p->lock);
    p->calls[i]++;
    p->order[p->next++] = i;
    p->who[i] = pthread_self();
    pthread_mutex_unlock(&p->lock);
}

int main(void)
{
    enum { N = 2000 };
    static int calls[N];
    static size_t order[N];
    static pthread_t who[N];
    pool_probe p = {calls, order, 0, PTHREAD_MUTEX_INITIALIZER, who};
    cb_err err = {0};
    ok(cb_parallel_for(N, 4, probe, &p, &err) == 0, "2000 jobs on 4 threads");
    int once = 1;
    for (size_t i = 0; i < N; i++)
        once &= calls[i] == 1;
    ok(once && p.next == N, "each job runs exactly once, whatever thread takes it");
    memset(calls, 0, sizeof calls);
    p.next = 0;
    ok(cb_parallel_for(N, 1, probe, &p, &err) == 0, "the same on the caller's thread alone");
    int in_order = 1, same = 1;
    for (size_t i = 0; i < N; i++) {
        in_order &= order[i] == i && calls[i] == 1;
        same &= pthread_equal(who[i], pthread_self());
    }
    ok(in_order, "one thread runs the jobs in input order");
    ok(same, "on the caller's thread");
    memset(calls, 0, sizeof calls);
    p.next = 0;
    ok(cb_parallel_for(3, 256, probe, &p, &err) == 0 && p.next == 3 && calls[0] + calls[1] + calls[2] == 3,
       "more threads than jobs: each job still once");
    p.next = 0;
    ok(cb_parallel_for(0, 4, probe, &p, &err) == 0 && p.next == 0, "no job: nothing runs");
    pthread_mutex_destroy(&p.lock);
    return done_testing();
}
