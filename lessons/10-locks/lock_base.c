/* Lesson 10, given: the parts of the lock that are not acquire and release: set-up and the FIFO
 * queue of waiters. */
#include "lock.h"

void lock_init(struct lock *l)
{
    l->holder = NULL;
    l->head = NULL;
    l->tail = NULL;
}

void lock_waiter_append(struct lock *l, struct lock_waiter *w)
{
    w->next = NULL;
    if (l->tail != NULL)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
}

struct lock_waiter *lock_waiter_pop(struct lock *l)
{
    struct lock_waiter *w = l->head;

    if (w != NULL) {
        l->head = w->next;
        if (l->head == NULL)
            l->tail = NULL;
        w->next = NULL;
    }
    return w;
}

void lock_waiter_remove(struct lock *l, struct lock_waiter *w)
{
    struct lock_waiter *prev = NULL;

    for (struct lock_waiter *it = l->head; it != NULL; prev = it, it = it->next) {
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

size_t lock_waiting(const struct lock *l)
{
    size_t n = 0;

    for (const struct lock_waiter *w = l->head; w != NULL; w = w->next)
        n++;
    return n;
}

aio_task *lock_holder(const struct lock *l)
{
    return l->holder;
}
