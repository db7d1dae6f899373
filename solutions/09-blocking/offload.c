/* Lesson 09, part one: blocking work handed to the pool, safe to abandon. Reference. */
#include "work.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* One piece of work for a thread. Two hold it, the waiting task and the thread's work; the
 * last of the two to let go frees it, so a task that stops waiting (cancelled, deadline)
 * leaves the thread everything it needs. */
struct job {
    atomic_int refs;
    struct batch *b;
    size_t id;
    uint64_t digest;             /* the record's input, or the digest's output */
    int rc;
    size_t len;
    char body[];                 /* the digest's own copy of the body */
};

static struct job *job_new(struct batch *b, const char *body, size_t len)
{
    struct job *j = malloc(sizeof *j + len);
    if (j == NULL)
        return NULL;
    atomic_init(&j->refs, 2);
    j->b = b;
    j->len = len;
    if (len > 0)
        memcpy(j->body, body, len);
    return j;
}

static void job_drop(struct job *j)
{
    if (atomic_fetch_sub(&j->refs, 1) == 1)
        free(j);
}

/* aio_to_thread and what its result says about the job: only an error that queued nothing
 * leaves the thread's reference to the caller. */
static int hand_over(aio_fn fn, struct job *j, int64_t deadline)
{
    int rc = aio_to_thread(fn, j, deadline);
    if (rc == -ENOMEM || rc == -EAGAIN || rc == -EPERM)
        job_drop(j);                /* fn never runs: its reference is ours to drop */
    return rc;
}

static int record_work(void *arg)
{
    struct job *j = arg;
    int rc = ledger_write(j->b->ledger, j->id, j->digest);
    job_drop(j);
    return rc;
}

int record_offload(struct batch *b, size_t id, uint64_t digest, int64_t deadline)
{
    struct job *j = job_new(b, NULL, 0);
    if (j == NULL)
        return -ENOMEM;
    j->id = id;
    j->digest = digest;
    int rc = hand_over(record_work, j, deadline);
    job_drop(j);
    return rc;
}

static int digest_work(void *arg)
{
    struct job *j = arg;
    j->digest = digest(j->body, j->len, j->b->rounds);
    job_drop(j);
    return 0;
}

int digest_offload(struct batch *b, const char *body, size_t len, uint64_t *out,
                   int64_t deadline)
{
    int rc = aio_sem_acquire(&b->cpu, deadline);
    if (rc < 0)
        return rc;
    struct job *j = job_new(b, body, len);
    if (j == NULL) {
        rc = -ENOMEM;
    } else {
        rc = hand_over(digest_work, j, deadline);
        if (rc == 0)
            *out = j->digest;       /* the work has ended: the thread let go before we woke */
        job_drop(j);
    }
    aio_sem_release(&b->cpu);
    return rc;
}
