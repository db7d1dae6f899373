/* Lesson 04, part two: asyncio.as_completed() built from aio_park() and aio_unpark(): tasks
 * handed out in the order they finish, and a close that leaves none behind. */
#ifndef DONE_QUEUE_H
#define DONE_QUEUE_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

struct done_queue;

/* One task of the queue. */
struct dq_entry {
    struct done_queue *q;
    aio_fn fn;                  /* the task's own body ... */
    void *arg;                  /* ... and its argument */
    aio_task *task;             /* its handle; NULL once joined */
    int result;                 /* what fn returned, once it has */
    int finished;               /* 1 once fn has returned */
    struct dq_entry *next_done; /* the next finished entry, in the order they finished */
};

/* The caller owns the struct; dq_init() sets it up, dq_free() releases it. */
struct done_queue {
    struct dq_entry *entries;   /* room for cap entries; entry i is the i-th dq_spawn() */
    size_t cap, n;              /* room, and tasks spawned so far */
    size_t taken;               /* entries handed out by dq_next() */
    struct dq_entry *done_head; /* finished and not yet handed out, the first to finish first */
    struct dq_entry *done_tail; /* the last of them */
    aio_task *waiter;           /* free for your design: e.g. the task parked in dq_next() */
};

/* ---- given (done_queue_base.c) ---------------------------------------------------------- */

/* Room for cap tasks. 0, or -ENOMEM. */
int dq_init(struct done_queue *q, size_t cap);

/* Start fn(arg) as the queue's next task: entry q->n, which runs dq_body(). Returns its index,
 * or -ENOSPC (the queue is full), -ENOMEM (no task). */
int dq_spawn(struct done_queue *q, aio_fn fn, void *arg);

/* Append e to the finished list (the tail: the last to finish). */
void dq_done_push(struct done_queue *q, struct dq_entry *e);

/* Take the oldest finished entry off the list, or NULL when the list is empty. */
struct dq_entry *dq_done_pop(struct done_queue *q);

/* Release what dq_init() took. Call after dq_close(). */
void dq_free(struct done_queue *q);

/* ---- yours (done_queue.c) --------------------------------------------------------------- */

/* The body every task of the queue runs (dq_spawn() starts it with its struct dq_entry *):
 * run the entry's own fn(arg), record its result, and tell the queue it has finished, so that
 * a dq_next() waiting for it wakes. Returns fn's result. Never waits itself. */
int dq_body(void *entry);

/* for t in asyncio.as_completed(...): wait until a task of the queue that was not handed out
 * yet has finished, join it, store its result in *result, and return its index. Tasks come
 * out in the order they finished, not the order they were spawned. A task finished already
 * is returned without waiting. -ENOENT when every task spawned has been handed out;
 * -ETIMEDOUT at the deadline, -ECANCELED if the caller is cancelled (nothing handed out:
 * call again later). Waits asleep in aio_park(), never polls, and survives a stray
 * aio_unpark(). One task at a time calls dq_next() on a queue. */
int dq_next(struct done_queue *q, int *result, int64_t deadline);

/* The end of the queue: cancel every task not handed out yet, and return only when each of
 * them has ended and is joined: no task outlives its queue. Returns how many were still
 * running when it was called. Works for a cancelled caller too. Afterwards the queue has
 * nothing left to hand out: dq_next() returns -ENOENT. */
int dq_close(struct done_queue *q);

#endif
