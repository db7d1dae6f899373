/* Lesson 06, part one (solution): a task per fetch, each waited for with aio_wait_for() and
 * the batch's one deadline; a retry loop whose every try ends by the same deadline. */
#include "fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int fetch_batch(aio_http *c, struct fetch *f, size_t n, int64_t deadline)
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
    /* One absolute deadline for every wait: the later waits do not start a new clock, so the
     * batch is over by it. aio_wait_for cancels a fetch still running at the deadline and
     * waits until its transfer is removed. After a failed spawn, everything is cut now. */
    for (size_t i = 0; i < spawned; i++) {
        int rc = aio_wait_for(tasks[i], first_error == -ENOMEM ? aio_now() : deadline);
        if (rc == -ETIMEDOUT && first_error != -ENOMEM)
            f[i].rc = -ETIMEDOUT;   /* fetch_one saw its cancellation: to the caller, a cut */
        if (f[i].rc < 0 && first_error == 0)
            first_error = f[i].rc;
    }
    for (size_t i = spawned; i < n; i++)
        f[i].rc = -ECANCELED;
    free(tasks);
    return first_error;
}

int fetch_retry(aio_http *c, struct fetch *f, int tries, int64_t try_ms, int64_t deadline)
{
    int rc = -ETIMEDOUT;

    if (tries < 1 || try_ms < 1) {
        rc = -EINVAL;
        goto out;
    }
    for (int i = 0; i < tries; i++) {
        int64_t now = aio_now();
        int64_t until = now + try_ms;

        if (now >= deadline)
            break;                      /* no try at or after the deadline */
        if (until > deadline)
            until = deadline;           /* nor one running past it */
        aio_response_free(&f->resp);    /* the previous try's 5xx */
        rc = aio_http_get(c, f->url, &f->resp, until);
        if (rc == 0 && f->resp.status >= 500 && f->resp.status <= 599)
            continue;                   /* kept if this was the last try */
        if (rc != -ETIMEDOUT)
            break;
    }
out:
    f->rc = rc;
    f->done = 1;
    return rc;
}
