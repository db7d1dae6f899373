/* Lesson 03, part one (solution): spawn every download as a task, then join them all. */
#include "downloads.h"

#include <errno.h>
#include <stdlib.h>

int download_concurrent(aio_http *c, struct download *d, size_t n, int64_t deadline)
{
    aio_task **tasks = calloc(n > 0 ? n : 1, sizeof *tasks);
    size_t spawned = 0;
    int first_error = 0;

    if (tasks == NULL)
        return -ENOMEM;
    /* Spawn them all before waiting on any: a spawned task starts on a later loop turn, when
     * this task waits, so every request is already queued by then. */
    for (; spawned < n; spawned++) {
        download_prepare(&d[spawned], c, deadline);
        tasks[spawned] = aio_spawn(download_one, &d[spawned]);
        if (tasks[spawned] == NULL) {
            first_error = -ENOMEM;
            break;
        }
    }
    /* Join every task we spawned, even after an error: a task we do not join is never freed,
     * and it may still write into d[] after we return. Each download ends at its own
     * deadline, so the joins need none. */
    for (size_t i = 0; i < spawned; i++) {
        int rc = aio_join(tasks[i], AIO_NEVER);
        if (rc < 0 && first_error == 0)
            first_error = rc;
    }
    free(tasks);
    return first_error;
}
