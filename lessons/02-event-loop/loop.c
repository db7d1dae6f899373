/* Lesson 02, exercise: a minimal event loop. Timers on a binary min-heap, descriptors watched
 * with poll(), and a loop that sleeps in poll() between passes. Write the seven TODOs; the
 * rest is given. `make lesson-02 test` says what is left; `make hint-02` helps. */
#include "loop.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>

#define INITIAL_CAP 16 /* entries in an array's first allocation; it doubles from there */

/* ---- given: the clock and growable arrays ------------------------------------------------ */

/* Milliseconds on CLOCK_MONOTONIC, a clock that never jumps when someone sets the date. */
static uint64_t clock_ms(void)
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

/* ---- timers: a binary min-heap in an array ------------------------------------------------ */
/* heap[0] is the root; the children of heap[i] are heap[2i+1] and heap[2i+2], its parent is
 * heap[(i-1)/2]. Every entry comes no later than its children, so heap[0] is due first. */

/* Make room for one more heap entry. Returns 0 or -ENOMEM. */
static int heap_reserve(struct loop *loop)
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

/* TODO 1: true if a must fire before b: an earlier deadline first; on equal deadlines, the
 * timer added first (the smaller id). A heap is not stable by itself: without the second
 * rule, timers due at the same moment come out in a scrambled order. */
static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
    (void)a;
    (void)b;
    return false;
}

/* TODO 2: add a copy of *t to the heap. Returns 0 or -ENOMEM (the heap is unchanged).
 * heap_reserve(), called first, made room for one more entry. Put t at the end (index
 * nheap) and sift it up: while t comes before its parent (use timer_before), move the parent
 * down into t's place and go up one level. About 10 lines. */
static int heap_push(struct loop *loop, const struct loop_timer *t)
{
    int rc = heap_reserve(loop);

    if (rc < 0)
        return rc;
    (void)t;
    return -ENOSYS;
}

/* TODO 3: move the first timer, heap[0], into *out and remove it from the heap. Returns 0,
 * or -ENOENT if the heap is empty. Take the last entry out (nheap shrinks by one) and sift it
 * down from the root: at each level pick the child that comes first; if that child comes
 * before the entry you are placing, move the child up and go down one level; else stop and
 * put the entry there. About 20 lines. */
static int heap_pop(struct loop *loop, struct loop_timer *out)
{
    (void)loop;
    (void)out;
    return -ENOSYS;
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
static void compact_fds(struct loop *loop)
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

/* ---- the loop ----------------------------------------------------------------------------- */

/* TODO 4: run every live timer that is due (deadline <= loop->now) in heap order, and drop
 * the cancelled entries that reach the top. Look at heap[0]: a cancelled entry is popped and
 * dropped; a due one is popped, counted out of loop->live_timers, and called; anything else
 * ends the pass. Two traps:
 *  - pop the timer into a local copy before calling it: its callback may add timers, and the
 *    heap may then move in memory (a pointer into it would dangle);
 *  - a timer added by one of these callbacks must wait for the next pass, even with 0 ms, or
 *    a callback that keeps adding 0 ms timers would keep the loop from ever polling. Timer ids
 *    only grow: note loop->next_id before the first callback, and leave entries whose id is
 *    at least that for the next pass.
 * About 15 lines. */
static void run_due_timers(struct loop *loop)
{
    (void)loop;
}

/* TODO 5: how long poll() may sleep, in ms: until the first deadline (0 if it has passed),
 * or -1 (no limit) when no timer is pending. run_due_timers() has just run, so heap[0], if
 * any, is a live timer. The difference is a uint64_t and poll() wants an int: clamp it to
 * INT_MAX. About 10 lines. */
static int poll_timeout(const struct loop *loop)
{
    (void)loop;
    return -1;
}

/* TODO 6: call the callback of each of the first npolled entries that poll() reported ready
 * (revents != 0), skipping entries unwatched since (fd == -1): an earlier callback in this
 * same pass may have unwatched them, and their revents is stale. Copy pfds[i].fd, revents and
 * watches[i] into locals before the call: the callback may watch new descriptors, which can
 * move both arrays. About 15 lines. */
static void dispatch_fds(struct loop *loop, size_t npolled)
{
    (void)loop;
    (void)npolled;
}

/* TODO 7: the loop itself (see loop.h for its contract). Repeat these passes:
 *  1. refresh loop->now from clock_ms();
 *  2. run_due_timers();
 *  3. compact_fds() (between passes is the only safe time);
 *  4. if no timer is live and no descriptor is watched, return 0: nothing can ever happen
 *     again, so poll() would sleep forever;
 *  5. poll() on the first npfds entries (note that number), with poll_timeout(); on failure
 *     return -errno, except EINTR (a signal arrived): just go round again;
 *  6. refresh loop->now, and if poll() reported descriptors ready, dispatch_fds().
 * About 20 lines. */
int loop_run(struct loop *loop)
{
    (void)loop;
    /* Unfinished, the file leaves these helpers unused, an error under -Werror. These lines
     * count as uses; delete them once loop_run calls the helpers. */
    (void)clock_ms;
    (void)timer_before;
    (void)heap_pop;
    (void)run_due_timers;
    (void)compact_fds;
    (void)poll_timeout;
    (void)dispatch_fds;
    return -ENOSYS;
}
