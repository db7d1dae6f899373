/* Lesson 03, part one: N downloads on the aio runtime, awaited one after another (given) or
 * spawned as tasks first and joined after (yours). */
#ifndef DOWNLOADS_H
#define DOWNLOADS_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* The most downloads one batch may hold: the program's --n limit, and the tests' largest
 * batch. */
#define DOWNLOADS_MAX 256

/* One download: the URL goes in, the response and its error code come out. The caller owns
 * the array of these and keeps it alive until the function that uses it has returned. */
struct download {
    const char *url;          /* in: borrowed, must stay valid for the whole call */
    aio_http *client;         /* in: set by download_prepare(), shared by all downloads */
    int64_t deadline;         /* in: set by download_prepare(), absolute (aio_now() + ms) */
    struct aio_response resp; /* out: the answer; release with downloads_free() */
    int rc;                   /* out: 0, or aio_http_get()'s negative errno */
    int done;                 /* out: 1 once download_one() has finished with this download */
};

/* Given (sequential.c): make d ready to run with client c and an absolute deadline, and clear
 * its outputs. d->url is left as it is. */
void download_prepare(struct download *d, aio_http *c, int64_t deadline);

/* Given: the body of one download, in aio_fn's shape so it can be a task: GET d->url, fill
 * d->resp and d->rc, set d->done. arg is a struct download *. Returns d->rc. Calling it
 * directly is `await download(url)`; handing it to aio_spawn() is `create_task(...)`. */
int download_one(void *arg);

/* Given: download d[0..n) one after another, each awaited before the next starts (the
 * server never sees more than one in flight). Call from inside a task. Returns 0 if every
 * download succeeded, else the first error in request order; d[i].rc holds each one's own. */
int download_sequential(aio_http *c, struct download *d, size_t n, int64_t deadline);

/* Yours (downloads.c): the same downloads with all n in flight at once, a task each: one
 * GET per download (repeated URLs too), each ending by deadline. Same return value as
 * download_sequential(): 0, or the first error in request order (an HTTP status is an
 * answer, not an error). When it returns, every task it spawned has been joined, on the
 * error paths too. Returns -ENOMEM if a task or memory could not be had (the tasks already
 * spawned are joined first). Never blocks the thread and never polls. n is 0 to
 * DOWNLOADS_MAX. */
int download_concurrent(aio_http *c, struct download *d, size_t n, int64_t deadline);

/* Given: release the responses of d[0..n) and clear them. */
void downloads_free(struct download *d, size_t n);

#endif
