/* Lesson 10, part one: a lock that one task holds at a time, built from aio_park() and
 * aio_unpark(). asyncio.Lock, with two things asyncio leaves to good manners made rules: only
 * the holder may release it, and a holder that asks again is told so instead of waiting for
 * ever. */
#ifndef LOCK_H
#define LOCK_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* One task waiting in lock_acquire(). It lives in lock_acquire()'s stack frame, so it must be
 * off the queue before lock_acquire() returns, whatever the reason it returns. */
struct lock_waiter {
    aio_task *task;            /* the parked task, to hand to aio_unpark() */
    int handed;                /* free for your design: e.g. 1 once a release chose this waiter */
    struct lock_waiter *next;  /* the next waiter (younger), or NULL */
};

/* The caller owns the struct (static, on a stack, inside another struct); lock_init() sets it
 * up. Nothing in it is allocated, so there is nothing to destroy once nobody holds it or waits
 * for it. Use a lock from one loop only. */
struct lock {
    aio_task *holder;          /* the task holding the lock, or NULL when it is free */
    struct lock_waiter *head;  /* the oldest waiter, or NULL */
    struct lock_waiter *tail;  /* the youngest waiter, or NULL */
};

/* ---- given (lock_base.c) ------------------------------------------------------------------ */

/* A free lock: no holder, nobody waiting. */
void lock_init(struct lock *l);

/* Put w at the tail of l's queue (the youngest). */
void lock_waiter_append(struct lock *l, struct lock_waiter *w);

/* Take the head (the oldest waiter) off l's queue and return it; NULL if nobody waits. */
struct lock_waiter *lock_waiter_pop(struct lock *l);

/* Take w off l's queue if it is there; does nothing otherwise. */
void lock_waiter_remove(struct lock *l, struct lock_waiter *w);

/* How many tasks wait in l's queue. */
size_t lock_waiting(const struct lock *l);

/* The task holding l, or NULL. */
aio_task *lock_holder(const struct lock *l);

/* ---- yours (lock.c) ----------------------------------------------------------------------- */

/* `await lock.acquire()`: hold l, waiting for it if another task does.
 * - A free lock with nobody waiting is taken at once, without waiting (even past the
 *   deadline), as asyncio's is.
 * - Otherwise the caller waits in l's queue, asleep in aio_park(). The lock goes to waiters in
 *   the order they began to wait (FIFO), and a task that asks while others wait never gets it
 *   ahead of them: not even the task that has just released it.
 * - Returns 0 holding l (lock_holder(l) is the caller), or:
 *   -ETIMEDOUT at the deadline (absolute, AIO_NEVER, or any int64_t), -ECANCELED if the
 *   calling task is cancelled while it waits: the caller then holds nothing, is off the queue,
 *   and the lock is not lost: had a release chosen the caller in the same loop pass as the
 *   timeout or cancellation that woke it, the lock goes on to the next waiter (or is free);
 *   -EDEADLK when the caller holds l already (it would wait for itself for ever; l is left as
 *   it was); -EPERM outside a task.
 * - Never spins or polls. */
int lock_acquire(struct lock *l, int64_t deadline);

/* `lock.release()`: give l up. If tasks wait, the oldest becomes the holder at once and is
 * woken (exactly one wake-up); otherwise l is free. Never waits. Returns 0, or -EPERM (and
 * changes nothing) when the caller is not the holder: another task holds it, nobody does, or
 * the call comes from outside a task. */
int lock_release(struct lock *l);

#endif
