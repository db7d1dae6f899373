/* Lesson 06, part one: never wait forever. A batch of fetches with one deadline for the whole
 * batch, and a retrying fetch whose retries share one absolute deadline. */
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
    aio_http *client;         /* in: set by fetch_prepare() */
    struct aio_response resp; /* out: the answer (status 0, no body, when none came) */
    int rc;                   /* out: 0 answered, or a negative errno (-ETIMEDOUT: cut) */
    int done;                 /* out: 1 once fetch_one() has ended for this fetch */
};

/* Given (batch_base.c): make f ready to run with client c, and clear its outputs (rc 0, done 0,
 * no response). f->url is left as it is. */
void fetch_prepare(struct fetch *f, aio_http *c);

/* Given: one GET of f->url in aio_fn's shape (arg is a struct fetch *), with NO deadline of
 * its own, like a coroutine in asyncio: it ends when the answer is in, when the transfer
 * fails, or when its task is cancelled (then f->rc is -ECANCELED and the transfer is removed).
 * Fills f->resp and f->rc, sets f->done, returns f->rc. Whoever waits for it decides when to
 * give up. */
int fetch_one(void *arg);

/* Given: all n fetches at once, a task each, each joined with no deadline: one request that
 * hangs holds the whole batch forever. Returns 0 or the first error in request order. */
int fetch_all_no_deadline(aio_http *c, struct fetch *f, size_t n);

/* Yours (batch.c): all n fetches at once (every one in flight together), and the whole batch
 * over by one absolute deadline:
 * - every f[i] is made ready with fetch_prepare() and fetched exactly once (repeated URLs too);
 * - a fetch answered by the deadline keeps its answer intact: f[i].rc 0 and f[i].resp;
 * - a fetch still unanswered at the deadline is cut: its transfer removed, f[i].rc -ETIMEDOUT,
 *   f[i].resp empty (status 0, body NULL);
 * - when it returns nothing of the batch is left: every task it spawned has ended and is
 *   joined, no transfer is in flight, no timer armed;
 * - returns 0 when every fetch was answered, else the first error in request order
 *   (-ETIMEDOUT included); -ENOMEM when a task cannot be had (what was spawned is cancelled
 *   and joined, the fetches not sent get -ECANCELED);
 * - it never blocks the thread and never polls. An HTTP status is an answer, not an error.
 * n is 0 to FETCH_MAX. Call from inside a task. */
int fetch_batch(aio_http *c, struct fetch *f, size_t n, int64_t deadline);

/* Yours (batch.c): one fetch of f->url (f made ready with fetch_prepare(f, c) first), tried up
 * to `tries` times. Each try is cut after try_ms, and every try together ends by the one
 * absolute deadline: no try is sent at or after it, and none runs past it.
 * - A try that is cut, or that is answered with a 5xx status, is retried at once (no pause)
 *   while tries remain and the deadline has not come; a 5xx answer's body is released first.
 * - Any other answer ends it (2xx, 3xx, 4xx): 0, with the answer in f->resp.
 * - Tries used up on 5xx answers: 0, with the last 5xx answer in f->resp.
 * - No answer at all when the tries or the deadline ran out: -ETIMEDOUT.
 * - A transport error other than a cut (-ECONNREFUSED, -EIO, ...) ends it with that error.
 * - f->rc is set to the return value and f->done to 1; -EINVAL when tries < 1 or try_ms < 1
 *   (nothing sent). Nothing of a try is left running when it returns.
 * Call from inside a task. */
int fetch_retry(aio_http *c, struct fetch *f, int tries, int64_t try_ms, int64_t deadline);

/* Given: the same batch as fetch_batch(), built on part two's wf_wait_for() (waitfor.h). */
int fetch_batch_mine(aio_http *c, struct fetch *f, size_t n, int64_t deadline);

/* Given: release the responses of f[0..n) and clear them. */
void fetches_free(struct fetch *f, size_t n);

#endif
