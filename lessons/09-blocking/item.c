/* Lesson 09, part two: an item whose three steps each wait the right way. Your file: fill in
 * the TODO. */
#include "work.h"

#include <errno.h>
#include <string.h>

int item_run(void *arg)
{
    /* TODO 3: asyncio's
     *     async def item(session, it):
     *         async with session.get(it.url) as r:     # not requests.get: it blocks the loop
     *             body = await r.read()
     *         it.digest = await digest_offload(body)
     *         await record_offload(it.id, it.digest)
     * item_run_blocking (batch_base.c) is the same three steps written plainly; each of them
     * holds the loop's only thread while it runs. The contract (work.h): the GET with
     * it->b->http; the digest and the record through your part one; status, len, digest, rc
     * and outcome filled; a cancellation at any wait is ITEM_CANCELLED and goes up as
     * -ECANCELED; the body freed on every way out; nothing writes the item after you return.
     * aio.h has what you need: aio_http_get, aio_response_free. */
    (void)arg;
    return -ENOSYS;
}
