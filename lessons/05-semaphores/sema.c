/* Lesson 05, part two: a semaphore from park and unpark. Your file: fill in the TODOs. */
#include "sema.h"

#include <errno.h>

int sema_acquire(struct sema *s, int64_t deadline)
{
    /* TODO 2: `await sem.acquire()`. The contract (sema.h):
     * - A free permit with nobody waiting: take it, no waiting.
     * - Otherwise wait, asleep in aio_park(), on s's FIFO queue (sema_base.c keeps it; the
     *   node lives in this stack frame). Permits go out in queue order; a task that arrives
     *   while others wait must not take one ahead of them.
     * - aio_park() returning 0 says someone unparked you, not that you have a permit: anyone
     *   may call aio_unpark().
     * - At the deadline -ETIMEDOUT, when cancelled -ECANCELED: then you hold no permit, your
     *   node is off the queue, and no permit is lost, even if a release chose you in the same
     *   loop pass as the timeout or cancellation that woke you.
     * - No polling, no spinning. */
    (void)s;
    (void)deadline;
    return -ENOSYS;
}

int sema_release(struct sema *s)
{
    /* TODO 3: `sem.release()`. The contract (sema.h): one permit back. If tasks wait, exactly
     * one of them, the oldest, gets it and is woken (not all of them); else the free count
     * grows. Never waits. Returns 0. */
    (void)s;
    return -ENOSYS;
}
