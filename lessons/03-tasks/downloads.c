/* Lesson 03, part one: run every download as a task of its own. Your file: fill in the TODO. */
#include "downloads.h"

#include <errno.h>
#include <stdlib.h>

int download_concurrent(aio_http *c, struct download *d, size_t n, int64_t deadline)
{
    /* TODO 1: asyncio's `tasks = [create_task(...) ...]` then `[await t for t in tasks]`.
     * The contract (downloads.h): the same results as download_sequential() in sequential.c,
     * with all n downloads in flight at once.
     * - d[i] ends with the answer to d[i].url (each download made ready with
     *   download_prepare() and the batch's deadline: no download outlives it); one GET per
     *   download, repeated URLs included.
     * - Return 0, or the first error in request order (an HTTP status is an answer, not an
     *   error); -ENOMEM if a task cannot be spawned.
     * - Every task you spawn is joined before you return, on every path: an unjoined task is
     *   never freed, may still write into d[], and AIO_DEBUG=1 reports it.
     * - Nothing here may block the thread or poll: waiting is the runtime's job.
     * - n may be 0; n is at most DOWNLOADS_MAX.
     * aio.h has what you need: aio_spawn(), aio_join(), and what a spawned task does until
     * the task that spawned it waits. */
    (void)c;
    (void)d;
    (void)n;
    (void)deadline;
    return -ENOSYS;
}
