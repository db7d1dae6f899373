/* Lesson 04, part one (solution): gather on the runtime's task group, first-completed on
 * aio_join_any(). The group does the error policy: a child that returns an error cancels its
 * siblings, and the wait returns only when every child has ended. */
#include "gather.h"

#include <errno.h>
#include <stdlib.h>

/* return_exceptions=True: the error stays in the reply; the group never sees one. */
static int fetch_keep_going(void *arg)
{
    reply_fetch(arg);
    return 0;
}

int gather(aio_http *c, struct reply *r, size_t n, enum gather_policy policy, int64_t deadline)
{
    aio_fn body;
    aio_group *g;
    int rc = 0;

    if (policy == GATHER_FIRST_ERROR)
        body = reply_fetch;
    else if (policy == GATHER_RETURN_ERRORS)
        body = fetch_keep_going;
    else
        return -EINVAL;
    g = aio_group_new();
    if (g == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        reply_prepare(&r[i], c, deadline);
    /* Each task writes its own r[i]: the order of the answers cannot move them. */
    for (size_t i = 0; i < n; i++) {
        if (aio_group_spawn(g, body, &r[i]) == NULL) {
            rc = -ENOMEM;
            aio_group_cancel(g);
            break;
        }
    }
    /* Every child ended, whatever happened: none outlives the call. */
    int first_error = aio_group_wait(g, AIO_NEVER);
    aio_group_free(g);
    return rc < 0 ? rc : first_error;
}

/* No useful answer: the deadline, or every mirror failed. */
static int no_answer(const struct reply *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].rc == -ETIMEDOUT)
            return -ETIMEDOUT;
    return -EIO;
}

int first_completed(aio_http *c, struct reply *r, size_t n, int64_t deadline)
{
    aio_task **t;
    size_t spawned = 0;
    int winner = -1, rc = 0;

    if (n == 0)
        return -EINVAL;
    t = calloc(n, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        reply_prepare(&r[i], c, deadline);
    for (; spawned < n; spawned++) {
        t[spawned] = aio_spawn(reply_fetch, &r[spawned]);
        if (t[spawned] == NULL) {
            rc = -ENOMEM;
            break;
        }
    }
    /* As they come: a joined slot is cleared, so aio_join_any() names the next one. */
    while (rc == 0) {
        int i = aio_join_any(t, spawned, AIO_NEVER);
        if (i < 0) {
            if (i != -EINVAL)
                rc = i;         /* the caller was cancelled */
            break;              /* -EINVAL: every slot cleared, no useful answer */
        }
        aio_join(t[i], AIO_NEVER);
        t[i] = NULL;
        if (reply_useful(&r[i])) {
            winner = i;
            break;
        }
    }
    /* The losers: cancel them all, then wait for each (their transfers are removed). */
    for (size_t i = 0; i < spawned; i++)
        if (t[i] != NULL)
            aio_cancel(t[i]);
    for (size_t i = 0; i < spawned; i++)
        if (t[i] != NULL)
            aio_join(t[i], AIO_NEVER);
    free(t);
    if (rc < 0)
        return rc;
    return winner >= 0 ? winner : no_answer(r, n);
}
