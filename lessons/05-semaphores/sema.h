/* Lesson 05, part two: a counting semaphore built from aio_park() and aio_unpark(), the way
 * aio_sem (aio.h) is built. */
#ifndef SEMA_H
#define SEMA_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* One task waiting in sema_acquire(). It lives in sema_acquire()'s stack frame, so it must be
 * off the queue before sema_acquire() returns, whatever the reason it returns. */
struct sema_waiter {
    aio_task *task;          /* the parked task, to hand to aio_unpark() */
    int granted;             /* free for your design: e.g. 1 once a release chose this waiter */
    struct sema_waiter *next; /* the next waiter (younger), or NULL */
};

/* The caller owns the struct; sema_init() sets it up. Nothing in it is allocated. */
struct sema {
    int permits;             /* free permits now */
    struct sema_waiter *head; /* the oldest waiter, or NULL */
    struct sema_waiter *tail; /* the youngest waiter, or NULL */
};

/* ---- given (sema_base.c) ---------------------------------------------------------------- */

/* Set up s with `permits` free permits (>= 0) and nobody waiting. */
void sema_init(struct sema *s, int permits);

/* Put w at the tail of s's queue (the youngest). */
void sema_waiter_append(struct sema *s, struct sema_waiter *w);

/* Take the head (the oldest waiter) off s's queue and return it; NULL if nobody waits. */
struct sema_waiter *sema_waiter_pop(struct sema *s);

/* Take w off s's queue if it is there; does nothing otherwise. */
void sema_waiter_remove(struct sema *s, struct sema_waiter *w);

/* How many waiters s's queue holds. */
size_t sema_waiting(const struct sema *s);

/* ---- yours (sema.c) --------------------------------------------------------------------- */

/* `await sem.acquire()`: take a permit, waiting for one if needed. Returns 0 holding a
 * permit, or -ETIMEDOUT at the deadline (absolute, AIO_NEVER, or any int64_t), -ECANCELED if
 * the calling task is cancelled while it waits. On an error the caller holds no permit, is no
 * longer on the queue, and no permit has been lost. Permits go to waiters in the order they
 * began to wait (FIFO), and a task that arrives while others wait never takes a permit ahead
 * of them. A free permit with nobody waiting is taken without waiting. Never spins or polls.
 * Call from inside a task. */
int sema_acquire(struct sema *s, int64_t deadline);

/* `sem.release()`: give a permit back. If tasks wait, exactly one of them (the oldest) gets it
 * and is woken; otherwise the free count grows. Returns 0. Never waits. */
int sema_release(struct sema *s);

#endif
