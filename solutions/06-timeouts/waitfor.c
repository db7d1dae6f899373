/* Lesson 06, part two (solution): wait for a job, parked, until it ends or the deadline comes;
 * wait_for cancels it at the deadline and waits for its end, the shield leaves it running. */
#include "waitfor.h"

#include <errno.h>

int wf_wait(struct wf_job *j, int64_t deadline)
{
    int rc = 0;

    j->waiter = aio_current();
    /* A stray unpark returns 0 with the job unfinished: wait on. */
    while (!j->finished && rc == 0)
        rc = aio_park(deadline);
    /* Gone from the job, whatever woke us: its end must not unpark us out of a later wait. */
    j->waiter = NULL;
    if (!j->finished)
        return rc;
    aio_join(j->task, AIO_NEVER);       /* finished: its task ends without waiting again */
    j->task = NULL;
    return j->result;
}

int wf_wait_for(struct wf_job *j, int64_t deadline)
{
    int rc = wf_wait(j, deadline);

    if (j->task == NULL)
        return rc;                      /* finished in time: its result */
    aio_cancel(j->task);
    /* Until its clean-up is over (a transfer removed). A join of a cancelled task is allowed
     * to a cancelled caller too: this wait is the clean-up the cancellation asked for. */
    aio_join(j->task, AIO_NEVER);
    j->task = NULL;
    return rc;
}
