/* Lesson 04, part two (solution): as_completed from park and unpark. A task that finishes
 * puts its entry on the finished list and unparks the waiter; the waiter takes from the list,
 * so a wake-up carries no data and a stray one is harmless. */
#include "done_queue.h"

#include <errno.h>

int dq_body(void *entry)
{
    struct dq_entry *e = entry;
    struct done_queue *q = e->q;

    e->result = e->fn(e->arg);
    e->finished = 1;
    dq_done_push(q, e);
    if (q->waiter != NULL)
        aio_unpark(q->waiter);
    return e->result;
}

int dq_next(struct done_queue *q, int *result, int64_t deadline)
{
    for (;;) {
        struct dq_entry *e = dq_done_pop(q);
        if (e != NULL) {
            /* Finished already: this join does not wait. */
            int r = aio_join(e->task, AIO_NEVER);
            e->task = NULL;
            q->taken++;
            *result = r;
            return (int)(e - q->entries);
        }
        if (q->taken == q->n)
            return -ENOENT;
        q->waiter = aio_current();
        int rc = aio_park(deadline);
        q->waiter = NULL;
        /* A wake-up is a hint: look at the list again. An error with nothing finished ends. */
        if (rc < 0 && q->done_head == NULL)
            return rc;
    }
}

int dq_close(struct done_queue *q)
{
    int running = 0;

    for (size_t i = 0; i < q->n; i++) {
        struct dq_entry *e = &q->entries[i];
        if (e->task != NULL && !e->finished) {
            aio_cancel(e->task);
            running++;
        }
    }
    /* Each joined, finished or cancelled: a cancelled caller may join what it cancelled. */
    for (size_t i = 0; i < q->n; i++) {
        struct dq_entry *e = &q->entries[i];
        if (e->task != NULL) {
            aio_join(e->task, AIO_NEVER);
            e->task = NULL;
        }
    }
    q->done_head = q->done_tail = NULL;
    q->taken = q->n;
    return running;
}
