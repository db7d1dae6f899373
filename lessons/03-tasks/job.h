/* Lesson 03, part two: a job is a task you can join, built from aio_spawn(), aio_park() and
 * aio_unpark(). Without its task it is a Future: a box for a result that arrives later. */
#ifndef JOB_H
#define JOB_H

#include "aio.h"

#include <stdint.h>

/* One task waiting in job_join(). It lives in job_join()'s stack frame, so it must be off the
 * list before job_join() returns, whatever the reason it returns. */
struct job_waiter {
    aio_task *task;          /* the parked joiner, to hand to aio_unpark() */
    struct job_waiter *next; /* the next waiter, or NULL */
};

/* The caller owns the struct; job_init()/job_start() set it up, job_close() tears it down. */
struct job {
    aio_fn fn;                  /* the body, run by the job's task (NULL for a bare job) */
    void *arg;                  /* fn's argument, borrowed */
    aio_task *task;             /* the task running fn, reaped by job_close() (NULL if bare) */
    int done;                   /* 0 until job_finish() runs, then 1 for good */
    int result;                 /* the job's result; meaningful only once done is 1 */
    struct job_waiter *waiters; /* tasks parked in job_join(), newest first */
};

/* ---- given (job_base.c) ---------------------------------------------------------------- */

/* Set up j as a bare job: not done, no task, no waiters. Someone must call job_finish(). */
void job_init(struct job *j);

/* Set up j and spawn a task that runs fn(arg), then calls job_finish(j, its return value).
 * j and arg must stay valid until job_close(). Returns 0, or -ENOMEM (j is then unused). */
int job_start(struct job *j, aio_fn fn, void *arg);

/* Reap j's task (waiting for it if it has not returned yet). Call it once per job, from
 * inside a task, after the last job_join(). Returns 0, or aio_join()'s error. */
int job_close(struct job *j);

/* Has j finished? Never waits. */
int job_done(const struct job *j);

/* Put w at the head of j's waiter list. */
void job_waiter_push(struct job *j, struct job_waiter *w);

/* Take w off j's waiter list if it is there; does nothing otherwise. */
void job_waiter_remove(struct job *j, struct job_waiter *w);

/* ---- yours (job.c) --------------------------------------------------------------------- */

/* `await job`: wait until j is done, then store its result in *result and return 0 (a
 * body's error is its result: the join still returns 0). Any number of tasks may join the
 * same job; each gets the result. deadline is absolute (aio_now() + ms, any int64_t) or
 * AIO_NEVER for none. Returns -ETIMEDOUT at the deadline, -ECANCELED if the calling task is
 * cancelled; on those *result is left untouched and the caller is no longer on j's waiter
 * list (the other waiters are). Never spins or polls: the caller sleeps until job_finish()
 * wakes it. Call from inside a task. */
int job_join(struct job *j, int64_t deadline, int *result);

/* `future.set_result(result)`: store the result, mark j done, and wake every task parked in
 * job_join(); j's waiter list is empty when it returns. A job finishes once: a second call
 * returns -EALREADY and changes nothing. Returns 0. Never waits, so it can be called from any
 * task. */
int job_finish(struct job *j, int result);

#endif
