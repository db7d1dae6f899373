/* Lesson 08, part one (solution): a bounded queue from park and unpark. Every hand-over is
 * done by the call that makes it possible: a put with a getter waiting gives its item straight
 * to the oldest getter, and a get that frees a slot takes the oldest putter's item in. A woken
 * waiter has been served already, so nobody can overtake it, and a timeout or cancellation in
 * the same pass cannot lose what it was given: a served waiter returns 0. */
#include "queue.h"

#include <errno.h>
#include <stddef.h>

/* Park on list l until served (0), closed (-EPIPE), the deadline or a cancel. */
static int wait_served(struct queue *q, struct queue_waiters *l, struct queue_waiter *self,
                       int64_t deadline)
{
    queue_waiter_append(l, self);
    for (;;) {
        int rc = aio_park(deadline);
        if (self->served)
            return 0;
        if (rc < 0 || q->closed) {
            queue_waiter_remove(l, self);
            return rc < 0 ? rc : -EPIPE;
        }
        /* A stray aio_unpark(): still on the list, wait on. */
    }
}

int queue_put(struct queue *q, void *item, int64_t deadline)
{
    if (q->closed)
        return -EPIPE;
    struct queue_waiter *g = queue_waiter_pop(&q->getters);
    if (g != NULL) {
        /* Getters wait only on an empty queue: the oldest one gets the item itself. */
        g->item = item;
        g->served = 1;
        aio_unpark(g->task);
        return 0;
    }
    if (q->len < q->cap) {
        /* Room: nobody waits to put either, since a get that frees a slot fills it. */
        queue_push_item(q, item);
        return 0;
    }
    struct queue_waiter self = { .task = aio_current(), .item = item };
    return wait_served(q, &q->putters, &self, deadline);
}

int queue_get(struct queue *q, void **out, int64_t deadline)
{
    if (q->len > 0) {
        *out = queue_pop_item(q);
        /* A slot came free: the oldest waiting put's item goes in, behind the others. */
        struct queue_waiter *p = queue_waiter_pop(&q->putters);
        if (p != NULL) {
            queue_push_item(q, p->item);
            p->served = 1;
            aio_unpark(p->task);
        }
        return 0;
    }
    if (q->closed)
        return -EPIPE;
    struct queue_waiter self = { .task = aio_current() };
    int rc = wait_served(q, &q->getters, &self, deadline);
    if (rc == 0)
        *out = self.item;
    return rc;
}

int queue_close(struct queue *q)
{
    struct queue_waiter *w;

    if (q->closed)
        return -EALREADY;
    q->closed = 1;
    while ((w = queue_waiter_pop(&q->getters)) != NULL)
        aio_unpark(w->task);
    while ((w = queue_waiter_pop(&q->putters)) != NULL)
        aio_unpark(w->task);
    return 0;
}
