/* Lesson 05, part one (solution): a task per fetch, and one semaphore of k permits around
 * each request. */
#include "fetch.h"

#include <errno.h>
#include <stdlib.h>

/* What one task needs: its fetch and the batch's one semaphore. */
struct capped {
    struct fetch *f;
    aio_sem *sem;
};

static int capped_one(void *arg)
{
    struct capped *cf = arg;
    int rc = aio_sem_acquire(cf->sem, cf->f->deadline);

    if (rc < 0) {
        /* No slot before the deadline: never sent. */
        cf->f->rc = rc;
        return rc;
    }
    rc = fetch_one(cf->f);
    /* Released whatever the fetch returned: a slot kept by a failure stalls the rest. */
    aio_sem_release(cf->sem);
    return rc;
}

int fetch_capped(aio_http *c, struct fetch *f, size_t n, int k, int64_t deadline)
{
    struct capped *cf;
    aio_task **tasks;
    aio_sem sem;
    size_t spawned = 0;
    int first_error = 0;

    if (k < 1)
        return -EINVAL;
    aio_sem_init(&sem, k);
    cf = calloc(n > 0 ? n : 1, sizeof *cf);
    tasks = calloc(n > 0 ? n : 1, sizeof *tasks);
    if (cf == NULL || tasks == NULL) {
        free(cf);
        free(tasks);
        return -ENOMEM;
    }
    /* Spawning is not capped: every task exists at once, and waits for its slot. */
    for (; spawned < n; spawned++) {
        fetch_prepare(&f[spawned], c, deadline);
        cf[spawned].f = &f[spawned];
        cf[spawned].sem = &sem;
        tasks[spawned] = aio_spawn(capped_one, &cf[spawned]);
        if (tasks[spawned] == NULL) {
            first_error = -ENOMEM;
            break;
        }
    }
    for (size_t i = 0; i < spawned; i++) {
        int rc = aio_join(tasks[i], AIO_NEVER);
        if (rc < 0 && first_error == 0)
            first_error = rc;
    }
    free(tasks);
    free(cf);
    return first_error;
}
