/* Lesson 04, part one: gather and first-completed on the runtime's task group and
 * aio_join_any(). Your file: fill in the TODOs. */
#include "gather.h"

#include <errno.h>
#include <stdlib.h>

int gather(aio_http *c, struct reply *r, size_t n, enum gather_policy policy, int64_t deadline)
{
    /* TODO 1: asyncio's
     *     async with asyncio.TaskGroup() as tg:                 # GATHER_FIRST_ERROR
     *         for x in replies: tg.create_task(fetch(x))
     *     await asyncio.gather(*fetches, return_exceptions=True)  # GATHER_RETURN_ERRORS
     * The contract (gather.h):
     * - All n requests at once, each r[i] made ready with reply_prepare() and sent once.
     * - r[i] answers r[i].url: submission order, whatever order the answers come in.
     * - GATHER_FIRST_ERROR: the first failure (rc < 0, first in time) cancels every request
     *   still in flight, and is returned. GATHER_RETURN_ERRORS: one failure cancels nothing;
     *   every reply keeps its own result or error; return 0.
     * - Nothing still running when you return: every task ended and joined.
     * aio.h has it: aio_group (its section at the end); reply_fetch() is a task body. */
    (void)c;
    (void)r;
    (void)n;
    (void)policy;
    (void)deadline;
    return -ENOSYS;
}

int first_completed(aio_http *c, struct reply *r, size_t n, int64_t deadline)
{
    /* TODO 2: asyncio's
     *     done, pending = await asyncio.wait(tasks, return_when=FIRST_COMPLETED)
     *     for t in pending: t.cancel()
     * looped until an answer is useful. The contract (gather.h):
     * - Ask every mirror at once; return the index of the first useful answer (reply_useful)
     *   as soon as it is in. A failed mirror is not the answer: wait on for the others.
     * - Then cancel every request still in flight, and return only once each has ended (a
     *   loser left running keeps its transfer, and the server's worker, busy for nothing).
     * - No useful answer: -ETIMEDOUT when the deadline passed, else -EIO. n == 0: -EINVAL.
     * aio.h has aio_join_any() for "the first of these tasks to finish". */
    (void)c;
    (void)r;
    (void)n;
    (void)deadline;
    return -ENOSYS;
}
