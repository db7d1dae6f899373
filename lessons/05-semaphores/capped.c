/* Lesson 05, part one: at most k fetches in flight at once. Your file: fill in the TODO. */
#include "fetch.h"

#include <errno.h>
#include <stdlib.h>

int fetch_capped(aio_http *c, struct fetch *f, size_t n, int k, int64_t deadline)
{
    /* TODO 1: asyncio's
     *     sem = asyncio.Semaphore(k)
     *     async def one(url):
     *         async with sem:
     *             return await fetch(url)
     *     await asyncio.gather(*(one(u) for u in urls))
     * The contract (fetch.h): the same fetches as fetch_unbounded() in fetch_base.c, never
     * more than k of them in flight, each starting as soon as a slot is free.
     * - What is capped is the request (fetch_one's call), not the spawning of tasks: a task
     *   may exist long before it holds a slot.
     * - One cap for the whole batch, shared by every fetch of it.
     * - Every path that took a slot gives it back, the error paths included: a slot that is
     *   never given back stalls every fetch behind it until the deadline.
     * - A fetch that cannot get a slot before the deadline is never sent: f[i].rc is
     *   -ETIMEDOUT.
     * - Return 0, or the first error in request order; -ENOMEM, -EINVAL as in fetch.h. Every
     *   task you spawn is joined before you return.
     * - Nothing here may block the thread or poll.
     * aio.h has what you need: aio_sem (its own section at the end), aio_spawn(), aio_join(). */
    (void)c;
    (void)f;
    (void)n;
    (void)k;
    (void)deadline;
    return -ENOSYS;
}
