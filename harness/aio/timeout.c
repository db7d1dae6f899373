/* timeout.c: asyncio.wait_for() on the runtime's join and cancel, and the runtime's own
 * accounting of what a loop holds open (the witness that a timeout left nothing running). */
#include "aio_internal.h"

#include <errno.h>
#include <stddef.h>

/* Wait for t until the deadline; past it, cancel t and wait, immune to a cancellation of our
 * own, until t has really ended: its clean-up (removing a transfer, closing a descriptor) is
 * over before we return, and t is joined on every path. */
int aio_wait_for(aio_task *t, int64_t deadline)
{
    struct aio__loop *L;
    aio_task *self;
    int why = aio__may_wait(&L, &self, "aio_wait_for");

    if (why == -EPERM)
        return why;
    if (aio_done(t))                    /* checks the handle; finished: its result */
        return aio_join(t, AIO_NEVER);
    if (t == self)
        return -EDEADLK;
    if (t == L->main || t->joiner != NULL)
        return aio_join(t, deadline);   /* the misuse report, or -EBUSY */
    if (why == 0) {
        t->joiner = self;
        why = aio__wait(L, AIO__W_OTHER, AIO__C_WAIT_FOR, (int64_t)t->id, deadline, false);
        t->joiner = NULL;
    }
    if (t->state == AIO__DONE)          /* in time, or in the same pass as the deadline */
        return aio_join(t, AIO_NEVER);
    aio_cancel(t);
    t->joiner = self;
    while (t->state != AIO__DONE)
        aio__wait(L, AIO__W_OTHER, AIO__C_WAIT_FOR, (int64_t)t->id, AIO_NEVER, true);
    t->joiner = NULL;
    aio_join(t, AIO_NEVER);             /* frees t; its -ECANCELED is not the news */
    return self->cancelled ? -ECANCELED : why;
}

/* ---- accounting --------------------------------------------------------------------------- */

static _Thread_local struct aio_counts aio__last_counts;
static _Thread_local bool aio__have_last;

static void aio__counts_fill(const struct aio__loop *L, struct aio_counts *out)
{
    size_t tasks = 0;

    for (const aio_task *t = L->all; t != NULL; t = t->all_next)
        tasks += t != L->main;
    out->tasks = tasks;
    out->timers = L->heap_len;
    out->descriptors = L->nwatch_active;
    out->operations = L->pending;
}

void aio__counts_record(const struct aio__loop *L)
{
    aio__counts_fill(L, &aio__last_counts);
    aio__have_last = true;
}

int aio_counts(struct aio_counts *out)
{
    struct aio__loop *L = aio__loop_get();

    if (L == NULL)
        return -EPERM;
    aio__counts_fill(L, out);
    return 0;
}

int aio_counts_at_end(struct aio_counts *out)
{
    if (!aio__have_last)
        return -ENOENT;
    *out = aio__last_counts;
    return 0;
}
