/* Lesson 06, given: one fetch as a task body with no deadline of its own, the batch that waits
 * forever, the batch on part two's wf_wait_for, and the clean-up. */
#include "fetch.h"
#include "waitfor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void fetch_prepare(struct fetch *f, aio_http *c)
{
    f->client = c;
    memset(&f->resp, 0, sizeof f->resp);
    f->rc = 0;
    f->done = 0;
}

int fetch_one(void *arg)
{
    struct fetch *f = arg;

    f->rc = aio_http_get(f->client, f->url, &f->resp, AIO_NEVER);
    f->done = 1;
    return f->rc;
}

int fetch_all_no_deadline(aio_http *c, struct fetch *f, size_t n)
{
    aio_task **tasks = calloc(n > 0 ? n : 1, sizeof *tasks);
    size_t spawned = 0;
    int first_error = 0;

    if (tasks == NULL)
        return -ENOMEM;
    for (; spawned < n; spawned++) {
        fetch_prepare(&f[spawned], c);
        tasks[spawned] = aio_spawn(fetch_one, &f[spawned]);
        if (tasks[spawned] == NULL) {
            first_error = -ENOMEM;
            break;
        }
    }
    /* No deadline: a request that never ends holds this join, and the batch, forever. */
    for (size_t i = 0; i < spawned; i++) {
        int rc = aio_join(tasks[i], AIO_NEVER);
        if (rc < 0 && first_error == 0)
            first_error = rc;
    }
    free(tasks);
    return first_error;
}

int fetch_batch_mine(aio_http *c, struct fetch *f, size_t n, int64_t deadline)
{
    struct wf_job *jobs = calloc(n > 0 ? n : 1, sizeof *jobs);
    size_t spawned = 0;
    int first_error = 0;

    if (jobs == NULL)
        return -ENOMEM;
    for (; spawned < n; spawned++) {
        fetch_prepare(&f[spawned], c);
        if (wf_spawn(&jobs[spawned], fetch_one, &f[spawned]) < 0) {
            first_error = -ENOMEM;
            break;
        }
    }
    for (size_t i = 0; i < spawned; i++) {
        /* The one deadline of the batch for every wait: the batch ends by it. */
        int rc = wf_wait_for(&jobs[i], first_error == -ENOMEM ? aio_now() : deadline);
        if (rc == -ENOSYS && jobs[i].task != NULL) {
            /* The skeleton's stub: end the job here, so the program can say so and exit. */
            aio_cancel(jobs[i].task);
            aio_join(jobs[i].task, AIO_NEVER);
        }
        if (rc == -ETIMEDOUT && first_error != -ENOMEM) {
            aio_response_free(&f[i].resp);
            memset(&f[i].resp, 0, sizeof f[i].resp);
            f[i].rc = -ETIMEDOUT;
        }
        if (rc < 0 && first_error == 0)
            first_error = rc;
    }
    for (size_t i = spawned; i < n; i++)
        f[i].rc = -ECANCELED;
    free(jobs);
    return first_error;
}

void fetches_free(struct fetch *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        aio_response_free(&f[i].resp);
        memset(&f[i].resp, 0, sizeof f[i].resp);
    }
}
