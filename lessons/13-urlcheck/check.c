/* Lesson 13, part two: the checker. Your file: fill in the TODO. */
#include "urlcheck.h"

#include <errno.h>
#include <stdlib.h>

int check_all(struct window *w, const struct reader *in, const struct writer *out,
              const struct check_opts *o)
{
    /* TODO 3: every lesson at once. In asyncio, roughly:
     *     async def worker():             # C of them: at most C GETs in flight
     *         while (check := await next_check_not_started()) is not None:
     *             check.result = await get(check.url, timeout)   # lesson 06
     *             window.flush()          # write what is now known, in order
     *             wake the reader if it waits for room
     *     async with asyncio.TaskGroup() as g:                   # lessons 03, 07
     *         workers = [g.create_task(worker()) for _ in range(C)]
     *         async for url in reader:
     *             while window is full: await room              # back-pressure, lesson 08
     *             fresh = window.add(url)
     *             if fresh: hand it to a waiting worker
     *             window.flush()
     *         tell the workers nothing more comes
     * The contract (urlcheck.h): reading waits only for room; each line written as soon as it
     * and the lines before it are known, by whoever made it known; at most C GETs in flight,
     * each with its own deadline from its own start; on cancellation no more reading, the
     * GETs in flight cancelled, every line read written (those not finished as -ECANCELED),
     * every task ended before you return, the window empty.
     * - A window smaller than C: never more checks in flight than lines in the window.
     * - A cancelled task's waits return -ECANCELED at once, with two exceptions: aio_join of
     *   a task it has cancelled too, and aio_group_wait, which cancels the children and waits
     *   for every one of them. That is how a cancelled check_all still ends its tasks.
     * - struct check has two fields free for you (started, next): a list of checks waiting
     *   for a worker needs no allocation of its own.
     * aio.h has what you need: aio_group_new/spawn/cancel/wait/free, aio_park and aio_unpark,
     * aio_current, aio_now, aio_http_get, aio_response_free. */
    (void)w;
    (void)in;
    (void)out;
    (void)o;
    return -ENOSYS;
}
