/* Lesson 08, given: the parts of the queue that are not put, get and close: the ring of slots
 * and the FIFO lists of waiters. */
#include "queue.h"

#include <errno.h>
#include <stdlib.h>

int queue_init(struct queue *q, size_t cap)
{
    *q = (struct queue){ 0 };
    if (cap < 1 || cap > QUEUE_CAP_MAX)
        return -EINVAL;
    q->ring = calloc(cap, sizeof *q->ring);
    if (q->ring == NULL)
        return -ENOMEM;
    q->cap = cap;
    return 0;
}

void queue_free(struct queue *q)
{
    free(q->ring);
    *q = (struct queue){ 0 };
}

void queue_push_item(struct queue *q, void *item)
{
    q->ring[(q->head + q->len) % q->cap] = item;
    q->len++;
}

void *queue_pop_item(struct queue *q)
{
    void *item = q->ring[q->head];

    q->ring[q->head] = NULL;
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return item;
}

void queue_waiter_append(struct queue_waiters *l, struct queue_waiter *w)
{
    w->next = NULL;
    if (l->tail != NULL)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
}

struct queue_waiter *queue_waiter_pop(struct queue_waiters *l)
{
    struct queue_waiter *w = l->head;

    if (w != NULL) {
        l->head = w->next;
        if (l->head == NULL)
            l->tail = NULL;
        w->next = NULL;
    }
    return w;
}

void queue_waiter_remove(struct queue_waiters *l, struct queue_waiter *w)
{
    struct queue_waiter *prev = NULL;

    for (struct queue_waiter *it = l->head; it != NULL; prev = it, it = it->next) {
        if (it != w)
            continue;
        if (prev != NULL)
            prev->next = w->next;
        else
            l->head = w->next;
        if (l->tail == w)
            l->tail = prev;
        w->next = NULL;
        return;
    }
}

size_t queue_waiter_count(const struct queue_waiters *l)
{
    size_t n = 0;

    for (const struct queue_waiter *w = l->head; w != NULL; w = w->next)
        n++;
    return n;
}
