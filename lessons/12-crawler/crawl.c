/* Lesson 12, part two: the crawler. Your file: fill in the TODO. */
#include "crawl.h"

#include <errno.h>

int crawl_run(struct crawl *c)
{
    /* TODO 3: asyncio's
     *     queue = asyncio.Queue(); seen = {start}; queue.put_nowait((start, 0))
     *     async def worker():
     *         while True:
     *             url, depth = await queue.get()
     *             try:
     *                 html = await fetch(url)
     *                 for link in links(url, html) if depth < D:
     *                     if link not in seen and len(seen) < budget:
     *                         seen.add(link); queue.put_nowait((link, depth + 1))
     *             finally:
     *                 queue.task_done()
     *     workers = [create_task(worker()) for _ in range(K)]
     *     await asyncio.wait_for(queue.join(), deadline)   # empty AND nothing in flight
     *     for w in workers: w.cancel()
     * The contract is in crawl.h: each URL queued once (seen_add, no wait between the check
     * and the record), at most max_pages queued, depth < max_depth to follow links, K fetches
     * at once whenever K pages wait, idle workers asleep until a page is queued or the crawl
     * is over, the end when the queue is empty and nothing is in flight, the deadline, every
     * worker joined before you return.
     * aio.h has what you need: aio_spawn/aio_join or aio_group_*, aio_park and aio_unpark,
     * aio_http_get; links.h your part one; crawl.h the given seen-set and page list. */
    (void)c;
    return -ENOSYS;
}
