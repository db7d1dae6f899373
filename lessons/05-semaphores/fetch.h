/* Lesson 05, part one: N fetches on the aio runtime, all at once (given) or at most K in flight
 * at any moment (yours), against a server that answers 429 above K requests in flight. */
#ifndef FETCH_H
#define FETCH_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* The most fetches one batch may hold: the program's --n limit, and the tests' largest batch. */
#define FETCH_MAX 256

/* One fetch: the URL goes in, the response and its error code come out. The caller owns the
 * array of these and keeps it alive until the function that uses it has returned. */
struct fetch {
    const char *url;          /* in: borrowed, must stay valid for the whole call */
    aio_http *client;         /* in: set by fetch_prepare(), shared by all fetches */
    int64_t deadline;         /* in: set by fetch_prepare(), absolute (aio_now() + ms) */
    struct aio_response resp; /* out: the answer; release with fetches_free() */
    int rc;                   /* out: 0, or a negative errno (see fetch_capped) */
    int done;                 /* out: 1 once fetch_one() has finished with this fetch */
};

/* Given (fetch_base.c): make f ready to run with client c and an absolute deadline, and clear
 * its outputs (rc 0, done 0, no response). f->url is left as it is. */
void fetch_prepare(struct fetch *f, aio_http *c, int64_t deadline);

/* Given: the body of one fetch, in aio_fn's shape: one GET of f->url until f->deadline, which
 * fills f->resp and f->rc and sets f->done. arg is a struct fetch *. Returns f->rc (an HTTP
 * status, 429 included, is an answer, not an error). The request is in flight from the moment
 * this is called until it returns. */
int fetch_one(void *arg);

/* Given: all n fetches at once, a task each, then joined: the "unbounded concurrency" that
 * gets a client banned. Returns 0, or the first error in request order. */
int fetch_unbounded(aio_http *c, struct fetch *f, size_t n, int64_t deadline);

/* Yours (capped.c): the same n fetches with never more than k of them in flight at once, and
 * each starting as soon as one of the k slots is free (so n fetches of d ms take about
 * ceil(n / k) x d):
 * - every f[i] is made ready with fetch_prepare() and the batch's deadline, and fetched
 *   exactly once (repeated URLs too), unless the deadline passes before a slot comes free:
 *   then it is not sent at all, and f[i].rc is -ETIMEDOUT;
 * - a fetch that fails (f[i].rc < 0) frees its slot like one that succeeds;
 * - returns 0, or the first error in request order (an HTTP status is an answer, not an
 *   error); -ENOMEM when a task or memory cannot be had (after joining what was spawned);
 *   -EINVAL when k < 1 (nothing is sent);
 * - every task spawned is joined before it returns, on every path;
 * - it never blocks the thread and never polls: waiting is the runtime's job.
 * n is 0 to FETCH_MAX; k may be larger than n. Call from inside a task. */
int fetch_capped(aio_http *c, struct fetch *f, size_t n, int k, int64_t deadline);

/* Given: n fetches with at most k in flight, capped by part two's struct sema (sema.h) the way
 * fetch_capped() may use aio_sem. Same contract as fetch_capped(). */
int fetch_with_my_sem(aio_http *c, struct fetch *f, size_t n, int k, int64_t deadline);

/* Given: release the responses of f[0..n) and clear them. */
void fetches_free(struct fetch *f, size_t n);

#endif
