/* Lesson 04, given: one request as a task body, what a useful answer is, the clean-up, and
 * first_completed() on part two's done_queue. */
#include "done_queue.h"
#include "gather.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void reply_prepare(struct reply *r, aio_http *c, int64_t deadline)
{
    r->client = c;
    r->deadline = deadline;
    memset(&r->resp, 0, sizeof r->resp);
    r->rc = 0;
    r->done = 0;
}

int reply_fetch(void *arg)
{
    struct reply *r = arg;

    r->rc = aio_http_get(r->client, r->url, &r->resp, r->deadline);
    r->done = 1;
    return r->rc;
}

int reply_useful(const struct reply *r)
{
    return r->rc == 0 && r->resp.status == 200;
}

void replies_free(struct reply *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        aio_response_free(&r[i].resp);
        memset(&r[i].resp, 0, sizeof r[i].resp);
    }
}

/* No useful answer: the deadline, or every mirror failed. */
static int no_answer(const struct reply *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].rc == -ETIMEDOUT)
            return -ETIMEDOUT;
    return -EIO;
}

int first_completed_mine(aio_http *c, struct reply *r, size_t n, int64_t deadline)
{
    struct done_queue q;
    int winner = -1, rc = 0;

    if (n == 0)
        return -EINVAL;
    if (dq_init(&q, n) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        reply_prepare(&r[i], c, deadline);
    /* Spawned in order, so the queue's index i is r[i]. */
    for (size_t i = 0; i < n && rc == 0; i++)
        if (dq_spawn(&q, reply_fetch, &r[i]) < 0)
            rc = -ENOMEM;
    while (rc == 0) {
        int result;
        int i = dq_next(&q, &result, AIO_NEVER);
        if (i < 0) {
            if (i != -ENOENT)
                rc = i;         /* cancelled */
            break;              /* -ENOENT: every mirror has answered, none usefully */
        }
        if (reply_useful(&r[i])) {
            winner = i;
            break;
        }
    }
    /* The losers: cancelled, and ended before we return. */
    dq_close(&q);
    dq_free(&q);
    if (rc < 0)
        return rc;
    return winner >= 0 ? winner : no_answer(r, n);
}
