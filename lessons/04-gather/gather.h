/* Lesson 04, part one: several requests at once, and three ways to collect them: every answer
 * in the order asked (gather), and the first useful answer with the rest cancelled
 * (first_completed). */
#ifndef GATHER_H
#define GATHER_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* The most requests one batch may hold: the program's --mirrors limit, the tests' largest. */
#define GATHER_MAX 64

/* One request: the URL goes in, the answer and its error code come out. The caller owns the
 * array of these and keeps it alive until the function that uses it has returned. */
struct reply {
    const char *url;          /* in: borrowed, valid for the whole call */
    aio_http *client;         /* in: set by reply_prepare(), shared by the batch */
    int64_t deadline;         /* in: set by reply_prepare(), absolute (aio_now() + ms) */
    struct aio_response resp; /* out: the answer (any HTTP status); see replies_free() */
    int rc;                   /* out: 0, or a negative errno: -ECANCELED when it was cancelled */
    int done;                 /* out: 1 once reply_fetch() has returned for it */
};

/* Given (gather_base.c): make r ready with client c and an absolute deadline, and clear its
 * outputs (rc 0, done 0, no response). r->url is left as it is. */
void reply_prepare(struct reply *r, aio_http *c, int64_t deadline);

/* Given: one request in aio_fn's shape (arg is a struct reply *): a GET of r->url until
 * r->deadline that fills r->resp and r->rc and sets r->done. Returns r->rc. A cancelled task
 * in it returns -ECANCELED and its transfer is removed: the server sees the client go. */
int reply_fetch(void *arg);

/* Given: is r a useful answer? (rc 0 and HTTP status 200) */
int reply_useful(const struct reply *r);

/* Given: release the responses of r[0..n) and clear them. */
void replies_free(struct reply *r, size_t n);

/* ---- yours (gather.c) -------------------------------------------------------------------- */

enum gather_policy {
    /* asyncio.TaskGroup: the first request to fail (rc < 0, first in time) cancels every
     * request still in flight; gather() returns that error. */
    GATHER_FIRST_ERROR,
    /* asyncio.gather(..., return_exceptions=True): every request runs to its own end; each
     * reply keeps its own result or error, and gather() returns 0. */
    GATHER_RETURN_ERRORS,
};

/* asyncio.gather(): all n requests at once (each r[i] made ready with reply_prepare() and the
 * batch's deadline, and sent exactly once), and r[i] holds the answer to r[i].url whatever
 * order they finish in. An HTTP status is an answer, not an error. The error policy:
 * - GATHER_RETURN_ERRORS: every request runs to its end; returns 0.
 * - GATHER_FIRST_ERROR: the first request to fail makes every request still in flight cancelled
 *   (its rc -ECANCELED, its transfer removed); the replies that ended before keep their
 *   answers; returns that first error, or 0 when none failed.
 * Either way no request is still running when it returns (every task spawned has ended and
 * is joined); -ENOMEM when a task or memory cannot be had (no task is started after one could
 * not be had, and those started before are cancelled and ended);
 * -EINVAL for an unknown policy (nothing sent). n is 0 to GATHER_MAX. Call from a task. */
int gather(aio_http *c, struct reply *r, size_t n, enum gather_policy policy, int64_t deadline);

/* asyncio.wait(..., return_when=FIRST_COMPLETED) over mirrors of one answer: ask all n at once
 * (each made ready with reply_prepare() and the deadline), keep the first useful answer
 * (reply_useful(): rc 0 and status 200), and return its index as soon as it is in. Every
 * request still in flight then is cancelled (rc -ECANCELED, its transfer removed: the server
 * sees it go) and has ended before the call returns. A request that failed (an error, or a
 * status other than 200) is not the answer: the others go on, and the failed reply keeps its
 * result. With no useful answer: -ETIMEDOUT if the deadline passed, else -EIO (every mirror
 * failed). -EINVAL when n is 0, -ENOMEM as gather(), -ECANCELED when the calling task is
 * cancelled (its requests cancelled and ended too). Call from a task. */
int first_completed(aio_http *c, struct reply *r, size_t n, int64_t deadline);

/* ---- given, built on part two (gather_base.c) ---------------------------------------------- */

/* first_completed() on your done_queue (done_queue.h) instead of the runtime's aio_join_any():
 * the same contract. */
int first_completed_mine(aio_http *c, struct reply *r, size_t n, int64_t deadline);

#endif
