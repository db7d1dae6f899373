/* Lesson 06, part two: wait-for and shield from park and unpark. Your file: fill in the TODOs. */
#include "waitfor.h"

#include <errno.h>

int wf_wait(struct wf_job *j, int64_t deadline)
{
    /* TODO 3: asyncio.wait_for(asyncio.shield(job), timeout). The contract (waitfor.h):
     * - Park until the job has finished (the job's task unparks j->waiter when it does) or the
     *   deadline comes. A wake-up is not proof the job finished: anyone may unpark you.
     * - Finished: join its task (it ends without waiting), j->task = NULL, its result.
     * - Deadline or cancellation: the error, the job untouched and still running. Leave
     *   nothing behind that would let the job's end wake you later, out of some other wait.
     * - No polling, no aio_join with a deadline. */
    (void)j;
    (void)deadline;
    return -ENOSYS;
}

int wf_wait_for(struct wf_job *j, int64_t deadline)
{
    /* TODO 4: asyncio.wait_for(job, timeout). The same wait; but at the deadline, or when you
     * are cancelled, cancel the job's task and wait until it has really ended (its clean-up,
     * a transfer's removal, is part of it), then join it. On every path j->task is NULL when
     * you return. aio_cancel, aio_join (see its note on a cancelled caller). */
    (void)j;
    (void)deadline;
    return -ENOSYS;
}
