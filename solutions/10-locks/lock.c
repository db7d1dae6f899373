/* Lesson 10, part one (solution): a lock from park and unpark. A release hands the lock
 * straight to the oldest waiter (it is the holder before it even runs), so a task that asks in
 * between finds the lock taken, the releaser included. */
#include "lock.h"

#include <errno.h>
#include <stddef.h>

int lock_acquire(struct lock *l, int64_t deadline)
{
    aio_task *me = aio_current();
    struct lock_waiter self = { .task = me, .handed = 0, .next = NULL };

    if (me == NULL)
        return -EPERM;
    if (l->holder == me)
        return -EDEADLK;
    /* Free and nobody ahead: no waiting. */
    if (l->holder == NULL && l->head == NULL) {
        l->holder = me;
        return 0;
    }
    lock_waiter_append(l, &self);
    for (;;) {
        int rc = aio_park(deadline);
        if (self.handed) {
            /* lock_release() took us off the queue and made us the holder. */
            if (rc == 0)
                return 0;
            /* ... in the same pass as the timeout or cancellation that woke us: pass it on. */
            lock_release(l);
            return rc;
        }
        if (rc < 0) {
            /* self dies with this frame: off the queue. */
            lock_waiter_remove(l, &self);
            return rc;
        }
        /* A stray aio_unpark(): still queued, wait on. */
    }
}

int lock_release(struct lock *l)
{
    if (l->holder == NULL || l->holder != aio_current())
        return -EPERM;
    struct lock_waiter *w = lock_waiter_pop(l);
    if (w == NULL) {
        l->holder = NULL;
        return 0;
    }
    l->holder = w->task;
    w->handed = 1;
    aio_unpark(w->task);
    return 0;
}
