/* Lesson 03, given: one download as a task body, and N of them awaited one after another. */
#include "downloads.h"

#include <string.h>

void download_prepare(struct download *d, aio_http *c, int64_t deadline)
{
    d->client = c;
    d->deadline = deadline;
    memset(&d->resp, 0, sizeof d->resp);
    d->rc = 0;
    d->done = 0;
}

int download_one(void *arg)
{
    struct download *d = arg;

    /* The task waits here without blocking the loop: other tasks run meanwhile. */
    d->rc = aio_http_get(d->client, d->url, &d->resp, d->deadline);
    d->done = 1;
    return d->rc;
}

int download_sequential(aio_http *c, struct download *d, size_t n, int64_t deadline)
{
    int first_error = 0;

    for (size_t i = 0; i < n; i++) {
        download_prepare(&d[i], c, deadline);
        /* `await download(url)`: the call returns only when this download is over, so the
         * next one cannot start before. Nothing else of ours is in flight meanwhile. */
        int rc = download_one(&d[i]);
        if (rc < 0 && first_error == 0)
            first_error = rc;
    }
    return first_error;
}

void downloads_free(struct download *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        aio_response_free(&d[i].resp);
        memset(&d[i].resp, 0, sizeof d[i].resp);
    }
}
