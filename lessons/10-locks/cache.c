/* Lesson 10, part two: a cache that fetches each url once. Your file: fill in the TODO. */
#include "cache.h"

#include <errno.h>

int cache_get(struct cache *c, const char *url, struct cache_answer *out, int64_t deadline)
{
    /* TODO 3: asyncio's
     *     async with locks[url]:            # one lock a url, held across the fetch
     *         if url not in cache:
     *             cache[url] = await fetch(url)
     *     return cache[url]
     * The contract (cache.h): one fetch for a url while its answer is on its way, the askers
     * meanwhile wait for it; askers of different urls never wait for each other; a url's
     * failure fails the askers waiting on it and is not kept; an asker's own deadline or
     * cancel during its fetch fails it alone and the next asker in line fetches; on every way
     * out the caller has left its entry and holds no lock.
     * - Between two awaits nothing else runs; across one, anything may have changed. What you
     *   saw of an entry before you waited is stale once you hold its lock.
     * cache.h has the entries (cache_join, cache_leave, cache_fetch, cache_answer_of) and
     * lock.h your lock. */
    (void)c;
    (void)url;
    (void)out;
    (void)deadline;
    return -ENOSYS;
}
