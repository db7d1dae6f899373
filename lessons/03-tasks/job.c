/* Lesson 03, part two: join, built from park and unpark. Your file: fill in the TODOs. */
#include "job.h"

#include <errno.h>

int job_join(struct job *j, int64_t deadline, int *result)
{
    /* TODO 2: `await future`. The contract (job.h): return 0 with the job's result in
     * *result once j is done, whenever that is (already, soon, or never within the
     * deadline); any number of tasks may join the same job.
     * - Sleep while you wait, with aio_park(): job_finish() wakes exactly the tasks it finds
     *   on j->waiters (job_base.c keeps that list), and nothing else will.
     * - aio_park() returning 0 says someone unparked you, not why: anyone may.
     * - The deadline is absolute, AIO_NEVER or any int64_t; at it return -ETIMEDOUT, and
     *   -ECANCELED if your task is cancelled. On an error *result is left alone, and j's
     *   list must not keep anything that lives in this stack frame.
     * - No polling: a join that looks at done on a timer or with aio_yield() fails. */
    (void)j;
    (void)deadline;
    (void)result;
    return -ENOSYS;
}

int job_finish(struct job *j, int result)
{
    /* TODO 3: `future.set_result(result)`. The contract (job.h): the first call stores the
     * result, marks j done and wakes every task waiting in job_join(), then returns 0; any
     * later call returns -EALREADY and changes nothing. It never waits. When it returns, j's
     * list holds nothing: the waiters' nodes live in their stack frames, gone once they run. */
    (void)j;
    (void)result;
    return -ENOSYS;
}
