/* Lesson 04, part two: as_completed from park and unpark. Your file: fill in the TODOs. */
#include "done_queue.h"

#include <errno.h>

int dq_body(void *entry)
{
    /* TODO 3: the body every task of the queue runs (done_queue.h): the entry's own fn(arg),
     * then record that it finished, in finishing order (dq_done_push), and wake whoever waits
     * in dq_next() for it. Return fn's result. Never waits. */
    struct dq_entry *e = entry;
    (void)e;
    return -ENOSYS;
}

int dq_next(struct done_queue *q, int *result, int64_t deadline)
{
    /* TODO 4: `for t in asyncio.as_completed(...)`, one step. The contract (done_queue.h):
     * - The next task to have finished (finishing order, not spawn order), joined, its
     *   result in *result, its index returned. One finished already: no waiting.
     * - Nothing finished yet: wait asleep in aio_park() until dq_body() wakes you.
     *   aio_park() returning 0 says someone unparked you, not that a task finished.
     * - -ENOENT when every task spawned was handed out; -ETIMEDOUT, -ECANCELED from the wait
     *   (nothing handed out then). Never poll. */
    (void)q;
    (void)result;
    (void)deadline;
    return -ENOSYS;
}

int dq_close(struct done_queue *q)
{
    /* TODO 5: the end of the queue, like leaving a TaskGroup: cancel every task not handed
     * out yet, and return only when every one of them has ended and is joined. Return how
     * many were still running. Must work when the caller itself is cancelled (aio.h: joining
     * a task you cancelled is allowed then). Afterwards dq_next() returns -ENOENT. */
    (void)q;
    return -ENOSYS;
}
