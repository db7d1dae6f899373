/* Lesson 05, given: the parts of the semaphore that are not acquire and release: set-up and the
 * FIFO queue of waiters. */
#include "sema.h"

void sema_init(struct sema *s, int permits)
{
    s->permits = permits;
    s->head = NULL;
    s->tail = NULL;
}

void sema_waiter_append(struct sema *s, struct sema_waiter *w)
{
    w->next = NULL;
    if (s->tail != NULL)
        s->tail->next = w;
    else
        s->head = w;
    s->tail = w;
}

struct sema_waiter *sema_waiter_pop(struct sema *s)
{
    struct sema_waiter *w = s->head;

    if (w != NULL) {
        s->head = w->next;
        if (s->head == NULL)
            s->tail = NULL;
        w->next = NULL;
    }
    return w;
}

void sema_waiter_remove(struct sema *s, struct sema_waiter *w)
{
    struct sema_waiter *prev = NULL;

    for (struct sema_waiter *it = s->head; it != NULL; prev = it, it = it->next) {
        if (it != w)
            continue;
        if (prev != NULL)
            prev->next = w->next;
        else
            s->head = w->next;
        if (s->tail == w)
            s->tail = prev;
        w->next = NULL;
        return;
    }
}

size_t sema_waiting(const struct sema *s)
{
    size_t n = 0;

    for (const struct sema_waiter *w = s->head; w != NULL; w = w->next)
        n++;
    return n;
}
