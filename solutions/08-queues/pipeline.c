/* Lesson 08, part two (solution): producers and consumers on one bounded queue, each side in
 * a task group of its own. Closing the queue once the producers have ended is the shutdown:
 * the consumers take what is left and then see -EPIPE. */
#include "pipeline.h"

#include <errno.h>
#include <stddef.h>

static int producer(void *arg)
{
    struct pipeline *p = arg;

    while (p->next < p->n) {
        struct item *it = item_new(p, p->next++);
        if (it == NULL)
            return -ENOMEM;
        it->rc = aio_http_get(p->http, p->urls[it->index], &it->resp, AIO_NEVER);
        /* A failed fetch is an item like any other; a cancelled one ends the producer. */
        int rc = it->rc == -ECANCELED ? -ECANCELED : queue_put(p->q, it, AIO_NEVER);
        if (rc < 0) {
            item_free(p, it);
            return rc;
        }
    }
    return 0;
}

static int consumer(void *arg)
{
    struct pipeline *p = arg;
    void *v;

    for (;;) {
        int rc = queue_get(p->q, &v, AIO_NEVER);
        if (rc == -EPIPE)
            return 0;
        if (rc < 0)
            return rc;
        rc = p->process(p, v);
        item_free(p, v);
        if (rc < 0)
            return rc;
    }
}

int pipeline_run(struct pipeline *p)
{
    struct queue q;
    aio_group *prods = NULL, *cons = NULL;
    int rc;

    if (p->n > PIPE_N_MAX || (p->urls == NULL && p->n > 0) || p->http == NULL ||
        p->process == NULL || p->producers < 1 || p->producers > PIPE_TASKS_MAX ||
        p->consumers < 1 || p->consumers > PIPE_TASKS_MAX || p->qsize < 1 ||
        p->qsize > QUEUE_CAP_MAX)
        return -EINVAL;
    rc = queue_init(&q, p->qsize);
    if (rc < 0)
        return rc;
    p->q = &q;
    p->next = 0;
    prods = aio_group_new();
    cons = aio_group_new();
    if (prods == NULL || cons == NULL)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < p->consumers; i++)
        if (aio_group_spawn(cons, consumer, p) == NULL)
            rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < p->producers; i++)
        if (aio_group_spawn(prods, producer, p) == NULL)
            rc = -ENOMEM;
    if (prods != NULL) {
        if (rc < 0)
            aio_group_cancel(prods);
        int r = aio_group_wait(prods, AIO_NEVER);
        rc = rc < 0 ? rc : r;
    }
    /* No more puts: the consumers drain the queue and end (or stop now, on an error). */
    queue_close(&q);
    if (cons != NULL) {
        if (rc < 0)
            aio_group_cancel(cons);
        int r = aio_group_wait(cons, AIO_NEVER);
        rc = rc < 0 ? rc : r;
    }
    while (q.len > 0)
        item_free(p, queue_pop_item(&q));
    if (prods != NULL)
        aio_group_free(prods);
    if (cons != NULL)
        aio_group_free(cons);
    queue_free(&q);
    return rc;
}
