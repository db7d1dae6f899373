/* Lesson 03, part one: spawn every download as a task, then join them all. Your file: fill in
 * the TODO. */
#include "downloads.h"

#include <errno.h>
#include <stdlib.h>

int download_concurrent(aio_http *c, struct download *d, size_t n, int64_t deadline)
{
    /* TODO 1: `tasks = [create_task(download(u)) for u in urls]`, then `await` each task.
     * Read download_sequential() in sequential.c first: yours differs in one idea only.
     * - Keep the task handles: calloc an array of n aio_task pointers (-ENOMEM if that fails).
     * - First loop, spawn: download_prepare(&d[i], c, deadline), then
     *   aio_spawn(download_one, &d[i]). Do not wait for anything in this loop: a spawned task
     *   only starts when this task next waits, so every download must be spawned first.
     *   If aio_spawn returns NULL, stop spawning and remember -ENOMEM.
     * - Second loop, join: aio_join() every task you spawned, in order. Each download has its
     *   own deadline already, so join with AIO_NEVER. Keep the first error, and keep joining:
     *   a task you do not join is never freed (and AIO_DEBUG=1 reports it).
     * - Free the handle array and return 0 or the first error. */
    (void)c;
    (void)d;
    (void)n;
    (void)deadline;
    return -ENOSYS;
}
