/* Lesson 08, part two: a producer/consumer pipeline on your queue. P producers fetch URLs and
 * put what they got into a queue of Q slots; C consumers take the items out and process them.
 * The queue's bound is the back-pressure: when consumers fall behind, producers wait in
 * queue_put instead of fetching more, so the items alive at once stay under Q + P + C however
 * many URLs there are. */
#ifndef PIPELINE_H
#define PIPELINE_H

#include "aio.h"
#include "queue.h"

#include <stddef.h>
#include <stdint.h>

/* The most URLs, producers and consumers one pipeline takes (the program's limits). */
#define PIPE_N_MAX 1024
#define PIPE_TASKS_MAX 64

/* One fetched URL on its way from a producer to a consumer. */
struct item {
    size_t index;              /* its URL's place in p->urls */
    int rc;                    /* what aio_http_get returned for it */
    struct aio_response resp;  /* the answer (empty when rc < 0) */
};

/* What processing URL i left behind (the default process fills it in). */
struct result {
    int times;                 /* how many times it was processed: 1 in a right run */
    int rc;                    /* the fetch's rc */
    long status;               /* the answer's status (0 when none) */
    size_t len;                /* its body's length */
    long seq;                  /* 1 for the first item processed, 2 for the next, ... */
};

struct pipeline {
    /* in: set by the caller, read only by you */
    const char *const *urls;   /* n URLs (repeats allowed: each one counts on its own) */
    size_t n;                  /* 0..PIPE_N_MAX */
    size_t producers;          /* P, 1..PIPE_TASKS_MAX */
    size_t consumers;          /* C, 1..PIPE_TASKS_MAX */
    size_t qsize;              /* Q, the queue's capacity, 1..QUEUE_CAP_MAX */
    aio_http *http;            /* the client every producer fetches with (shared) */
    int64_t work_ms;           /* the default process's work per item */
    /* A consumer's work on one item: 0, or -ECANCELED when the consumer's task was cancelled
     * during it. It does not free the item. The program sets pipeline_work (below). */
    int (*process)(struct pipeline *p, struct item *it);
    /* out */
    struct result *results;    /* n slots, zeroed by the caller, filled by process */
    /* the books, kept by item_new and item_free: items made, freed, alive now and at most */
    long made, freed, alive, alive_peak;
    long processed;            /* items processed (by the default process) */
    /* yours, for your producers and consumers to share (pipeline_run sets them) */
    struct queue *q;
    size_t next;               /* the next URL index a producer takes */
};

/* ---- given (pipeline_base.c) ------------------------------------------------------------- */

/* A new item for URL index (the books count it), or NULL (errno ENOMEM). */
struct item *item_new(struct pipeline *p, size_t index);

/* Release it->resp and the item itself; the books count it. NULL does nothing. */
void item_free(struct pipeline *p, struct item *it);

/* The default process: waits p->work_ms (the consumer's "work", a store that takes time),
 * then writes results[it->index] and counts it. 0, or -ECANCELED. */
int pipeline_work(struct pipeline *p, struct item *it);

/* The program's other modes, with the same producers and consumers but a queue of the
 * runtime's semaphores and a poison pill per consumer for the shutdown: "bounded" with
 * p->qsize slots, "unbounded" with room for every URL (a put never waits). Returns as
 * pipeline_run. */
int pipeline_pills(struct pipeline *p, int unbounded);

/* ---- yours (pipeline.c) ------------------------------------------------------------------ */

/* Run the pipeline on a queue of p->qsize slots (your queue.c): p->producers tasks take the
 * URLs one at a time, each once (repeated URLs are fetched once per place), fetch each with
 * aio_http_get(p->http, url, &it->resp, AIO_NEVER) into an item from item_new, and put it
 * into the queue, whatever the fetch returned (a failed fetch is an item too, with its rc);
 * p->consumers tasks take items out, hand each to p->process, then item_free it (a consumer
 *   whose process fails, -ECANCELED, frees that item and ends).
 * - Every URL is fetched exactly once and processed exactly once; every item made is freed
 *   by the time this returns, however it ends.
 * - Back-pressure: a producer never fetches while it still holds an item it could not put,
 *   so at most Q + P + C items are alive at once and at most P fetches are in flight.
 * - The shutdown: once every producer has ended, the queue is closed; consumers take what is
 *   left, then end. Every task spawned has ended (joined) before this returns.
 * - Returns 0 when every URL was processed. -EINVAL (nothing spawned) when n, producers,
 *   consumers or qsize is out of range or urls, http or process is NULL (urls may be NULL
 *   when n is 0). -ENOMEM when the queue, a task (or a task group) or an item cannot be had:
 *   when a task cannot be had, the tasks already started are cancelled before they fetch
 *   anything. -ECANCELED when the calling task is cancelled: every task is cancelled. After
 *   another error (an item refused) the consumers may be cancelled or may finish what is
 *   queued. On every error, as on success, every task has ended and every item is freed
 *   (those in the queue, in a producer's hands, in process) before it returns.
 * - p->next and p->q are yours: set them here, whatever they held before.
 * Call from inside a task; never polls, never blocks the thread. */
int pipeline_run(struct pipeline *p);

#endif
