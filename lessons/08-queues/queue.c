/* Lesson 08, part one: a bounded queue from park and unpark. Your file: fill in the TODOs. */
#include "queue.h"

#include <errno.h>

int queue_put(struct queue *q, void *item, int64_t deadline)
{
    /* TODO 1: `await queue.put(item)`. The contract (queue.h):
     * - Room and nobody waiting ahead: the item goes in at once, no waiting.
     * - Otherwise wait, asleep in aio_park(), on q->putters (queue_base.c keeps the list; the
     *   node lives in this stack frame). Waiting puts go in in the order they began to wait;
     *   a newcomer never goes ahead of them.
     * - A closed queue refuses (-EPIPE), on entry or while you wait; -ETIMEDOUT at the
     *   deadline, -ECANCELED when cancelled. On an error the item is still the caller's.
     * - aio_park() returning 0 says someone unparked you, not why: anyone may call
     *   aio_unpark(). And a timeout or cancel can arrive in the same pass as being served:
     *   the item must then be neither lost nor in the queue twice.
     * - No polling, no spinning. */
    (void)q;
    (void)item;
    (void)deadline;
    return -ENOSYS;
}

int queue_get(struct queue *q, void **out, int64_t deadline)
{
    /* TODO 2: `item = await queue.get()`. The contract (queue.h):
     * - An item there and nobody waiting ahead: take the head at once, no waiting; and a slot
     *   that comes free may be what a waiting put is waiting for.
     * - Otherwise wait on q->getters, in order: the oldest waiting get is served first, and
     *   a newcomer never takes an item ahead of a waiting get.
     * - Closed AND empty: -EPIPE (a closed queue still hands out what it holds). -ETIMEDOUT,
     *   -ECANCELED as for put; on an error *out is untouched.
     * - A get served in the same pass as its timeout or cancel loses nothing: the item is
     *   either returned or passed on to whoever waits next. */
    (void)q;
    (void)out;
    (void)deadline;
    return -ENOSYS;
}

int queue_close(struct queue *q)
{
    /* TODO 3: Python 3.13's `queue.shutdown()`. The contract (queue.h): no more puts; every
     * task waiting in put or get wakes and fails with -EPIPE (a waiting get means the queue
     * is empty). -EALREADY for a second close, changing nothing. Never waits. */
    (void)q;
    return -ENOSYS;
}
