/* Lesson 03, part two (solution): join, built from park and unpark. */
#include "job.h"

#include <errno.h>
#include <stddef.h>

int job_join(struct job *j, int64_t deadline, int *result)
{
    struct job_waiter self = { .task = aio_current(), .next = NULL };

    if (!j->done)
        job_waiter_push(j, &self);
    /* A while, not an if: aio_park() returning 0 only says someone unparked us. */
    while (!j->done) {
        int rc = aio_park(deadline);
        if (rc < 0) {
            /* self lives in this frame: it must not stay on the list once we return. */
            job_waiter_remove(j, &self);
            return rc;
        }
    }
    /* job_finish() emptied the list before waking us, so self is on it no longer. */
    *result = j->result;
    return 0;
}

int job_finish(struct job *j, int result)
{
    struct job_waiter *w;

    if (j->done)
        return -EALREADY;
    j->result = result;
    j->done = 1;
    w = j->waiters;
    j->waiters = NULL;
    while (w != NULL) {
        struct job_waiter *next = w->next;
        aio_unpark(w->task);
        w = next;
    }
    return 0;
}
