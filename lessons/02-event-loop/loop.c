/* Lesson 02, exercise: the heap of timers and the loop that sleeps in poll() between passes.
 * The rest of the loop (the clock, the arrays, adding, cancelling, watching) is given in
 * loop_base.c; loop_internal.h lists what it offers you. `make lesson-02 test` says what is
 * left; `make hint-02` helps. The helpers below are a suggested split: you may shape the
 * inside of this file as you like, as long as heap_push and loop_run keep their contracts. */
#include "loop.h"
#include "loop_internal.h"

#include <errno.h>
#include <limits.h>

/* ---- timers: a binary min-heap in an array ------------------------------------------------ */
/* heap[0] is the root; the children of heap[i] are heap[2i+1] and heap[2i+2], its parent is
 * heap[(i-1)/2]. Every entry comes no later than its children, so heap[0] is due first. */

/* TODO 1: true if a must fire before b. loop.h promises that timers fire in deadline order
 * and that timers with the same deadline fire in the order they were added. A heap is not
 * stable by itself: this function is the only place that promise can be kept. */
static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
    (void)a;
    (void)b;
    return false;
}

/* TODO 2: add a copy of *t to the heap (see loop_internal.h). Returns 0, or -ENOMEM with the
 * heap unchanged. heap_reserve() (given) makes room and may move loop->heap. O(log n). */
int heap_push(struct loop *loop, const struct loop_timer *t)
{
    (void)loop;
    (void)t;
    return -ENOSYS;
}

/* TODO 3: move the first timer, heap[0], into *out and remove it, keeping the rest a heap.
 * Returns 0, or -ENOENT if the heap is empty. O(log n); every other entry stays exactly once
 * in heap[0 .. nheap-1]. */
static int heap_pop(struct loop *loop, struct loop_timer *out)
{
    (void)loop;
    (void)out;
    return -ENOSYS;
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* TODO 4: run the timers that are due (deadline <= loop->now), in heap order, and drop the
 * cancelled entries (loop_cancel_timer() only marked them). Keep loop->live_timers true.
 * Callbacks run here may add, cancel and watch: while one runs, the heap may grow and move.
 * loop.h: a timer added by one of these callbacks waits for the next pass, even with 0 ms;
 * a timer cancelled by one of them does not run, even if it is due now. */
static void run_due_timers(struct loop *loop)
{
    (void)loop;
}

/* TODO 5: how long poll() may sleep, in ms: until the first live deadline, 0 if it has
 * passed, -1 (no limit) when no timer is pending. A deadline may be days away: poll() takes an
 * int, and a wrong conversion is a negative timeout (sleep forever) or a spin. */
static int poll_timeout(const struct loop *loop)
{
    (void)loop;
    return -1;
}

/* TODO 6: call the callback of each of the first npolled entries that poll() reported ready.
 * loop.h: a descriptor unwatched by an earlier callback of the same pass is not called (its
 * revents is stale), and callbacks may watch new descriptors, which can move both arrays. */
static void dispatch_fds(struct loop *loop, size_t npolled)
{
    (void)loop;
    (void)npolled;
}

/* TODO 7: the loop itself. Its contract is loop_run's in loop.h, and the README's "Two habits"
 * say when a callback must not run. In short: timers on time (never early) and in order,
 * ready descriptors dispatched, the process asleep in poll() whenever nothing is due (no
 * spinning, no waking up just to look), a signal (EINTR) neither ends the loop nor stretches
 * the wait, loop->now fresh for every callback, and a return of 0 as soon as nothing is left
 * that could ever run. */
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
