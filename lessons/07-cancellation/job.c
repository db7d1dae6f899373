/* Lesson 07, part one: a job that gives back what it holds, however it ends. Your file: fill
 * in the TODO. */
#include "pool.h"

#include <errno.h>
#include <string.h>

int job_run(void *arg)
{
    /* TODO 1: asyncio's
     *     async with pool.permits:               # the permit
     *         pool.in_flight += 1
     *         conn = aiohttp.ClientSession()     # the connection
     *         try:
     *             job.resp = await get(conn, job.url)
     *         except asyncio.CancelledError:
     *             ...                            # report it, then re-raise
     *         finally:
     *             await conn.close(); pool.in_flight -= 1
     * The contract (pool.h): a permit first, then the connection and the in_flight count;
     * on every way out each thing taken is given back exactly once, and nothing that was not
     * taken; the job says how it ended (outcome, rc, return value, one of the pool's books),
     * and a cancellation is reported as one, neither as a failure nor as success.
     * - In aio a cancellation is not an exception: it is -ECANCELED from whichever wait was
     *   under way, and again from every wait after it (aio.h, "Cancellation").
     * aio.h has what you need: aio_sem_acquire, aio_sem_release, aio_http_new, aio_http_get,
     * aio_http_free. */
    (void)arg;
    return -ENOSYS;
}
