/* Lesson 07, part two: a hedged request that cancels the mirrors it no longer needs. Your
 * file: fill in the TODO. */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>

int hedged_get(struct job *jobs, size_t n, int64_t hedge_ms, int64_t deadline)
{
    /* TODO 2: asyncio's
     *     tasks = [asyncio.create_task(job_run(jobs[0]))]
     *     while no good answer:
     *         done, _ = await asyncio.wait(tasks, timeout=hedge, return_when=FIRST_COMPLETED)
     *         ... start the next mirror when the hedge delay passes (or all so far failed)
     *     for t in tasks: t.cancel()
     *     await asyncio.gather(*tasks, return_exceptions=True)
     * The contract (pool.h): job 0 at once, the next one hedge_ms after the last start (or at
     * once when every job started has ended badly); the first good answer wins; every other
     * job still running is cancelled and has ENDED, its task joined, before you return; jobs
     * never started stay untouched. The same clean-up on every way out (-EIO, -ETIMEDOUT,
     * -ECANCELED, -ENOMEM).
     * - A cancelled task does not end when aio_cancel returns: it ends at its next turn, once
     *   its own clean-up has run.
     * aio.h has what you need: aio_spawn, aio_join_any, aio_join, aio_cancel, aio_now. */
    (void)jobs;
    (void)n;
    (void)hedge_ms;
    (void)deadline;
    return -ENOSYS;
}
