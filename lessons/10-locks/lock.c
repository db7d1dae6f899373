/* Lesson 10, part one: a lock from park and unpark. Your file: fill in the TODOs. */
#include "lock.h"

#include <errno.h>

int lock_acquire(struct lock *l, int64_t deadline)
{
    /* TODO 1: `await lock.acquire()`. The contract (lock.h):
     * - A free lock with nobody waiting is the caller's at once, no waiting.
     * - Otherwise wait, asleep in aio_park(), on l's FIFO queue (lock_base.c keeps it; the
     *   node lives in this stack frame). The lock goes out in queue order: a task that asks
     *   while others wait, the one that just released it included, never gets it first.
     * - aio_park() returning 0 says someone unparked you, not that you hold the lock: anyone
     *   may call aio_unpark().
     * - -ETIMEDOUT at the deadline, -ECANCELED when cancelled: then you hold nothing, your
     *   node is off the queue, and the lock is not lost, even if a release chose you in the
     *   same loop pass as the timeout or cancellation that woke you.
     * - -EDEADLK when the caller holds l already; -EPERM outside a task (aio_current()).
     * - No polling, no spinning. */
    (void)l;
    (void)deadline;
    return -ENOSYS;
}

int lock_release(struct lock *l)
{
    /* TODO 2: `lock.release()`. The contract (lock.h): only the holder may release (-EPERM
     * otherwise, nothing changed). If tasks wait, the oldest is the holder from now on and is
     * woken (one wake-up, not all of them); else l is free. Never waits. Returns 0. */
    (void)l;
    return -ENOSYS;
}
