/* Lesson 05, part two (solution): a semaphore from park and unpark. A release hands its permit
 * straight to the oldest waiter, so the permit never sits in the free count where a newcomer
 * could take it, and a woken waiter owns it already. */
#include "sema.h"

#include <errno.h>
#include <stddef.h>

int sema_acquire(struct sema *s, int64_t deadline)
{
    struct sema_waiter self = { .task = aio_current(), .granted = 0, .next = NULL };

    /* Free and nobody ahead: no waiting. */
    if (s->permits > 0 && s->head == NULL) {
        s->permits--;
        return 0;
    }
    sema_waiter_append(s, &self);
    for (;;) {
        int rc = aio_park(deadline);
        if (self.granted) {
            /* sema_release() took us off the queue and gave us its permit. */
            if (rc == 0)
                return 0;
            /* ... in the same pass as the timeout or cancellation that woke us: we return
             * the error, so the permit goes on to the next waiter, not into thin air. */
            sema_release(s);
            return rc;
        }
        if (rc < 0) {
            /* self dies with this frame: off the queue. */
            sema_waiter_remove(s, &self);
            return rc;
        }
        /* A stray aio_unpark(): still queued, wait on. */
    }
}

int sema_release(struct sema *s)
{
    struct sema_waiter *w = sema_waiter_pop(s);

    if (w == NULL) {
        s->permits++;
        return 0;
    }
    w->granted = 1;
    aio_unpark(w->task);
    return 0;
}
