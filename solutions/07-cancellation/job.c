/* Lesson 07, part one: a job that gives back what it holds however it ends. Reference. */
#include "pool.h"

#include <errno.h>
#include <string.h>

int job_run(void *arg)
{
    struct job *j = arg;
    struct pool *p = j->pool;
    int rc = aio_sem_acquire(&p->permits, AIO_NEVER);

    if (rc == 0) {
        p->in_flight++;
        j->conn = aio_http_new();
        if (j->conn == NULL)
            rc = -ENOMEM;
        else
            rc = aio_http_get(j->conn, j->url, &j->resp, AIO_NEVER);
        /* The clean-up never waits: a cancelled task's waits all return -ECANCELED. */
        aio_http_free(j->conn);
        j->conn = NULL;
        p->in_flight--;
        aio_sem_release(&p->permits);
    }
    j->rc = rc;
    if (rc == 0) {
        j->outcome = JOB_ANSWERED;
        p->answered++;
    } else if (rc == -ECANCELED) {
        j->outcome = JOB_CANCELLED;
        p->cancelled++;
    } else {
        j->outcome = JOB_FAILED;
        p->failed++;
    }
    return rc;
}
