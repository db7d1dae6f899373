/* Lesson 02, given: a minimal event loop. Timers wait on a min-heap, descriptors are watched
 * with poll(), and loop_run() sleeps in the kernel until one of them is due or ready. */
#ifndef LOOP_H
#define LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

/* A timer's callback: called once, from loop_run(), at or after its deadline. */
typedef void loop_timer_fn(struct loop *loop, void *arg);

/* A descriptor's callback: called from loop_run() each pass in which fd is ready. revents is
 * what poll() reported (POLLIN, POLLOUT, POLLHUP, POLLERR, ...). */
typedef void loop_fd_fn(struct loop *loop, int fd, int revents, void *arg);

/* One pending timer. The heap holds these by value. */
struct loop_timer {
    uint64_t deadline;    /* the loop_now() value at which it is due, in ms */
    int64_t id;           /* 1, 2, 3, ... in the order timers were added; breaks ties */
    bool cancelled;       /* set by loop_cancel_timer(); the entry is dropped when popped */
    loop_timer_fn *fn;
    void *arg;
};

/* What to call for one watched descriptor; watches[i] goes with pfds[i]. */
struct loop_watch {
    loop_fd_fn *fn;
    void *arg;
};

/* The loop. The caller owns the struct (on the stack or inside its own state); loop_init()
 * fills it and loop_close() frees what it points to. Read the fields, but change them only
 * through the functions below. */
struct loop {
    uint64_t now;               /* ms on CLOCK_MONOTONIC, refreshed whenever the loop wakes */
    int64_t next_id;            /* the id the next timer will get */

    struct loop_timer *heap;    /* min-heap on (deadline, id): heap[0] is due first */
    size_t nheap, heap_cap;     /* entries in use (cancelled ones included), room for */
    size_t live_timers;         /* entries not cancelled: the timers that will still fire */

    struct pollfd *pfds;        /* what poll() watches; an unwatched entry has fd == -1 */
    struct loop_watch *watches; /* parallel to pfds */
    size_t npfds, pfds_cap;     /* entries in use (unwatched ones included), room for */
    size_t live_fds;            /* entries still watched */
};

/* Set up an empty loop in storage the caller owns. Returns 0 (it cannot fail today; check it
 * anyway). Pair with loop_close(). */
int loop_init(struct loop *loop);

/* Free what the loop allocated. Pending timers and watchers are dropped: their callbacks never
 * run. Descriptors stay open: they belong to the caller. Not from inside a callback. */
void loop_close(struct loop *loop);

/* The loop's clock: ms on CLOCK_MONOTONIC, as read when the loop last woke up: at the start
 * of each pass and again when poll() returns, so that a callback never sees a time from
 * before the wait that led to it (or by loop_init(), before loop_run()). Timer callbacks of
 * one pass see the same value, as with libuv's uv_now(). */
uint64_t loop_now(const struct loop *loop);

/* Call fn(loop, arg) once, ms milliseconds after loop_now(). Returns the timer's id (> 0), or
 * -EINVAL (ms < 0 or fn NULL) or -ENOMEM, in which case fn will never be called. Timers with the
 * same deadline fire in the order they were added. A timer added from a callback never fires
 * in the pass that added it, even with ms == 0: it waits for the next pass, after poll() has
 * had a look at the descriptors. */
int64_t loop_add_timer(struct loop *loop, long ms, loop_timer_fn *fn, void *arg);

/* Stop a pending timer: once this returns 0, its callback will not run, even if it is due in
 * the pass being run now. Returns -ENOENT if id is not pending (it already fired, was
 * cancelled, or never existed). Safe from any callback. */
int loop_cancel_timer(struct loop *loop, int64_t id);

/* Watch fd for events (POLLIN, POLLOUT or both): fn(loop, fd, revents, arg) runs in each pass
 * in which poll() reports it ready, until loop_unwatch_fd(). Level-triggered, like poll: a
 * callback that neither reads what is waiting nor unwatches fd is called again at once.
 * Returns 0, -EINVAL (fd < 0, fn NULL or no events), -EEXIST (already watched) or -ENOMEM. */
int loop_watch_fd(struct loop *loop, int fd, short events, loop_fd_fn *fn, void *arg);

/* Stop watching fd: once this returns 0, its callback will not run again, even if poll()
 * reported it ready in the pass being run now. Returns -ENOENT if fd is not watched. The loop
 * does not close fd. Safe from any callback. */
int loop_unwatch_fd(struct loop *loop, int fd);

/* Run passes until no timer is pending and no descriptor is watched, then return 0. Between
 * passes the process sleeps in poll() until the next deadline or a ready descriptor: never
 * spinning, never waking up only to look, never sleeping past the first deadline, however far
 * away it is (a deadline may be more than INT_MAX ms ahead). Only descriptors poll() reported
 * ready are called, with what it reported. A signal that interrupts poll() (EINTR) is not an
 * error: the loop goes on, and waits only for the time still left. Returns a negative errno
 * if poll() fails otherwise. Frees whatever it allocates. Not re-entrant: do not call it from
 * a callback. */
int loop_run(struct loop *loop);

#endif
