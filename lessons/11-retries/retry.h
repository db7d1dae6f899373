/* Lesson 11, part one: a GET that tries again. What can succeed on a second try (a 5xx, a
 * 429, a timeout, a refused or broken connection) is tried again after a pause that doubles
 * each time, up to a cap, and is drawn at random below that ceiling ("full jitter"), all of it
 * inside the caller's deadline. asyncio's
 *     for k in range(attempts):
 *         r = await asyncio.wait_for(get(url), per_attempt)   ...
 *         await asyncio.sleep(random.uniform(0, min(cap, base * 2 ** k)))
 */
#ifndef RETRY_H
#define RETRY_H

#include "aio.h"

#include <stdint.h>

/* The most attempts a policy may ask for, and the largest base or cap (a day, in ms). */
#define RETRY_ATTEMPTS_MAX 100
#define RETRY_MS_MAX 86400000

struct retry_policy {
    int attempts;        /* at most this many GETs, 1..RETRY_ATTEMPTS_MAX */
    int64_t base_ms;     /* the first backoff's ceiling, 0..RETRY_MS_MAX */
    int64_t cap_ms;      /* no ceiling above this, 0..RETRY_MS_MAX */
    int64_t attempt_ms;  /* each attempt's own time limit, 0..RETRY_MS_MAX; 0: none but the
                            caller's deadline */
    uint32_t *rng;       /* the caller's jitter generator (its state), never NULL: every pause
                            is retry_draw(rng, ceiling). Several callers may share one. */
};

/* ---- given (retry_base.c) ------------------------------------------------------------- */

/* A whole number drawn uniformly from 0..max (both ends included; max >= 0), from the
 * generator whose state is *state (one step of xorshift32; a zero state counts as 1). The same
 * state gives the same draw: a test that copies the state predicts every pause. */
int64_t retry_draw(uint32_t *state, int64_t max);

/* ---- yours (retry.c) -------------------------------------------------------------------- */

/* Is an attempt that ended this way worth another try? rc is what aio_http_get returned and
 * status the answer's status (read only when rc is 0). 1 for what another try can change: an
 * answer 500..599 or 429 (the server is overloaded or failing for now), -ETIMEDOUT (the attempt
 * ran out of time), -ECONNREFUSED and -EIO (no server, or the connection broke). 0 for
 * everything else: any other answer, 1xx to 4xx (the same request will get the same answer),
 * -EINVAL (a malformed URL stays malformed), -ECANCELED (the caller wants out), -ENOMEM and
 * any other error. Never waits. */
int retry_worth_it(int rc, long status);

/* GET url with retries, the policy p, inside the absolute deadline (AIO_NEVER: none).
 * - Attempt k (1, 2, ...) is aio_http_get(c, url, ..., d) where d is the sooner of the
 *   caller's deadline and aio_now() + p->attempt_ms (when p->attempt_ms > 0).
 * - An attempt not worth another try (retry_worth_it) ends the call with what it got: 0 and
 *   its answer in *out (a 200, a 404, ...), or its error.
 * - After an attempt worth another try, and when attempts remain and the deadline has not come:
 *   exactly one draw, pause = retry_draw(p->rng, min(p->cap_ms, p->base_ms * 2^(k-1))) after
 *   attempt k (so base, 2 base, 4 base, ... never above cap; any k up to RETRY_ATTEMPTS_MAX
 *   without overflow). If aio_now() + pause reaches the deadline, stop at once: no sleep that
 *   the next attempt could not follow. Else sleep exactly pause ms (aio_sleep, or
 *   aio_sleep_until(aio_now() + pause); 0 ms too), then the next attempt.
 * - Nothing starts at or after the deadline: no attempt (a deadline already past on entry is
 *   -ETIMEDOUT with nothing sent), no draw, no sleep. No draw without its sleep, except the one
 *   the deadline stops.
 * - A series that stops (attempts used up, the deadline, a pause that would reach it) returns
 *   what its LAST attempt got: 0 with that answer (a 503, a 429) in *out, or its error
 *   (-ETIMEDOUT, -ECONNREFUSED, -EIO). Every other answer of the series has been freed.
 * - -ECANCELED when the calling task is cancelled (in an attempt or a sleep): at once, with no
 *   transfer, no timer and no answer left behind.
 * - -EINVAL, nothing sent and nothing drawn, when c, url, p, out or p->rng is NULL or a field
 *   of p is out of range.
 * - *out is written only on a return of 0 (the caller releases it with aio_response_free); on
 *   every error it is left empty (status 0, body NULL, len 0), whatever it held on entry.
 * Call from a task; it waits only in aio_http_get and in the pauses. */
int fetch_retry(aio_http *c, const char *url, const struct retry_policy *p,
                struct aio_response *out, int64_t deadline);

#endif
