/* Lesson 02, reference solution: the heap of timers and the loop that sleeps in poll()
 * between passes. The rest of the loop is given, in loop_base.c. */
#include "loop.h"
#include "loop_internal.h"

#include <errno.h>
#include <limits.h>

/* ---- timers: a binary min-heap in an array ------------------------------------------------ */
/* heap[0] is the root; the children of heap[i] are heap[2i+1] and heap[2i+2], its parent is
 * heap[(i-1)/2]. Every entry comes no later than its children, so heap[0] is due first. */

/* TODO 1: true if a must fire before b: an earlier deadline first; on equal deadlines, the
 * timer added first (the smaller id). */
static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->id < b->id;
}

/* TODO 2: add a copy of *t to the heap. Returns 0 or -ENOMEM (the heap is unchanged). */
int heap_push(struct loop *loop, const struct loop_timer *t)
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
