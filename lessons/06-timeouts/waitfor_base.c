/* Lesson 06, given: a job's task. It runs the job, notes its result, and unparks the waiter. */
#include "waitfor.h"

#include <errno.h>

static int wf_body(void *arg)
{
    struct wf_job *j = arg;
    int rc = j->fn(j->arg);

    j->result = rc;
    j->finished = 1;
    if (j->waiter != NULL)
        aio_unpark(j->waiter);
    return rc;
}

int wf_spawn(struct wf_job *j, aio_fn fn, void *arg)
{
    j->fn = fn;
    j->arg = arg;
    j->waiter = NULL;
    j->finished = 0;
    j->result = 0;
    j->task = aio_spawn(wf_body, j);
    return j->task != NULL ? 0 : -ENOMEM;
}
