/* Lesson 08, part two: producers and consumers on your queue. Your file: fill in the TODO. */
#include "pipeline.h"

#include <errno.h>

int pipeline_run(struct pipeline *p)
{
    /* TODO 4: asyncio's
     *     queue = asyncio.Queue(maxsize=Q)
     *     async def producer():
     *         while urls remain:
     *             item = fetch(next url); await queue.put(item)
     *     async def consumer():
     *         while True:
     *             try: item = await queue.get()
     *             except asyncio.QueueShutDown: return
     *             await process(item)
     *     consumers = [create_task(consumer()) for _ in range(C)]
     *     await gather(*[producer() for _ in range(P)])
     *     queue.shutdown(); await gather(*consumers)
     * The contract (pipeline.h): every URL fetched once and processed once, in its own slot;
     * every item made (item_new) freed (item_free), however the call ends; at most Q + P + C
     * items alive at once; the queue closed once every producer has ended; every task ended
     * before you return; -EINVAL, -ENOMEM and -ECANCELED with the same clean-up.
     * - Between two waits a task runs alone: taking p->next and counting it up, with no wait
     *   in between, hands each URL to exactly one producer.
     * aio.h has what you need: aio_spawn and aio_join (or aio_group_*), aio_cancel,
     * aio_http_get; queue.h your queue. */
    (void)p;
    return -ENOSYS;
}
