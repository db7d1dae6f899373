/* Lesson 06, part two: wait-for and shield semantics built from aio_park() and aio_unpark(),
 * the way aio_wait_for (aio.h) is built on the runtime's own join. */
#ifndef WAITFOR_H
#define WAITFOR_H

#include "aio.h"

/* A job: fn(arg) running in a task of its own. The job's task unparks `waiter` when fn has
 * returned, so a waiter parks instead of polling. The caller owns the struct and keeps it
 * alive until the job has been waited for to its end. */
struct wf_job {
    aio_fn fn;           /* what the job runs */
    void *arg;
    aio_task *task;      /* the job's task; NULL once it has been joined */
    aio_task *waiter;    /* the task to unpark when fn returns, or NULL */
    int finished;        /* 1 once fn has returned (the task's very last step follows) */
    int result;          /* fn's return value, once finished */
};

/* ---- given (waitfor_base.c) -------------------------------------------------------------- */

/* Start fn(arg) as a job in a new task: 0, or -ENOMEM (nothing started). */
int wf_spawn(struct wf_job *j, aio_fn fn, void *arg);

/* ---- yours (waitfor.c) ------------------------------------------------------------------- */

/* asyncio.wait_for(asyncio.shield(job), timeout): wait, parked, until the job has finished or
 * the deadline has come (absolute, AIO_NEVER, or already past).
 * - Finished (also when it had finished before the call): join its task, set j->task to NULL,
 *   return the job's result.
 * - The deadline: -ETIMEDOUT; when the caller is cancelled: -ECANCELED. Either way the job is
 *   left untouched, still running, to be waited for again later; and nothing of this wait is
 *   left behind: when the job ends later it must not wake the caller out of another wait.
 * - A stray aio_unpark() of the caller (anyone may call it) does not end the wait early.
 * - No polling, no join with a deadline: park, and let the job's end unpark you. */
int wf_wait(struct wf_job *j, int64_t deadline);

/* asyncio.wait_for(job, timeout): the same wait, but at the deadline, or when the caller is
 * cancelled, the job's task is cancelled and waited for until it has ended (its clean-up
 * done), and joined: -ETIMEDOUT or -ECANCELED. A job finished by then (in the same loop pass
 * too) gives its result. On every path j->task is NULL when it returns: nothing of the job
 * runs on. */
int wf_wait_for(struct wf_job *j, int64_t deadline);

#endif
