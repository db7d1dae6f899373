/* Lesson 02, reference solution: a minimal event loop. Timers on a binary min-heap,
 * descriptors watched with poll(), and a loop that sleeps in poll() between passes. */
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
 * timer added first (the smaller id). */
static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->id < b->id;
}

/* TODO 2: add a copy of *t to the heap. Returns 0 or -ENOMEM (the heap is unchanged). */
static int heap_push(struct loop *loop, const struct loop_timer *t)
{
    int rc = heap_reserve(loop);
    size_t i;

    if (rc < 0)
        return rc;
    /* Sift up: open a hole at the end, move parents that come after t down into it. */
    i = loop->nheap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (!timer_before(t, &loop->heap[parent]))
            break;
        loop->heap[i] = loop->heap[parent];
        i = parent;
    }
    loop->heap[i] = *t;
    return 0;
}

/* TODO 3: move the first timer, heap[0], into *out and remove it from the heap. Returns 0,
 * or -ENOENT if the heap is empty. */
static int heap_pop(struct loop *loop, struct loop_timer *out)
{
    struct loop_timer *heap = loop->heap;
    struct loop_timer last;
    size_t n, i = 0;

    if (loop->nheap == 0)
        return -ENOENT;
    *out = heap[0];
    n = --loop->nheap;
    if (n == 0)
        return 0;
    /* Sift down: the last entry needs a new place; start at the root's hole and move the
     * earlier child up until last comes no later than both children. */
    last = heap[n];
    for (;;) {
        size_t child = 2 * i + 1;

        if (child >= n)
            break;
        if (child + 1 < n && timer_before(&heap[child + 1], &heap[child]))
            child++;
        if (!timer_before(&heap[child], &last))
            break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = last;
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
 * the cancelled entries that reach the top. A timer added by one of these callbacks waits for
 * the next pass, even with 0 ms. */
static void run_due_timers(struct loop *loop)
{
    int64_t first_new = loop->next_id; /* ids from here on were added during this pass */
    struct loop_timer t;

    while (loop->nheap > 0) {
        const struct loop_timer *top = &loop->heap[0];

        if (!top->cancelled && (top->deadline > loop->now || top->id >= first_new))
            break;
        heap_pop(loop, &t);
        if (t.cancelled)
            continue;
        /* t is a copy and no longer in the heap: the callback may add or cancel timers, and
         * the heap may move in memory, without disturbing us. */
        loop->live_timers--;
        t.fn(loop, t.arg);
    }
}

/* TODO 5: how long poll() may sleep, in ms: until the first deadline (0 if it has passed),
 * or -1 (no limit) when no timer is pending. */
static int poll_timeout(const struct loop *loop)
{
    uint64_t deadline;

    /* run_due_timers() left no cancelled entry on top, so heap[0] is a live timer. */
    if (loop->nheap == 0)
        return -1;
    deadline = loop->heap[0].deadline;
    if (deadline <= loop->now)
        return 0;
    if (deadline - loop->now > INT_MAX)
        return INT_MAX;
    return (int)(deadline - loop->now);
}

/* TODO 6: call the callback of each of the first npolled entries that poll() reported ready,
 * skipping entries unwatched since (fd == -1). */
static void dispatch_fds(struct loop *loop, size_t npolled)
{
    for (size_t i = 0; i < npolled; i++) {
        int fd = loop->pfds[i].fd;
        int revents = loop->pfds[i].revents;
        struct loop_watch w;

        if (fd < 0 || revents == 0)
            continue;
        /* Copy what we need first: the callback may watch new descriptors, which can move
         * both arrays. */
        w = loop->watches[i];
        w.fn(loop, fd, revents, w.arg);
    }
}

/* TODO 7: the loop itself; see loop.h for the contract and the README for the passes. */
int loop_run(struct loop *loop)
{
    for (;;) {
        size_t npolled;
        int ready;

        loop->now = clock_ms();
        run_due_timers(loop);
        compact_fds(loop);
        if (loop->live_timers == 0 && loop->live_fds == 0)
            return 0;
        npolled = loop->npfds;
        ready = poll(loop->pfds, (nfds_t)npolled, poll_timeout(loop));
        if (ready < 0 && errno != EINTR)
            return -errno;
        loop->now = clock_ms();
        if (ready > 0)
            dispatch_fds(loop, npolled);
    }
}
