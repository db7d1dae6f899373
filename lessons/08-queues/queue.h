/* Lesson 08, part one: a bounded FIFO queue of pointers, built on aio_park() and aio_unpark()
 * the way lesson 05's semaphore is: asyncio.Queue(maxsize) with a close (Python 3.13's
 * Queue.shutdown()). */
#ifndef QUEUE_H
#define QUEUE_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* The largest capacity queue_init() accepts. */
#define QUEUE_CAP_MAX 4096

/* One task waiting in queue_put() or queue_get(). It lives in that call's stack frame, so it
 * must be off its list before the call returns, whatever the reason it returns. */
struct queue_waiter {
    aio_task *task;            /* the parked task, to hand to aio_unpark() */
    void *item;                /* free for your design: e.g. the item a putter offers, or the
                                  item handed to a getter */
    int served;                /* free for your design: e.g. 1 once another call served it */
    struct queue_waiter *next; /* the next waiter (younger), or NULL */
};

/* A list of waiters, oldest first. */
struct queue_waiters {
    struct queue_waiter *head, *tail;
};

/* The caller owns the struct; queue_init() sets it up and queue_free() releases its ring. Use
 * one queue from one loop only. Items are any pointer, NULL included: the queue never looks
 * at them and never frees them. */
struct queue {
    void **ring;                  /* cap slots; the items are ring[head], ring[head+1], ...
                                     (mod cap), len of them */
    size_t cap, head, len;
    int closed;                   /* 1 once queue_close() ran */
    struct queue_waiters getters; /* tasks waiting in queue_get() */
    struct queue_waiters putters; /* tasks waiting in queue_put() */
};

/* ---- given (queue_base.c) --------------------------------------------------------------- */

/* A queue of cap slots (1..QUEUE_CAP_MAX), empty, open, nobody waiting: 0, or -EINVAL (a cap
 * out of range), -ENOMEM. */
int queue_init(struct queue *q, size_t cap);

/* Release the ring. The queue must have no waiter left (nobody is inside put or get); items
 * still in it are the caller's to free first (queue_pop_item). */
void queue_free(struct queue *q);

/* The ring, without waiting and without looking at waiters: push at the tail (the caller
 * checked len < cap), pop from the head (the caller checked len > 0). */
void queue_push_item(struct queue *q, void *item);
void *queue_pop_item(struct queue *q);

/* Waiter lists: append w at the tail (the youngest); take the head (the oldest) off and return
 * it, or NULL; take w off if it is there (does nothing otherwise); count them. */
void queue_waiter_append(struct queue_waiters *l, struct queue_waiter *w);
struct queue_waiter *queue_waiter_pop(struct queue_waiters *l);
void queue_waiter_remove(struct queue_waiters *l, struct queue_waiter *w);
size_t queue_waiter_count(const struct queue_waiters *l);

/* ---- yours (queue.c) -------------------------------------------------------------------- */

/* `await queue.put(item)`: add item at the tail, waiting while the queue is full.
 * - Returns 0 once item is in the queue (or already in a getter's hands); the queue now owns
 *   it until a get hands it out.
 * - -EPIPE when the queue is closed, on entry or while it waits; -ETIMEDOUT at the deadline
 *   (absolute, AIO_NEVER, or any int64_t); -ECANCELED when the calling task is cancelled while
 *   it waits. On every error item was NOT added: it is still the caller's, and the caller is
 *   off the waiter list.
 * - A put that finds room (and nobody waiting ahead of it) adds at once and never waits.
 * - Fair: waiting puts add their items in the order they began to wait, and a put that arrives
 *   while others wait never adds ahead of them, even when a get has just made room.
 * - A put served (its item taken in) in the same loop pass as the timeout or cancellation that
 *   woke it must neither lose the item nor add it twice: it returns 0 (the item went in), or
 *   it returns the error and the item is not in the queue; either way, what a get made room
 *   for is not wasted while another put waits.
 * - Never polls, never spins; one item added, at most one waiter woken. Call from a task. */
int queue_put(struct queue *q, void *item, int64_t deadline);

/* `item = await queue.get()`: take the item at the head, waiting while the queue is empty.
 * - Returns 0 with the item in *out (items come out in the order they went in: FIFO).
 * - -EPIPE when the queue is closed AND empty: a closed queue still hands out what it holds,
 *   then says it is closed. -ETIMEDOUT at the deadline, -ECANCELED when the calling task is
 *   cancelled while it waits. On an error *out is untouched and the caller is off the list.
 * - A get that finds an item (and nobody waiting ahead of it) takes it at once, never waits.
 * - Fair: waiting gets are served in the order they began to wait, and a get that arrives
 *   while others wait never takes an item ahead of them, even one put in the same pass.
 * - A get served in the same loop pass as the timeout or cancellation that woke it neither
 *   loses the item nor takes it twice: it returns 0 with the item, or it returns the error
 *   and the item goes to the next waiting get (or stays at the head of the queue).
 * - Never polls, never spins; one item taken, at most one waiter woken. Call from a task. */
int queue_get(struct queue *q, void **out, int64_t deadline);

/* Python 3.13's `queue.shutdown()`: no more puts. Every task waiting in queue_put() fails with
 * -EPIPE (its item stays its own), every task waiting in queue_get() wakes with -EPIPE (if any
 * wait, the queue is empty); later puts fail with -EPIPE; later gets take what is left, then
 * return -EPIPE. Returns 0, or -EALREADY (and changes nothing) when the queue was closed
 * already. Never waits; callable from any task of the loop, or outside a task. */
int queue_close(struct queue *q);

#endif
