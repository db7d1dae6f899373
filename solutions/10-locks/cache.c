/* Lesson 10, part two (solution): a fetch-once cache. One lock for each url, held across the
 * fetch: the askers of one url queue behind its fetcher and find the answer in when their turn
 * comes; the askers of other urls hold other locks and fetch meanwhile. */
#include "cache.h"

#include <errno.h>

int cache_get(struct cache *c, const char *url, struct cache_answer *out, int64_t deadline)
{
    struct cache_entry *e = cache_join(c, url);

    if (e == NULL)
        return -ENOMEM;
    int rc = lock_acquire(&e->lock, deadline);
    if (rc == 0) {
        /* Whatever was seen before the wait is stale: look again, now that we hold it. */
        if (e->state == ENTRY_FAILED) {
            rc = e->rc;
        } else if (e->state == ENTRY_EMPTY) {
            rc = cache_fetch(c, e, deadline);
            /* The url's failure is everyone's; our deadline or cancel is ours alone, and the
             * next asker in line fetches instead. */
            if (rc < 0 && rc != -ETIMEDOUT && rc != -ECANCELED) {
                e->state = ENTRY_FAILED;
                e->rc = rc;
            }
        }
        lock_release(&e->lock);
    }
    if (rc == 0)
        cache_answer_of(e, out);
    cache_leave(c, e);
    return rc;
}
