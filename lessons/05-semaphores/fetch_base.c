/* Lesson 05, given: one fetch as a task body, all N at once (unbounded), N capped by part
 * two's semaphore, and the clean-up. */
#include "fetch.h"
#include "sema.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void fetch_prepare(struct fetch *f, aio_http *c, int64_t deadline)
{
    f->client = c;
    f->deadline = deadline;
    memset(&f->resp, 0, sizeof f->resp);
    f->rc = 0;
    f->done = 0;
}

int fetch_one(void *arg)
{
    struct fetch *f = arg;

    f->rc = aio_http_get(f->client, f->url, &f->resp, f->deadline);
    f->done = 1;
    return f->rc;
}

/* Spawn a task per fetch with body(arg[i]), join them all; the first error in request order. */
static int spawn_all(aio_fn body, void *args, size_t size, size_t n)
{
    aio_task **tasks = calloc(n > 0 ? n : 1, sizeof *tasks);
    size_t spawned = 0;
    int first_error = 0;

    if (tasks == NULL)
        return -ENOMEM;
    for (; spawned < n; spawned++) {
        tasks[spawned] = aio_spawn(body, (char *)args + spawned * size);
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
    return first_error;
}

int fetch_unbounded(aio_http *c, struct fetch *f, size_t n, int64_t deadline)
{
    for (size_t i = 0; i < n; i++)
        fetch_prepare(&f[i], c, deadline);
    /* Every request leaves at once: against /limited, all but K of them get 429. */
    return spawn_all(fetch_one, f, sizeof *f, n);
}

struct my_sem_fetch {
    struct fetch *f;
    struct sema *sem;
};

static int fetch_under_my_sem(void *arg)
{
    struct my_sem_fetch *m = arg;
    int rc = sema_acquire(m->sem, m->f->deadline);

    if (rc < 0) {
        m->f->rc = rc;          /* never sent */
        return rc;
    }
    rc = fetch_one(m->f);
    sema_release(m->sem);        /* on the error path too */
    return rc;
}

int fetch_with_my_sem(aio_http *c, struct fetch *f, size_t n, int k, int64_t deadline)
{
    struct my_sem_fetch *m;
    struct sema sem;
    int rc;

    if (k < 1)
        return -EINVAL;
    m = calloc(n > 0 ? n : 1, sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    sema_init(&sem, k);
    for (size_t i = 0; i < n; i++) {
        fetch_prepare(&f[i], c, deadline);
        m[i].f = &f[i];
        m[i].sem = &sem;
    }
    rc = spawn_all(fetch_under_my_sem, m, sizeof *m, n);
    free(m);
    return rc;
}

void fetches_free(struct fetch *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        aio_response_free(&f[i].resp);
        memset(&f[i].resp, 0, sizeof f[i].resp);
    }
}
