/* Lesson 06, part one: never wait forever. Your file: fill in the TODOs. */
#include "fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int fetch_batch(aio_http *c, struct fetch *f, size_t n, int64_t deadline)
{
    /* TODO 1: asyncio's
     *     tasks = [asyncio.create_task(fetch(u)) for u in urls]
     *     done, pending = await asyncio.wait(tasks, timeout=...)
     *     for t in pending: t.cancel()          # and wait for them to end
     * The contract (fetch.h): every fetch in flight at once; the whole batch over by the one
     * absolute deadline; what was answered in time kept intact; what was not, cut (its
     * transfer removed, rc -ETIMEDOUT, no response); nothing of the batch left running or
     * unjoined when you return.
     * - fetch_one (given) has no deadline of its own: a task that stops being waited for goes
     *   on, and its transfer with it.
     * - One deadline for the batch: waiting for the fetches one after another must not give
     *   each wait a fresh allowance.
     * aio.h has what you need: aio_spawn, aio_wait_for (its section near the end), aio_join. */
    (void)c;
    (void)f;
    (void)n;
    (void)deadline;
    return -ENOSYS;
}

int fetch_retry(aio_http *c, struct fetch *f, int tries, int64_t try_ms, int64_t deadline)
{
    /* TODO 2: a fetch that retries a cut or a 5xx answer, up to `tries` times, each try cut
     * after try_ms, and all of them over by one absolute deadline (fetch.h has every case).
     * - A try's own allowance is relative; the deadline is not: it does not move when you
     *   retry.
     * - Look at the deadline before a try and during it: a try started just before the
     *   deadline must not run past it.
     * aio_http_get() takes an absolute deadline; aio_now() reads the clock. */
    (void)c;
    (void)f;
    (void)tries;
    (void)try_ms;
    (void)deadline;
    return -ENOSYS;
}
