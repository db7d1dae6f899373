/* Lesson 02, given: the parts of the loop that are not the exercise. The clock, the growable
 * arrays, loop_init/loop_close, adding and cancelling timers, watching and unwatching
 * descriptors. The heap and the loop itself are yours, in loop.c; loop_internal.h is how the
 * two files see each other. */
#include "loop.h"
#include "loop_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define INITIAL_CAP 16 /* entries in an array's first allocation; it doubles from there */

/* ---- the clock and growable arrays ------------------------------------------------------- */

/* Milliseconds on CLOCK_MONOTONIC, a clock that never jumps when someone sets the date. */
uint64_t clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Resize arr to new_cap elements of size bytes. Returns the new array, or NULL with arr left
 * as it was. Like realloc, it may move the array: pointers into the old one are then stale. */
static void *resize(void *arr, size_t new_cap, size_t size)
{
    if (new_cap > SIZE_MAX / size)
        return NULL;
    return realloc(arr, new_cap * size);
}

static size_t next_cap(size_t cap)
{
    return cap == 0 ? INITIAL_CAP : 2 * cap;
}

int loop_init(struct loop *loop)
{
    *loop = (struct loop){ .now = clock_ms(), .next_id = 1 };
    return 0;
}

void loop_close(struct loop *loop)
{
    free(loop->heap);
    free(loop->pfds);
    free(loop->watches);
    *loop = (struct loop){ 0 };
}

uint64_t loop_now(const struct loop *loop)
{
    return loop->now;
}

/* ---- timers: adding and cancelling (the heap itself is in loop.c) ------------------------ */

/* Make room for one more heap entry. Returns 0 or -ENOMEM. */
int heap_reserve(struct loop *loop)
{
    struct loop_timer *heap;
    size_t cap;

    if (loop->nheap < loop->heap_cap)
        return 0;
    cap = next_cap(loop->heap_cap);
    heap = resize(loop->heap, cap, sizeof *heap);
    if (heap == NULL)
        return -ENOMEM;
    loop->heap = heap;
    loop->heap_cap = cap;
    return 0;
}

int64_t loop_add_timer(struct loop *loop, long ms, loop_timer_fn *fn, void *arg)
{
    struct loop_timer t = { 0 };
    int rc;

    if (ms < 0 || fn == NULL)
        return -EINVAL;
    t.deadline = loop->now + (uint64_t)ms;
    t.id = loop->next_id;
    t.fn = fn;
    t.arg = arg;
    rc = heap_push(loop, &t);
    if (rc < 0)
        return rc;
    loop->next_id++;
    loop->live_timers++;
    return t.id;
}

int loop_cancel_timer(struct loop *loop, int64_t id)
{
    /* A linear search: ids are plain numbers here. libuv avoids it by handing the caller the
     * heap node itself. */
    for (size_t i = 0; i < loop->nheap; i++) {
        struct loop_timer *t = &loop->heap[i];

        if (t->id != id || t->cancelled)
            continue;
        /* Mark it; do not take it out. Taking an entry out of the middle of a heap means
         * moving the last entry into its place and sifting that one up or down, and this may
         * run from a callback while run_due_timers() is popping the same heap. A mark is one
         * store and leaves the heap's order alone; the entry is dropped when it reaches the
         * top. Redis's ae.c marks deleted timers for the same reason, and asyncio's
         * TimerHandle.cancel() only flags the handle. The cost: the entry holds its memory
         * until its deadline comes round. */
        t->cancelled = true;
        loop->live_timers--;
        return 0;
    }
    return -ENOENT;
}

/* ---- descriptors: two parallel arrays --------------------------------------------------- */
/* poll() wants a plain array of struct pollfd, so the callbacks live in a second array with the
 * same indices. An unwatched entry is marked with fd = -1 (poll() skips negative fds) and
 * squeezed out between passes, so that indices stay put while callbacks run. */

/* The index of fd's live entry, or loop->npfds if it is not watched. */
static size_t find_fd(const struct loop *loop, int fd)
{
    size_t i;

    for (i = 0; i < loop->npfds; i++) {
        if (loop->pfds[i].fd == fd)
            break;
    }
    return i;
}

/* Make room for one more watched descriptor in both arrays. Returns 0 or -ENOMEM. */
static int fds_reserve(struct loop *loop)
{
    struct pollfd *pfds;
    struct loop_watch *watches;
    size_t cap;

    if (loop->npfds < loop->pfds_cap)
        return 0;
    cap = next_cap(loop->pfds_cap);
    pfds = resize(loop->pfds, cap, sizeof *pfds);
    if (pfds == NULL)
        return -ENOMEM;
    loop->pfds = pfds;
    watches = resize(loop->watches, cap, sizeof *watches);
    if (watches == NULL)
        return -ENOMEM; /* pfds is merely larger than it needs to be */
    loop->watches = watches;
    loop->pfds_cap = cap;
    return 0;
}

int loop_watch_fd(struct loop *loop, int fd, short events, loop_fd_fn *fn, void *arg)
{
    size_t i;
    int rc;

    if (fd < 0 || fn == NULL || events == 0)
        return -EINVAL;
    if (find_fd(loop, fd) < loop->npfds)
        return -EEXIST;
    rc = fds_reserve(loop);
    if (rc < 0)
        return rc;
    /* Appended at the end, with revents 0: if a callback adds it while dispatch_fds() is
     * running, this pass does not see it as ready. */
    i = loop->npfds++;
    loop->pfds[i] = (struct pollfd){ .fd = fd, .events = events, .revents = 0 };
    loop->watches[i] = (struct loop_watch){ .fn = fn, .arg = arg };
    loop->live_fds++;
    return 0;
}

int loop_unwatch_fd(struct loop *loop, int fd)
{
    size_t i;

    if (fd < 0)
        return -ENOENT;
    i = find_fd(loop, fd);
    if (i == loop->npfds)
        return -ENOENT;
    /* Only mark it, as with timers: dispatch_fds() may be walking these arrays right now.
     * revents keeps what poll() said, so dispatch_fds() must skip marked entries itself. */
    loop->pfds[i].fd = -1;
    loop->live_fds--;
    return 0;
}

/* Squeeze out unwatched entries, keeping the others in order. Call it between passes only:
 * while dispatch_fds() runs, index i must keep naming the same descriptor. */
void compact_fds(struct loop *loop)
{
    size_t keep = 0;

    if (loop->live_fds == loop->npfds)
        return;
    for (size_t i = 0; i < loop->npfds; i++) {
        if (loop->pfds[i].fd < 0)
            continue;
        loop->pfds[keep] = loop->pfds[i];
        loop->watches[keep] = loop->watches[i];
        keep++;
    }
    loop->npfds = keep;
}
