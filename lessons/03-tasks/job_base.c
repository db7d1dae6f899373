/* Lesson 03, given: the parts of a job that are not join: starting it, reaping its task, and
 * the waiter list. */
#include "job.h"

#include <errno.h>
#include <stddef.h>

void job_init(struct job *j)
{
    j->fn = NULL;
    j->arg = NULL;
    j->task = NULL;
    j->done = 0;
    j->result = 0;
    j->waiters = NULL;
}

/* The job's task: run the body, then publish its result through job_finish(). The task
 * itself returns 0, so job_close() sees only whether the reaping worked. */
static int job_body(void *arg)
{
    struct job *j = arg;

    job_finish(j, j->fn(j->arg));
    return 0;
}

int job_start(struct job *j, aio_fn fn, void *arg)
{
    job_init(j);
    j->fn = fn;
    j->arg = arg;
    j->task = aio_spawn(job_body, j);
    if (j->task == NULL)
        return -ENOMEM;
    return 0;
}

int job_close(struct job *j)
{
    int rc = 0;

    if (j->task != NULL)
        rc = aio_join(j->task, AIO_NEVER);
    j->task = NULL;
    return rc;
}

int job_done(const struct job *j)
{
    return j->done;
}

void job_waiter_push(struct job *j, struct job_waiter *w)
{
    w->next = j->waiters;
    j->waiters = w;
}

void job_waiter_remove(struct job *j, struct job_waiter *w)
{
    struct job_waiter **link = &j->waiters;

    /* Walk the links, not the nodes, so removing the head needs no special case. */
    while (*link != NULL && *link != w)
        link = &(*link)->next;
    if (*link == w)
        *link = w->next;
}
