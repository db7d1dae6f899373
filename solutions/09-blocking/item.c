/* Lesson 09, part two: an item whose three steps each wait the right way. Reference. */
#include "work.h"

#include <errno.h>
#include <string.h>

int item_run(void *arg)
{
    struct item *it = arg;
    struct aio_response resp = { 0 };
    uint64_t d = 0;

    int rc = aio_http_get(it->b->http, it->url, &resp, AIO_NEVER);
    if (rc == 0) {
        it->status = resp.status;
        it->len = resp.len;
        rc = digest_offload(it->b, resp.body, resp.len, &d, AIO_NEVER);
        aio_response_free(&resp);
    }
    if (rc == 0) {
        it->digest = d;
        rc = record_offload(it->b, it->id, d, AIO_NEVER);
    }
    it->rc = rc;
    it->outcome = rc == 0 ? ITEM_DONE : rc == -ECANCELED ? ITEM_CANCELLED : ITEM_FAILED;
    return rc;
}
