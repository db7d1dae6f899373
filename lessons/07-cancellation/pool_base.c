/* Lesson 07, given: the pool, a job's preparation and clean-up, and the program's two other
 * modes (no hedge; a hedge that never cancels), built on your job_run. */
#include "pool.h"

#include <errno.h>
#include <string.h>

int pool_init(struct pool *p, int max)
{
    memset(p, 0, sizeof *p);
    if (max < 1)
        return -EINVAL;
    return aio_sem_init(&p->permits, max);
}

void job_prepare(struct job *j, struct pool *p)
{
    j->pool = p;
    j->conn = NULL;
    memset(&j->resp, 0, sizeof j->resp);
    j->rc = 0;
    j->outcome = JOB_PENDING;
}

void jobs_free(struct job *j, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        aio_response_free(&j[i].resp);
        memset(&j[i].resp, 0, sizeof j[i].resp);
    }
}

int job_good(const struct job *j)
{
    return j->outcome == JOB_ANSWERED && j->resp.status >= 200 && j->resp.status <= 299;
}

/* Wait for t to its end; past the deadline, cancel it and wait for its end all the same. */
static void end_task(aio_task *t, int64_t deadline)
{
    if (aio_join(t, deadline) < 0) {
        aio_cancel(t);
        aio_join(t, AIO_NEVER);
    }
}

int hedged_none(struct job *jobs, size_t n, int64_t deadline)
{
    if (n == 0)
        return -EINVAL;
    aio_task *t = aio_spawn(job_run, &jobs[0]);
    if (t == NULL)
        return -ENOMEM;
    end_task(t, deadline);
    return job_good(&jobs[0]) ? 0 : jobs[0].outcome == JOB_CANCELLED ? -ETIMEDOUT : -EIO;
}

int hedged_wait_all(struct job *jobs, size_t n, int64_t hedge_ms, int64_t deadline)
{
    if (n == 0 || n > POOL_JOBS_MAX || hedge_ms < 0)
        return -EINVAL;
    aio_task *tasks[POOL_JOBS_MAX] = { NULL };
    size_t started = 0;
    int64_t next = aio_now();
    int winner = -1;

    /* Start a job every hedge_ms until one gives a good answer (or all are started)... */
    while (started < n && winner < 0) {
        tasks[started] = aio_spawn(job_run, &jobs[started]);
        if (tasks[started] == NULL)
            break;
        started++;
        next += hedge_ms;
        while (winner < 0 && started < n) {
            int i = aio_join_any(tasks, started, next < deadline ? next : deadline);
            if (i < 0)
                break;
            end_task(tasks[i], AIO_NEVER);
            tasks[i] = NULL;
            if (job_good(&jobs[i]))
                winner = i;
        }
        if (aio_now() >= deadline)
            break;
    }
    /* ...then wait for every job started, to its own end: nothing is cancelled before the
     * deadline, so the slowest mirror started sets the time. */
    for (size_t i = 0; i < started; i++) {
        if (tasks[i] != NULL)
            end_task(tasks[i], deadline);
        if (winner < 0 && job_good(&jobs[i]))
            winner = (int)i;
    }
    return winner >= 0 ? winner : aio_now() >= deadline ? -ETIMEDOUT : -EIO;
}
