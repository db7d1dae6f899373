/* Lesson 07, part two: a hedged request that cancels the mirrors it no longer needs. Reference. */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>

/* Has the deadline come? (AIO_NEVER never does.) */
static int past(int64_t deadline)
{
    return deadline != AIO_NEVER && aio_now() >= deadline;
}

int hedged_get(struct job *jobs, size_t n, int64_t hedge_ms, int64_t deadline)
{
    if (n == 0 || n > POOL_JOBS_MAX || hedge_ms < 0)
        return -EINVAL;
    aio_task *tasks[POOL_JOBS_MAX] = { NULL };
    size_t started = 0, live = 0;
    int64_t next = aio_now();
    int result = -EIO;

    for (;;) {
        /* The next mirror: at its hedge time, or at once when every one asked has ended. */
        if (started < n && (live == 0 || aio_now() >= next) && !past(deadline)) {
            tasks[started] = aio_spawn(job_run, &jobs[started]);
            if (tasks[started] == NULL) {
                result = -ENOMEM;
                break;
            }
            started++;
            live++;
            next = aio_now() + hedge_ms;
            continue;
        }
        if (live == 0) {
            result = started < n ? -ETIMEDOUT : -EIO;
            break;
        }
        /* Wait for a job to end, until the next start is due or the deadline. */
        int hedging = started < n && (deadline == AIO_NEVER || next < deadline);
        int i = aio_join_any(tasks, started, hedging ? next : deadline);
        if (i >= 0) {
            aio_join(tasks[i], AIO_NEVER);
            tasks[i] = NULL;
            live--;
            if (job_good(&jobs[i])) {
                result = i;
                break;
            }
        } else if (i != -ETIMEDOUT || !hedging || past(deadline)) {
            result = i;
            break;
        }
    }
    /* The losers: cancel every one still running, then wait for each to end. */
    for (size_t i = 0; i < started; i++)
        if (tasks[i] != NULL)
            aio_cancel(tasks[i]);
    for (size_t i = 0; i < started; i++)
        if (tasks[i] != NULL)
            aio_join(tasks[i], AIO_NEVER);
    return result;
}
