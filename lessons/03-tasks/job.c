/* Lesson 03, part two: join, built from park and unpark. Your file: fill in the TODOs. */
#include "job.h"

#include <errno.h>

int job_join(struct job *j, int64_t deadline, int *result)
{
    /* TODO 2: wait until j->done, asleep, then hand over the result.
     * - If the job is done already, there is nothing to wait for.
     * - Otherwise put a struct job_waiter (a local variable, its task is aio_current()) on
     *   the list with job_waiter_push(), and sleep in aio_park(deadline).
     * - aio_park() returning 0 means somebody woke you, not that the job is done: anyone
     *   may call aio_unpark(). Check done again, and park again if it is not.
     * - aio_park() returning an error (-ETIMEDOUT, -ECANCELED): take your waiter off the
     *   list (job_waiter_remove) before you return that error. Your waiter lives in this
     *   stack frame; job_finish() must never see it after you have returned.
     * - Only when done is 1: *result = j->result; return 0.
     * Spinning on aio_yield() also "works", and keeps a core busy for nothing. */
    (void)j;
    (void)deadline;
    (void)result;
    return -ENOSYS;
}

int job_finish(struct job *j, int result)
{
    /* TODO 3: the other side: `future.set_result(result)`.
     * - A job finishes once: if j->done is set already, return -EALREADY.
     * - Store the result, then set done, then wake every waiter with aio_unpark() and empty
     *   the list (the waiters do not remove themselves when they wake normally).
     * - Read w->next before you wake w. aio_unpark() only marks w's task ready, so w is
     *   still there afterwards, but the habit is worth having: a woken waiter's frame is
     *   gone as soon as its task runs again. */
    (void)j;
    (void)result;
    return -ENOSYS;
}
