/* Lesson 07: cancellation from both sides. A job that, cancelled at any wait, gives back
 * everything it holds and says it was cancelled (part one), and a hedged request that cancels
 * the mirrors it no longer needs and waits until they have cleaned up (part two). */
#ifndef POOL_H
#define POOL_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* The most jobs one hedged request may hold: the program's --n limit, the tests' largest. */
#define POOL_JOBS_MAX 64

/* What the jobs share: a cap on connections open at once, and the books. The caller owns it
 * (pool_init, pool_fini); every job of it runs on one loop. */
struct pool {
    aio_sem permits;     /* a job holds one while its connection is open */
    int in_flight;       /* jobs holding a permit now */
    long answered;       /* jobs that ended with an answer (any HTTP status) */
    long failed;         /* jobs that ended with an error other than a cancellation */
    long cancelled;      /* jobs that ended because they were cancelled */
};

enum job_outcome {
    JOB_PENDING = 0,     /* never ran, or still running */
    JOB_ANSWERED,        /* rc 0, resp holds the answer */
    JOB_FAILED,          /* rc < 0 (not -ECANCELED), no response */
    JOB_CANCELLED,       /* rc -ECANCELED, no response */
};

/* One job: a GET of url on a connection of its own. The caller owns the array of these and
 * keeps it alive until the function that runs them has returned. */
struct job {
    struct pool *pool;        /* in: set by job_prepare() */
    const char *url;          /* in: borrowed, valid for the whole call */
    aio_http *conn;           /* the job's own client while it holds a permit, else NULL */
    struct aio_response resp; /* out: the answer (status 0, no body, when none came) */
    int rc;                   /* out: 0 answered, or a negative errno (-ECANCELED: cancelled) */
    enum job_outcome outcome; /* out */
};

/* ---- given (pool_base.c) ------------------------------------------------------------------ */

/* A pool of `max` permits (1 or more), nothing in flight, the books at 0: 0, or -EINVAL. */
int pool_init(struct pool *p, int max);

/* Make j ready for pool p: no connection, no response, rc 0, JOB_PENDING. j->url is kept. */
void job_prepare(struct job *j, struct pool *p);

/* Release the responses of j[0..n) and clear them. */
void jobs_free(struct job *j, size_t n);

/* Is j a good answer? (JOB_ANSWERED with an HTTP status of 200 to 299) */
int job_good(const struct job *j);

/* The program's other modes, on your job_run: only the first mirror, no hedge ("none"); and
 * hedged like hedged_get but never cancelling: every job started is waited for to its own end
 * and the first good answer is kept ("wait-all"). They return as hedged_get. */
int hedged_none(struct job *jobs, size_t n, int64_t deadline);
int hedged_wait_all(struct job *jobs, size_t n, int64_t hedge_ms, int64_t deadline);

/* ---- yours (job.c) ------------------------------------------------------------------------- */

/* A task body (arg is a struct job *, made ready with job_prepare) for one GET of j->url with
 * no deadline of its own: it ends when the answer is in, when the transfer fails, or when its
 * task is cancelled, at whichever wait that finds it.
 * - It takes a permit of j->pool->permits first (waiting in the queue for one), and only then
 *   opens its connection (j->conn = aio_http_new()) and counts itself in j->pool->in_flight.
 * - On EVERY way out, what it took is given back, each thing exactly once: the connection
 *   freed and j->conn NULL, in_flight counted down, the permit released. What it never took
 *   (cancelled while queued for the permit) it does not give back.
 * - It reports how it ended, in j->outcome, j->rc, its return value and exactly one of the
 *   pool's books: an answer (any HTTP status) is JOB_ANSWERED, rc 0, resp kept, `answered`;
 *   a cancellation at any of its waits is JOB_CANCELLED, rc -ECANCELED, no response,
 *   `cancelled`, and the task returns -ECANCELED (a cancellation is not a failure, and it is
 *   not swallowed either); anything else (-ECONNREFUSED, -ENOMEM, ...) is JOB_FAILED with
 *   that rc, `failed`.
 * - Being cancelled twice, or once more after it has ended, changes nothing. */
int job_run(void *arg);

/* ---- yours (hedge.c) ----------------------------------------------------------------------- */

/* A hedged request over n mirrors of one answer, jobs[0..n) made ready by the caller
 * (job_prepare, one pool): job 0 starts at once; each next job starts when hedge_ms have passed
 * since the last start without a good answer (job_good), or at once when every job started
 * so far has ended without one. The first good answer wins:
 * - every other job still running is cancelled, and has ENDED (its clean-up over, its task
 *   joined) before this returns; jobs never started are never started (JOB_PENDING, nothing
 *   sent); a job that ended without a good answer keeps what it got;
 * - returns the winner's index, its answer in jobs[winner].resp.
 * Without a winner: -EIO once all n have ended without a good answer; -ETIMEDOUT at the
 * deadline (absolute); -ECANCELED when the calling task is cancelled; -ENOMEM when a task
 * cannot be had; each after cancelling and ending every job still running, the same way.
 * -EINVAL when n is 0 or more than POOL_JOBS_MAX, or hedge_ms < 0 (nothing started).
 * Every task it spawns is joined before it returns; it never polls and never blocks the
 * thread. Call from inside a task. */
int hedged_get(struct job *jobs, size_t n, int64_t hedge_ms, int64_t deadline);

#endif
