/* Lesson 04, given: the parts of the done queue that are not waiting and waking: set-up, the
 * spawn, the list of finished entries. */
#include "done_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int dq_init(struct done_queue *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    q->entries = calloc(cap > 0 ? cap : 1, sizeof *q->entries);
    if (q->entries == NULL)
        return -ENOMEM;
    q->cap = cap;
    return 0;
}

int dq_spawn(struct done_queue *q, aio_fn fn, void *arg)
{
    struct dq_entry *e;

    if (q->n == q->cap)
        return -ENOSPC;
    e = &q->entries[q->n];
    *e = (struct dq_entry){ .q = q, .fn = fn, .arg = arg };
    e->task = aio_spawn(dq_body, e);
    if (e->task == NULL)
        return -ENOMEM;
    return (int)q->n++;
}

void dq_done_push(struct done_queue *q, struct dq_entry *e)
{
    e->next_done = NULL;
    if (q->done_tail != NULL)
        q->done_tail->next_done = e;
    else
        q->done_head = e;
    q->done_tail = e;
}

struct dq_entry *dq_done_pop(struct done_queue *q)
{
    struct dq_entry *e = q->done_head;

    if (e != NULL) {
        q->done_head = e->next_done;
        if (q->done_head == NULL)
            q->done_tail = NULL;
        e->next_done = NULL;
    }
    return e;
}

void dq_free(struct done_queue *q)
{
    free(q->entries);
    q->entries = NULL;
    q->cap = q->n = 0;
}
